//! Submitted credential fields (role ARNs, GUIDs, Atlas keys, the GCP key
//! file): every provider's format checks run on arbitrary values without a
//! panic, and no violation ever quotes the value (a secret pasted into the
//! wrong field must not come back in an error).
#![no_main]

use cloudconn_server::domain::{
    Violations,
    credentials::{Submitted, check_formats},
    provider::Provider,
};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

const PROVIDERS: [(Provider, &str); 5] = [
    (Provider::Aws, "aws"),
    (Provider::Gcp, "gcp"),
    (Provider::Azure, "azure"),
    (Provider::MongodbAtlas, "mongodb_atlas"),
    (Provider::Neo4jAura, "neo4j_aura"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let (provider, branch) = PROVIDERS[first as usize % PROVIDERS.len()];
    // The rest: one value per field of the provider, separated by NUL.
    let values: Vec<String> = rest.split(|b| *b == 0).map(|v| String::from_utf8_lossy(v).into_owned()).collect();
    let fields = provider
        .fields()
        .iter()
        .zip(values.iter())
        .map(|(spec, v)| (spec.name.to_owned(), SecretString::from(v.clone())))
        .collect();
    let submitted = Submitted { provider, branch, fields };
    let mut violations = Violations::default();
    check_formats(&submitted, &mut violations);
    for v in violations.into_vec() {
        for value in values.iter().filter(|v| v.len() >= 8) {
            assert!(!v.description.contains(value.as_str()), "a violation quoted the submitted value");
        }
    }
});
