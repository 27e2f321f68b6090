//! The setup kit (docs/setup-kit.md): for one connection, the ordered steps a
//! customer follows at the provider, each with artifacts to copy as they
//! are — policies, templates, scripts — generated for the connection's
//! provider, scopes and external id from the one permission table
//! (`cloudconn_infra::permissions`) the probes check. What the kit grants
//! is therefore exactly what validation proves, never more.
//!
//! Every value goes into an artifact through the encoder of its format:
//! JSON through `serde_json`, YAML scalars as JSON strings (a valid YAML
//! double-quoted scalar), shell words single-quoted ([`sh`]). Free text the
//! user chose (display name, description) is never interpolated at all.

mod aws;
mod azure;
mod gcp;
mod keyless;
mod saas;

use cloudconn_proto::v1 as pb;

use crate::{domain::provider::Provider, error::AppError, store::entities::connections};

/// What the kit needs from the deployment.
#[derive(Debug, Clone, Default)]
pub struct SetupConfig {
    /// `CLOUDCONN_AWS_PLATFORM_PRINCIPAL`: the AWS principal the workers
    /// assume roles as, which a role's trust policy must name.
    pub aws_platform_principal: Option<String>,
    /// `CLOUDCONN_EGRESS_ADDRESSES`: the workers' public addresses, for
    /// access lists (Atlas).
    pub egress_addresses: Vec<String>,
    /// The OpenID Connect issuer (`CLOUDCONN_OIDC_ISSUER`, or `--dev`'s
    /// own): the keyless kits name it.
    pub oidc_issuer: Option<String>,
    /// `CLOUDCONN_OIDC_AWS_AUDIENCE`.
    pub aws_audience: String,
}

/// The connection the kit is for.
pub struct Target<'a> {
    pub workspace: &'a str,
    pub tag: &'a str,
    pub provider: Provider,
    pub scopes: &'a [String],
    pub external_id: Option<&'a str>,
    /// Non-secret credential fields already saved (e.g. GCP `project_id`),
    /// used as the scripts' defaults.
    pub saved: &'a serde_json::Map<String, serde_json::Value>,
    /// For a keyless kind: what the customer's trust names.
    pub keyless: Option<keyless::Trust<'a>>,
}

impl Target<'_> {
    fn saved(&self, field: &str) -> Option<&str> {
        self.saved.get(field).and_then(|v| v.as_str()).filter(|v| !v.is_empty())
    }

    /// The scopes in the provider's table order, each with what it needs.
    fn scope_permissions(&self) -> Vec<(&'static str, &'static [&'static str])> {
        cloudconn_infra::permissions::table(self.provider.as_str())
            .iter()
            .filter(|entry| self.scopes.iter().any(|s| s == entry.scope))
            .map(|entry| (entry.scope, entry.permissions))
            .collect()
    }

    /// The last step of every kit: saving the credentials in cloudconn.
    fn save_command(&self) -> String {
        format!("cloudconn connections complete {} --workspace {}", sh(self.tag), sh(self.workspace))
    }
}

pub struct Kit {
    pub steps: Vec<Step>,
}

pub struct Step {
    pub title: String,
    /// Markdown.
    pub text: String,
    pub artifacts: Vec<Artifact>,
}

pub struct Artifact {
    pub name: String,
    pub media_type: &'static str,
    pub content: String,
}

