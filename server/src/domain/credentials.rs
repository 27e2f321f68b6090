//! Checking submitted credentials and merging them with the stored revision.
//!
//! A `CompleteConnection` carries a provider's credentials message. A blank
//! field keeps the stored value ("leave secret fields blank to keep them"),
//! so a new revision is the previous one with the non-blank fields replaced.
//! On the first completion there is nothing to keep, so every required field
//! must be present.
//!
//! Descriptions in violations never quote the submitted value: a secret
//! pasted into the wrong field must not come back in an error.

use std::collections::BTreeMap;

use cloudconn_infra::secrets::SecretFields;
use secrecy::{ExposeSecret, SecretString};

use super::{
    Violations,
    kinds::KindSpec,
    provider::{CREDENTIAL_FIELD_MAX, KIND_FIELD, Provider, matches_pattern},
};

/// Credentials as submitted: the provider of the oneof branch, the branch's
/// name in the request (for violation paths), and each field (blank = keep).
pub struct Submitted {
    pub provider: Provider,
    /// Name of the oneof branch, e.g. `aws`, `mongodb_atlas`.
    pub branch: &'static str,
    pub fields: SecretFields,
}

/// What the connection shows about a revision: non-secret values and the
/// names of the secret fields that are set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialsView {
    pub fields: BTreeMap<String, String>,
    pub secret_fields_set: Vec<String>,
}

/// Checks the format of every non-blank submitted field.
pub fn check_formats(submitted: &Submitted, violations: &mut Violations) {
    for spec in submitted.provider.fields() {
        let Some(value) = submitted.fields.get(spec.name) else { continue };
        let value = value.expose_secret();
        if value.is_empty() {
            continue;
        }
        let path = format!("{}.{}", submitted.branch, spec.name);
        if value.len() > CREDENTIAL_FIELD_MAX {
            violations.push(path, format!("must be at most {CREDENTIAL_FIELD_MAX} bytes"));
            continue;
        }
        if let Some(pattern) = spec.pattern {
            if !matches_pattern(pattern, value) {
                violations.push(path, format!("must be {}", spec.format.unwrap_or(pattern)));
                continue;
            }
        }
        if submitted.provider == Provider::Gcp && spec.name == "service_account_json" {
            if let Err(problem) = check_service_account_key(value) {
                violations.push(path, problem);
            }
        }
    }
}

/// The kind a stored revision signs in with: its `kind` field, or (a
/// revision saved before kinds existed) the provider's default.
pub fn kind_of(provider: Provider, fields: &SecretFields) -> &'static KindSpec {
    fields.get(KIND_FIELD).and_then(|k| provider.kind(k.expose_secret())).unwrap_or_else(|| provider.default_kind())
}

/// Builds the new revision: `previous` (if any) with non-blank submitted
/// fields replacing stored ones, holding exactly the fields of its kind
/// (the submitted kind, else the stored one, else the default). Reports
/// required fields still missing, and submitted fields the kind does not
/// use. A switch of kind keeps none of the stored fields the new kind does
/// not use: a secret left behind by a switch to a keyless kind would be
/// exactly what keyless means not to hold.
pub fn merge(submitted: Submitted, previous: Option<SecretFields>, violations: &mut Violations) -> SecretFields {
    let provider = submitted.provider;
    let branch = submitted.branch;
    let first = previous.is_none();
    let mut merged = previous.unwrap_or_default();
    let asked = submitted.fields.get(KIND_FIELD).map(|k| k.expose_secret().to_owned()).filter(|k| !k.is_empty());
    let kind = match &asked {
        Some(name) => match provider.kind(name) {
            Some(kind) => kind,
            None => {
                let names: Vec<&str> = provider.kinds().iter().map(|k| k.name).collect();
                violations.push(format!("{branch}.{KIND_FIELD}"), format!("must be one of: {}", names.join(", ")));
                return merged;
            }
        },
        None if first => provider.default_kind(),
        None => kind_of(provider, &merged),
    };
    for (name, value) in submitted.fields {
        if value.expose_secret().is_empty() || name == KIND_FIELD {
            continue;
        }
        if !kind.fields.contains(&name.as_str()) {
            violations.push(format!("{branch}.{name}"), format!("is not used by kind {}; leave it blank", kind.name));
            continue;
        }
        merged.insert(name, value);
    }
    // Only the kind's fields (and nothing the catalogue does not know).
    merged.retain(|name, _| kind.fields.contains(&name.as_str()));
    if provider.field(KIND_FIELD).is_some() {
        merged.insert(KIND_FIELD.to_owned(), SecretString::from(kind.name.to_owned()));
    }
    for spec in provider.fields().iter().filter(|f| kind.fields.contains(&f.name)) {
        let present = merged.get(spec.name).is_some_and(|v| !v.expose_secret().is_empty());
        if spec.required && !present {
            let why = if kind.name == provider.default_kind().name {
                "is required on the first completion".to_owned()
            } else {
                format!("is required for kind {}", kind.name)
            };
            violations.push(format!("{branch}.{}", spec.name), why);
        }
    }
    merged
}

