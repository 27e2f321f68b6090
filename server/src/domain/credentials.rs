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
    provider::{CREDENTIAL_FIELD_MAX, Provider, matches_pattern},
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

/// Builds the new revision: `previous` (if any) with non-blank submitted
/// fields replacing stored ones. Reports required fields still missing.
pub fn merge(submitted: Submitted, previous: Option<SecretFields>, violations: &mut Violations) -> SecretFields {
    let mut merged = previous.unwrap_or_default();
    for (name, value) in submitted.fields {
        if !value.expose_secret().is_empty() {
            merged.insert(name, value);
        }
    }
    // Keep only fields the catalogue knows, so nothing unexpected is stored.
    merged.retain(|name, _| submitted.provider.field(name).is_some());
    for spec in submitted.provider.fields() {
        let present = merged.get(spec.name).is_some_and(|v| !v.expose_secret().is_empty());
        if spec.required && !present {
            violations.push(format!("{}.{}", submitted.branch, spec.name), "is required on the first completion");
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
    match text("private_key") {
        Some(pem)
            if pem.trim_start().starts_with("-----BEGIN PRIVATE KEY-----")
                && pem.contains("-----END PRIVATE KEY-----") => {}
        _ => return Err("must have a PEM \"private_key\" (-----BEGIN PRIVATE KEY-----)".into()),
    }
    if text("project_id").is_none() {
        return Err("must have a \"project_id\"".into());
    }
    Ok(())
}

/// Wraps plain strings as a submitted field map (used by request conversion).
pub fn fields<const N: usize>(pairs: [(&str, String); N]) -> SecretFields {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), SecretString::from(v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = r#"{"type":"service_account","project_id":"p","client_email":"a@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n"}"#;

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
        assert!(check_service_account_key(KEY).is_ok());
        for bad in [
            "not json",
            "[]",
            &KEY.replace("service_account", "user"),
            &KEY.replace("a@p", "ap"),
            &KEY.replace("BEGIN PRIVATE", "BEGIN PUBLIC"),
            &KEY.replace(r#""project_id":"p","#, ""),
        ] {
            assert!(check_service_account_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn oversized_fields_are_refused() {
        let mut v = Violations::default();
        check_formats(&azure("", &"x".repeat(CREDENTIAL_FIELD_MAX + 1)), &mut v);
        assert_eq!(v.into_vec()[0].field, "azure.client_secret");
    }
}
