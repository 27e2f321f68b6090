//! Credential values for `complete`: non-secret fields from `--field`,
//! any field from `--from-file` (a JSON object; `-` is stdin), and a hidden
//! prompt for each required secret still missing. Secrets never come from
//! argv (shell history, `ps`), and no message here repeats a value.

use std::{collections::BTreeMap, io::IsTerminal, io::Read, path::Path};

use cloudconn_proto::v1::{self as pb, complete_connection_request::Credentials};

use crate::{exit::Failure, output::provider_word};

/// Where the values come from, as given on the command line.
pub struct Sources<'a> {
    /// `NAME=VALUE` pairs from `--field`.
    pub fields: &'a [String],
    /// `--from-file`; `-` reads stdin.
    pub from_file: Option<&'a Path>,
}

/// Gathers the values and builds the provider's credentials message.
/// `secrets_set`: the secret fields the server already holds (blank keeps
/// them, so they are not prompted for); `stored_kind`: the saved credential
/// kind ("" before the first save).
pub fn collect(
    spec: &pb::ProviderSpec,
    secrets_set: &[String],
    stored_kind: &str,
    sources: &Sources,
) -> Result<Credentials, Failure> {
    let known = |name: &str| -> Result<&pb::FieldSpec, Failure> {
        spec.fields.iter().find(|f| f.name == name).ok_or_else(|| {
            let names: Vec<&str> = spec.fields.iter().map(|f| f.name.as_str()).collect();
            Failure::usage(format!(
                "{name:?} is not a {} field; its fields are: {}",
                provider_word(spec.provider()),
                names.join(", ")
            ))
        })
    };

    // The flags first: a refused secret fails before any file is read or
    // prompt shown.
    let mut from_flags = Vec::new();
    for pair in sources.fields {
        let (name, value) = pair.split_once('=').ok_or_else(|| Failure::usage("--field takes NAME=VALUE"))?;
        if known(name)?.secret {
            return Err(Failure::usage(format!(
                "{name} is a secret field and is refused on the command line (it would land in shell history \
                 and `ps`): put it in a JSON file and pass --from-file FILE (or - for stdin), or leave it out \
                 to be prompted for it"
            )));
        }
        from_flags.push((name.to_owned(), value.to_owned()));
    }

    let mut values = BTreeMap::new();
    let stdin_used = sources.from_file.is_some_and(|p| p == Path::new("-"));
    if let Some(path) = sources.from_file {
        for (name, value) in read_file(path)? {
            known(&name)?;
            values.insert(name, value);
        }
    }
    // A flag overrides the file: the file is the set of defaults.
    values.extend(from_flags);

    // Only the secrets of the kind being saved: a keyless kind has none. No
    // `kind` given: the stored one, else (a first save) the default.
    let kind = values
        .get("kind")
        .filter(|k| !k.is_empty())
        .cloned()
        .or_else(|| (!stored_kind.is_empty()).then(|| stored_kind.to_owned()))
        .unwrap_or_else(|| spec.default_kind.clone());
    let used =
        |name: &str| spec.kinds.iter().find(|k| k.name == kind).is_none_or(|k| k.fields.iter().any(|f| f == name));
    for field in spec.fields.iter().filter(|f| f.secret && f.required && used(&f.name)) {
        if values.contains_key(&field.name) || secrets_set.contains(&field.name) {
            continue;
        }
        if stdin_used || !std::io::stdin().is_terminal() {
            return Err(Failure::usage(format!(
                "{} is required and there is no terminal to prompt on: give it with --from-file FILE (or -)",
                field.name
            )));
        }
        let prompt = format!("{} ({}, hidden): ", field.name, field.description.trim_end_matches('.'));
        let value = rpassword::prompt_password(prompt)?;
        values.insert(field.name.clone(), value);
    }
    build(spec.provider(), values)
}

/// The JSON object in `path` (or stdin), each value a string; an object
/// (a service account key pasted as JSON) is kept as its JSON text.
fn read_file(path: &Path) -> Result<BTreeMap<String, String>, Failure> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?
    };
    // serde_json's errors give a line and column, never the text.
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| Failure::usage(format!("{} is not a JSON object of credential fields: {e}", display(path))))?;
    object
        .into_iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(s) => Ok((name, s)),
            serde_json::Value::Object(_) => Ok((name, value.to_string())),
            _ => Err(Failure::usage(format!("{}: {name} must be a string", display(path)))),
        })
        .collect()
}

fn display(path: &Path) -> String {
    if path == Path::new("-") { "stdin".into() } else { path.display().to_string() }
}

