//! Scope lists and the credential patterns' matcher: bounded work and no
//! panic whatever the list or the value.
#![no_main]

use cloudconn_server::domain::{
    Violations,
    provider::{Provider, check_scopes, matches_pattern},
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let scopes: Vec<String> = text.split(',').map(str::to_owned).collect();
    for provider in [Provider::Aws, Provider::Gcp, Provider::Azure, Provider::MongodbAtlas, Provider::Neo4jAura] {
        let mut violations = Violations::default();
        check_scopes(provider, "scopes", &scopes, &mut violations);
        if violations.is_empty() {
            assert!(scopes.iter().all(|s| provider.allowed_scopes().contains(&s.as_str())));
        }
        for spec in provider.fields() {
            if let Some(pattern) = spec.pattern {
                let _ = matches_pattern(pattern, &text);
            }
        }
    }
});