/// The non-secret view of a revision.
pub fn view(provider: Provider, fields: &SecretFields) -> CredentialsView {
    let mut view = CredentialsView::default();
    for spec in provider.fields() {
        let Some(value) = fields.get(spec.name) else { continue };
        if value.expose_secret().is_empty() {
            continue;
        }
        if spec.secret {
            view.secret_fields_set.push(spec.name.to_owned());
        } else {
            view.fields.insert(spec.name.to_owned(), value.expose_secret().to_owned());
        }
    }
    view
}

/// Checks the structure of a GCP service account key file. The messages
/// describe what is missing without quoting the file.
fn check_service_account_key(json: &str) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|_| "must be a service account key file in JSON".to_owned())?;
    let object = value.as_object().ok_or("must be a JSON object")?;
    let text = |key: &str| object.get(key).and_then(|v| v.as_str()).filter(|s| !s.is_empty());
    if text("type") != Some("service_account") {
        return Err("must have \"type\": \"service_account\"".into());
    }
    match text("client_email") {
        Some(email) if email.contains('@') => {}
        _ => return Err("must have a \"client_email\"".into()),
    }
    check_private_key(text("private_key").unwrap_or_default())?;
    if text("project_id").is_none() {
        return Err("must have a \"project_id\"".into());
    }
    Ok(())
}

/// Largest RSA key accepted in a service account key file, in bits. Google
/// issues 2048-bit keys. A worker signs with the key on every validation,
/// and RS256 signing time grows with about the cube of the size (8192 bits:
/// ~54 ms; a 16 KiB field fits ~20 kbit, most of a second).
pub const GCP_KEY_BITS_MAX: usize = 4096;

/// The key file's `private_key` must be an RSA private key in PKCS#8 PEM,
/// as Google issues it, of at most [`GCP_KEY_BITS_MAX`] bits.
fn check_private_key(pem: &str) -> Result<(), String> {
    use rsa::pkcs8::{PrivateKeyInfo, SecretDocument};
    let refused = || {
        "must have a \"private_key\" that is an RSA private key in PKCS#8 PEM \
         (-----BEGIN PRIVATE KEY-----), as in the key file Google issues"
            .to_owned()
    };
    let (label, document) = SecretDocument::from_pem(pem.trim()).map_err(|_| refused())?;
    if label != "PRIVATE KEY" {
        return Err(refused());
    }
    let info: PrivateKeyInfo<'_> = document.decode_msg().map_err(|_| refused())?;
    if info.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
        return Err(refused());
    }
    // The size first, from the encoded modulus: the full parse below does
    // big-number work that grows with the key.
    let modulus = rsa::pkcs1::RsaPrivateKey::try_from(info.private_key).map_err(|_| refused())?.modulus;
    let bits = match modulus.as_bytes() {
        [first, rest @ ..] => rest.len() * 8 + (8 - first.leading_zeros() as usize),
        [] => 0,
    };
    if bits > GCP_KEY_BITS_MAX {
        return Err(format!(
            "must have an RSA \"private_key\" of at most {GCP_KEY_BITS_MAX} bits (this one has {bits}); \
             Google issues 2048-bit keys"
        ));
    }
    // A consistent key (primes multiply to the modulus, and so on).
    rsa::RsaPrivateKey::try_from(info).map_err(|_| refused())?;
    Ok(())
}

