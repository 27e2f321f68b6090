//! `cloudconn credentials issue <tag> --scope S --consumer C [--ttl 15m]
//! [-o json]`: short-lived credentials for one scope (the run step; the
//! token needs `connections:use`).
//!
//! By default it prints `export NAME='value'` lines for a shell or a
//! process manager — `eval "$(cloudconn credentials issue …)"` — with the
//! names each provider's own tools read, on a terminal and in a pipe alike
//! (`-o table` and `-o plain` too: there is no table of credentials).
//! `-o json` prints the proto3 JSON. Either way the secret goes to stdout
//! only, never to stderr or a file.

use std::time::Duration;

use cloudconn_proto::v1::{self as pb, issued_credentials::Credentials};

use crate::{args::OutputFormat, client::Client, exit::Failure, output};

pub async fn issue(
    client: &mut Client,
    tag: String,
    scope: String,
    consumer: String,
    ttl: Option<Duration>,
    format: OutputFormat,
) -> Result<(), Failure> {
    let ttl = ttl.map(|t| prost_types::Duration { seconds: t.as_secs() as i64, nanos: 0 });
    let request = pb::IssueCredentialsRequest { workspace: client.workspace.clone(), tag, scope, consumer, ttl };
    let issued = client.grpc.issue_credentials(request).await?.into_inner();
    match format {
        OutputFormat::Json => output::print_json(&issued, "cloudconn.v1.IssuedCredentials"),
        OutputFormat::Text => {
            for (name, value) in variables(&issued) {
                output::out!("export {name}={}", shell_quote(&value));
            }
            Ok(())
        }
    }
}

/// The variables for the credentials, in a stable order.
fn variables(issued: &pb::IssuedCredentials) -> Vec<(&'static str, String)> {
    let mut vars = match &issued.credentials {
        Some(Credentials::Aws(c)) => vec![
            ("AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", c.secret_access_key.clone()),
            ("AWS_SESSION_TOKEN", c.session_token.clone()),
            ("AWS_REGION", c.region.clone()),
            ("AWS_DEFAULT_REGION", c.region.clone()),
        ],
        // gcloud reads the first, Terraform's google provider the second.
        Some(Credentials::Gcp(t)) => vec![
            ("CLOUDSDK_AUTH_ACCESS_TOKEN", t.access_token.clone()),
            ("GOOGLE_OAUTH_ACCESS_TOKEN", t.access_token.clone()),
        ],
        Some(Credentials::Azure(t)) => {
            vec![("AZURE_ACCESS_TOKEN", t.access_token.clone()), ("AZURE_TOKEN_AUDIENCE", t.audience.clone())]
        }
        Some(Credentials::MongodbAtlas(u)) => vec![
            ("MONGODB_USERNAME", u.username.clone()),
            ("MONGODB_PASSWORD", u.password.clone()),
            ("MONGODB_AUTH_SOURCE", u.database.clone()),
        ],
        Some(Credentials::Neo4jAura(t)) => vec![("AURA_ACCESS_TOKEN", t.access_token.clone())],
        None => Vec::new(),
    };
    let expires = issued.expire_time.as_ref().and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0));
    if let Some(expires) = expires {
        vars.push(("CLOUDCONN_CREDENTIALS_EXPIRE_TIME", expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    }
    vars
}

/// `'…'` with every `'` written as `'\''`: nothing inside is expanded.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("a b$c"), "'a b$c'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