/// Why no kit could be made.
#[derive(Debug)]
pub enum SetupError {
    /// A deployment setting the kit needs is missing (operators' problem).
    NotConfigured(&'static str),
}

/// The kit for `target`.
pub fn kit(target: &Target<'_>, config: &SetupConfig) -> Result<Kit, SetupError> {
    if let Some(trust) = &target.keyless {
        let steps = match target.provider {
            Provider::Aws => keyless::aws_steps(target, trust),
            Provider::Gcp => keyless::gcp_steps(target, trust),
            Provider::Azure => keyless::azure_steps(target, trust),
            // No keyless kind: `instructions` never asks for one.
            Provider::MongodbAtlas | Provider::Neo4jAura => Vec::new(),
        };
        return Ok(Kit { steps });
    }
    Ok(Kit {
        steps: match target.provider {
            Provider::Aws => aws::steps(
                target,
                config
                    .aws_platform_principal
                    .as_deref()
                    .ok_or(SetupError::NotConfigured("CLOUDCONN_AWS_PLATFORM_PRINCIPAL"))?,
            ),
            Provider::Gcp => gcp::steps(target),
            Provider::Azure => azure::steps(target),
            Provider::MongodbAtlas => saas::atlas_steps(target, &config.egress_addresses),
            Provider::Neo4jAura => saas::aura_steps(target),
        },
    })
}

/// `GetSetupInstructions`: the kit of the connection in `row`, for `kind`
/// (blank: the saved kind, else the provider's default).
pub fn instructions(
    row: &connections::Model,
    config: &SetupConfig,
    kind: &str,
) -> Result<pb::SetupInstructions, AppError> {
    let provider = Provider::from_db(&row.provider)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown provider {:?} in the row", row.provider)))?;
    let scopes = row.scopes();
    let saved: serde_json::Map<String, serde_json::Value> =
        row.credential_fields().into_iter().map(|(name, value)| (name, value.into())).collect();
    let kind = match kind {
        "" => {
            saved.get("kind").and_then(|k| k.as_str()).and_then(|k| provider.kind(k)).unwrap_or(provider.default_kind())
        }
        asked => provider.kind(asked).ok_or_else(|| {
            let names: Vec<&str> = provider.kinds().iter().map(|k| k.name).collect();
            AppError::InvalidArgument(vec![crate::domain::FieldViolation::new(
                "kind",
                format!("must be one of {}'s kinds: {}", provider.as_str(), names.join(", ")),
            )])
        })?,
    };
    let keyless = match (kind.keyless, &config.oidc_issuer) {
        (false, _) => None,
        (true, Some(issuer)) => Some(keyless::Trust {
            issuer,
            subject: cloudconn_infra::oidc::subject_of(&row.workspace, &row.id.to_string()),
            aws_audience: &config.aws_audience,
        }),
        (true, None) => {
            return Err(AppError::FailedPrecondition {
                reason: "SETUP_NOT_CONFIGURED",
                message: format!(
                    "the {} kind needs this cloudconn deployment to be an OpenID Connect issuer: its operators have \
                     not set CLOUDCONN_OIDC_ISSUER",
                    kind.name
                ),
            });
        }
    };
    let target = Target {
        workspace: &row.workspace,
        tag: &row.tag,
        provider,
        scopes: &scopes,
        external_id: row.external_id.as_deref(),
        saved: &saved,
        keyless,
    };
    let kit = kit(&target, config).map_err(|SetupError::NotConfigured(variable)| AppError::FailedPrecondition {
        reason: "SETUP_NOT_CONFIGURED",
        message: format!(
            "this cloudconn deployment cannot generate the {} setup kit: its operators have not set {variable}",
            provider.display_name()
        ),
    })?;
    Ok(pb::SetupInstructions {
        tag: row.tag.clone(),
        provider: crate::view::provider_to_proto(provider).into(),
        scopes,
        steps: kit
            .steps
            .into_iter()
            .map(|step| pb::SetupStep {
                title: step.title,
                text: step.text,
                artifacts: step
                    .artifacts
                    .into_iter()
                    .map(|a| pb::SetupArtifact {
                        name: a.name,
                        media_type: a.media_type.to_owned(),
                        content: a.content,
                    })
                    .collect(),
            })
            .collect(),
    })
}

fn step(title: &str, text: impl Into<String>, artifacts: Vec<Artifact>) -> Step {
    Step { title: title.to_owned(), text: text.into(), artifacts }
}

fn json_artifact(name: &str, value: &serde_json::Value) -> Artifact {
    let content = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    Artifact { name: name.to_owned(), media_type: "application/json", content }
}

fn yaml_artifact(name: &str, content: String) -> Artifact {
    Artifact { name: name.to_owned(), media_type: "application/yaml", content }
}

/// A runnable script: strict mode, then `lines`.
fn script(name: &str, lines: &[String]) -> Artifact {
    let mut content = String::from("#!/usr/bin/env bash\nset -euo pipefail\n");
    for line in lines {
        content.push_str(line);
        content.push('\n');
    }
    Artifact { name: name.to_owned(), media_type: "application/x-sh", content }
}

/// `value` as one shell word: single quotes, each `'` closed, escaped and
/// reopened. Nothing inside single quotes is special to the shell.
pub fn sh(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// `value` as a YAML double-quoted scalar (JSON's string syntax is one).
fn yaml_str(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

/// `value` as a JSON document on one line, for a YAML flow mapping.
fn yaml_flow(value: &serde_json::Value) -> String {
    value.to_string()
}

/// A provider resource name from the tag: lower case, `-` for anything
/// else, at most `max` characters, starting with a letter.
fn resource_name(prefix: &str, tag: &str, separator: char, max: usize) -> String {
    let mut name: String = format!("{prefix}{separator}{tag}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { separator })
        .collect();
    name.truncate(max);
    name.trim_end_matches(separator).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_cannot_be_broken_out_of() {
        assert_eq!(sh("plain"), "'plain'");
        assert_eq!(sh("it's"), r"'it'\''s'");
        assert_eq!(sh("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn resource_names_keep_to_the_providers_alphabet() {
        assert_eq!(resource_name("cloudconn", "prod_aws", '-', 64), "cloudconn-prod-aws");
        assert_eq!(resource_name("cloudconn", "a_very_long_tag_name_indeed", '-', 20), "cloudconn-a-very-lon");
    }
}