/// Wraps plain strings as a submitted field map (used by request conversion).
pub fn fields<const N: usize>(pairs: [(&str, String); N]) -> SecretFields {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), SecretString::from(v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = include_str!("../../../tests/fixtures/gcp-test-key.pem");
    const OVERSIZED_PEM: &str = include_str!("../../../tests/fixtures/gcp-oversized-key.pem");

    fn key_file(private_key: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "p",
            "client_email": "a@p.iam.gserviceaccount.com",
            "private_key": private_key,
        })
        .to_string()
    }

    fn azure(tenant: &str, secret: &str) -> Submitted {
        Submitted {
            provider: Provider::Azure,
            branch: "azure",
            fields: fields([
                ("tenant_id", tenant.into()),
                ("subscription_id", "".into()),
                ("client_id", "".into()),
                ("client_secret", secret.into()),
            ]),
        }
    }

    #[test]
    fn first_completion_needs_every_required_field() {
        let mut v = Violations::default();
        merge(azure("00000000-0000-0000-0000-000000000000", "s"), None, &mut v);
        let fields: Vec<_> = v.into_vec().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["azure.subscription_id", "azure.client_id"]);
    }

    #[test]
    fn blank_fields_keep_the_stored_value() {
        let previous = fields([
            ("tenant_id", "11111111-1111-1111-1111-111111111111".into()),
            ("subscription_id", "22222222-2222-2222-2222-222222222222".into()),
            ("client_id", "33333333-3333-3333-3333-333333333333".into()),
            ("client_secret", "old".into()),
        ]);
        let mut v = Violations::default();
        let merged = merge(azure("", "new"), Some(previous), &mut v);
        assert!(v.is_empty());
        assert_eq!(merged["client_secret"].expose_secret(), "new");
        assert_eq!(merged["tenant_id"].expose_secret(), "11111111-1111-1111-1111-111111111111");
        let view = view(Provider::Azure, &merged);
        assert_eq!(view.secret_fields_set, ["client_secret"]);
        assert!(!view.fields.values().any(|v| v == "new"));
    }

    #[test]
    fn formats_are_checked_without_echoing_values() {
        let mut v = Violations::default();
        check_formats(&azure("not-a-guid-canary", ""), &mut v);
        let v = v.into_vec();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].field, "azure.tenant_id");
        assert!(!v[0].description.contains("canary"));
    }

    #[test]
    fn service_account_key_structure() {
        let key = key_file(PEM);
        assert!(check_service_account_key(&key).is_ok());
        for bad in [
            "not json",
            "[]",
            &key.replace("service_account", "user"),
            &key.replace("a@p", "ap"),
            &key.replace(r#""project_id":"p","#, ""),
        ] {
            assert!(check_service_account_key(bad).is_err(), "{bad}");
        }
    }

    /// Security review L3: only a real RSA key in PKCS#8 PEM, of at most
    /// 4096 bits, is stored for a worker to sign with.
    #[test]
    fn service_account_private_keys_must_be_pkcs8_rsa_of_at_most_4096_bits() {
        assert_eq!(check_private_key(PEM), Ok(()));
        let oversized = check_private_key(OVERSIZED_PEM).unwrap_err();
        assert!(oversized.contains("at most 4096 bits (this one has 4104)"), "{oversized}");
        // Test-only P-256 key: PKCS#8, but not RSA.
        let ec = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFm4RgznXeCJPPjDu\n8CHC6L2BPKLCqJcBsbb2cKkyYX+hRANCAATZhPnJGX6L08r1mmxJGhnxjWfLAO84\nE95v9TKKSWiftiHWSBot6gIsE3pJGvE3f5QJL7s4NOK4jfmGTTvqtOvS\n-----END PRIVATE KEY-----\n";
        let pkcs1 =
            PEM.replace("BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY").replace("END PRIVATE KEY", "END RSA PRIVATE KEY");
        let mut truncated = PEM.lines().collect::<Vec<_>>();
        truncated.remove(5);
        for bad in [
            "",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMIIEv-canary-QIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
            &PEM.replace("BEGIN PRIVATE", "BEGIN PUBLIC"),
            &pkcs1,
            ec,
            &truncated.join("\n"),
        ] {
            let problem = check_private_key(bad).unwrap_err();
            assert!(problem.contains("RSA private key in PKCS#8 PEM"), "{bad:?}: {problem}");
            assert!(!problem.contains("canary"));
        }
    }

    #[test]
    fn oversized_fields_are_refused() {
        let mut v = Violations::default();
        check_formats(&azure("", &"x".repeat(CREDENTIAL_FIELD_MAX + 1)), &mut v);
        assert_eq!(v.into_vec()[0].field, "azure.client_secret");
    }

    #[test]
    fn a_switch_to_a_keyless_kind_keeps_no_secret() {
        let previous = fields([
            ("tenant_id", "11111111-1111-1111-1111-111111111111".into()),
            ("subscription_id", "22222222-2222-2222-2222-222222222222".into()),
            ("client_id", "33333333-3333-3333-3333-333333333333".into()),
            ("client_secret", "old".into()),
        ]);
        let mut switch = azure("", "");
        switch.fields.insert(KIND_FIELD.into(), SecretString::from("federated".to_owned()));
        let mut v = Violations::default();
        let merged = merge(switch, Some(previous), &mut v);
        assert!(v.is_empty());
        assert!(!merged.contains_key("client_secret"));
        assert_eq!(merged[KIND_FIELD].expose_secret(), "federated");
        assert_eq!(kind_of(Provider::Azure, &merged).name, "federated");
        // And a secret sent with a keyless kind is refused, naming the field.
        let mut with_secret = azure("11111111-1111-1111-1111-111111111111", "s");
        with_secret.fields.insert(KIND_FIELD.into(), SecretString::from("federated".to_owned()));
        let mut v = Violations::default();
        merge(with_secret, Some(merged), &mut v);
        let fields: Vec<_> = v.into_vec().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["azure.client_secret"]);
    }

    #[test]
    fn a_keyless_first_completion_needs_its_own_fields_and_names_the_kind() {
        let submitted = Submitted {
            provider: Provider::Gcp,
            branch: "gcp",
            fields: fields([("project_id", "my-project".into()), (KIND_FIELD, "workload_identity".into())]),
        };
        let mut v = Violations::default();
        merge(submitted, None, &mut v);
        let found: Vec<_> = v.into_vec().into_iter().map(|v| (v.field, v.description)).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "gcp.workload_identity_provider");
        assert_eq!(found[1].0, "gcp.service_account_email");
        assert!(found[0].1.contains("workload_identity"));
        // An unknown kind lists the provider's.
        let mut v = Violations::default();
        let unknown =
            Submitted { provider: Provider::Aws, branch: "aws", fields: fields([(KIND_FIELD, "oidc".into())]) };
        merge(unknown, None, &mut v);
        assert!(v.into_vec()[0].description.contains("web_identity, assume_role"));
    }
}