/// The provider's typed message; a field not given stays blank, which the
/// server reads as "keep the stored value".
fn build(provider: pb::Provider, mut values: BTreeMap<String, String>) -> Result<Credentials, Failure> {
    let mut take = |name: &str| values.remove(name).unwrap_or_default();
    Ok(match provider {
        pb::Provider::Aws => Credentials::Aws(pb::AwsCredentials { role_arn: take("role_arn"), kind: take("kind") }),
        pb::Provider::Gcp => Credentials::Gcp(pb::GcpCredentials {
            project_id: take("project_id"),
            service_account_json: take("service_account_json"),
            kind: take("kind"),
            workload_identity_provider: take("workload_identity_provider"),
            service_account_email: take("service_account_email"),
        }),
        pb::Provider::Azure => Credentials::Azure(pb::AzureCredentials {
            tenant_id: take("tenant_id"),
            subscription_id: take("subscription_id"),
            client_id: take("client_id"),
            client_secret: take("client_secret"),
            kind: take("kind"),
        }),
        pb::Provider::MongodbAtlas => Credentials::MongodbAtlas(pb::MongoDbAtlasCredentials {
            project_id: take("project_id"),
            atlas_public_key: take("atlas_public_key"),
            atlas_private_key: take("atlas_private_key"),
        }),
        pb::Provider::Neo4jAura => Credentials::Neo4jAura(pb::Neo4jAuraCredentials {
            aura_client_id: take("aura_client_id"),
            aura_client_secret: take("aura_client_secret"),
        }),
        pb::Provider::Unspecified => return Err(Failure::Other("the connection has no provider".into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn azure() -> pb::ProviderSpec {
        let field =
            |name: &str, secret| pb::FieldSpec { name: name.into(), secret, required: true, ..Default::default() };
        pb::ProviderSpec {
            provider: pb::Provider::Azure.into(),
            fields: vec![field("tenant_id", false), field("client_id", false), field("client_secret", true)],
            ..Default::default()
        }
    }

    #[test]
    fn a_secret_on_the_command_line_is_refused_without_repeating_it() {
        let fields = ["client_secret=hunter2-canary".to_owned()];
        let sources = Sources { fields: &fields, from_file: None };
        let Err(Failure::Usage(message)) = collect(&azure(), &[], "", &sources) else { panic!("refused") };
        assert!(message.contains("client_secret") && message.contains("--from-file"), "{message}");
        assert!(!message.contains("hunter2"), "the value is never echoed: {message}");
    }

    /// Azure with its two kinds, the secret one the default.
    fn azure_with_kinds() -> pb::ProviderSpec {
        let kind = |name: &str, keyless, fields: &[&str]| pb::CredentialKindSpec {
            name: name.into(),
            keyless,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            ..Default::default()
        };
        pb::ProviderSpec {
            kinds: vec![
                kind("federated", true, &["tenant_id", "client_id"]),
                kind("client_secret", false, &["tenant_id", "client_id", "client_secret"]),
            ],
            default_kind: "client_secret".into(),
            ..azure()
        }
    }

    #[test]
    fn a_keyless_connection_is_saved_again_without_a_secret_or_its_kind() {
        // No terminal in tests: a prompt would be an error, so none was needed.
        let fields = ["tenant_id=t".to_owned()];
        let sources = Sources { fields: &fields, from_file: None };
        let creds = collect(&azure_with_kinds(), &[], "federated", &sources).expect("no secret asked for");
        let Credentials::Azure(azure) = creds else { panic!("azure") };
        assert_eq!((azure.tenant_id.as_str(), azure.kind.as_str()), ("t", ""), "a blank kind keeps the stored one");
        // A first save of the default kind still needs its secret.
        let Err(Failure::Usage(message)) = collect(&azure_with_kinds(), &[], "", &sources) else { panic!("asked") };
        assert!(message.contains("client_secret"), "{message}");
    }

    #[test]
    fn stored_secrets_are_kept_by_leaving_them_blank() {
        let fields = ["tenant_id=t".to_owned()];
        let sources = Sources { fields: &fields, from_file: None };
        let creds = collect(&azure(), &["client_secret".into()], "", &sources).expect("no prompt needed");
        let Credentials::Azure(azure) = creds else { panic!("azure") };
        assert_eq!((azure.tenant_id.as_str(), azure.client_secret.as_str()), ("t", ""));
    }

    #[test]
    fn unknown_fields_name_the_providers_fields() {
        let fields = ["role_arn=x".to_owned()];
        let sources = Sources { fields: &fields, from_file: None };
        let Err(Failure::Usage(message)) = collect(&azure(), &[], "", &sources) else { panic!("refused") };
        assert!(message.contains("tenant_id, client_id, client_secret"), "{message}");
    }
}
