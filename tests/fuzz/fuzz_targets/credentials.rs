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
    // No description quotes a value. Checked for values holding a control
    // character: the fixed text holds none, so such a value can only be in a
    // description if it was echoed (a value without one may spell part of
    // the fixed text: "arn:aws:ia", "must be a GUID", "1–128 letters").
    let marked = |v: &String| v.len() >= 8 && v.chars().any(char::is_control);
    for v in violations.into_vec() {
        for value in values.iter().filter(|v| marked(v)) {
            assert!(!v.description.contains(value.as_str()), "a violation quoted the submitted value");
        }
    }
});
