//! Azure: a service principal's client secret.
//!
//! 1. A client-credentials token for `https://management.azure.com/.default`
//!    from `<authority>/<tenant>/oauth2/v2.0/token` (`oauth.rs`). Entra ID's
//!    refusals carry an AADSTS code; the common ones get a specific hint.
//! 2. `GET /subscriptions/{id}`: the subscription must exist, be visible to
//!    the principal and be `Enabled`.
//! 3. `GET /subscriptions/{id}/providers/Microsoft.Authorization/permissions`:
//!    the principal's effective actions, evaluated per scope with Azure's
//!    wildcard rules (each entry grants its `actions` minus its `notActions`).

use oauth2::AuthType;
use reqwest::{Client, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{
    ErrorCode, Probe, ProbeFailure, ProbeReport, ProbeRequest, http,
    oauth::{self, TokenError},
};
use cloudconn_infra::{amqp::messages::ScopeCheck, secrets::SecretFields};

const PROVIDER: &str = "Azure";
const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// The actions each scope needs; any one of a group is enough.
const SCOPE_ACTIONS: &[(&str, &[&str])] = &[
    ("storage", &["Microsoft.Storage/storageAccounts/read"]),
    ("database", &["Microsoft.Sql/servers/read", "Microsoft.DocumentDB/databaseAccounts/read"]),
    ("messaging", &["Microsoft.ServiceBus/namespaces/read"]),
    ("functions", &["Microsoft.Web/sites/read"]),
];

pub struct AzureProbe {
    pub authority: String,
    pub arm_base: String,
    pub client: Client,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscription {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    state: String,
}

#[derive(Deserialize)]
struct Permissions {
    value: Vec<Permission>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Permission {
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    not_actions: Vec<String>,
}

/// Maps an Entra ID refusal to what the user should fix.
fn token_refusal(description: &str) -> ProbeFailure {
    let code =
        description.split(':').next().filter(|c| c.starts_with("AADSTS")).unwrap_or("AADSTS (no code)").to_owned();
    let (kind, message, hint) = match code.as_str() {
        "AADSTS7000215" => (
            ErrorCode::InvalidCredentials,
            "the client secret is wrong",
            "Use the client secret's Value (shown once, when it is created), not its Secret ID.",
        ),
        "AADSTS7000222" => (
            ErrorCode::InvalidCredentials,
            "the client secret has expired",
            "Create a new client secret for the app registration and save it here.",
        ),
        "AADSTS700016" => (
            ErrorCode::InvalidCredentials,
            "no application with this client id exists in the tenant",
            "Check the Application (client) ID, and that the app is registered in (or consented to by) this tenant.",
        ),
        "AADSTS90002" => (ErrorCode::ResourceNotFound, "the tenant does not exist", "Check the Directory (tenant) ID."),
        _ => (
            ErrorCode::InvalidCredentials,
            "Entra ID refused to issue a token",
            "Check the tenant id, client id and client secret of the service principal.",
        ),
    };
    ProbeFailure::new(kind, format!("{message} ({code})"), hint)
}

/// Azure action matching: case-insensitive, `*` matches any run of characters.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    fn go(p: &[u8], a: &[u8]) -> bool {
        match (p.split_first(), a.split_first()) {
            (None, None) => true,
            (Some((b'*', rest)), _) => go(rest, a) || (!a.is_empty() && go(p, &a[1..])),
            (Some((pc, prest)), Some((ac, arest))) if pc.eq_ignore_ascii_case(ac) => go(prest, arest),
            _ => false,
        }
    }
    go(pattern.as_bytes(), action.as_bytes())
}

fn allowed(permissions: &[Permission], action: &str) -> bool {
    permissions.iter().any(|p| {
        p.actions.iter().any(|a| action_matches(a, action)) && !p.not_actions.iter().any(|n| action_matches(n, action))
    })
}

impl AzureProbe {
    async fn get(&self, token: &str, path: &str, api_version: &str) -> Result<reqwest::Response, ProbeFailure> {
        let url = format!("{}{path}?api-version={api_version}", self.arm_base.trim_end_matches('/'));
        let response = http::send(PROVIDER, self.client.get(url).bearer_auth(token)).await?;
        if http::is_transient(response.status()) {
            return Err(http::transient_status(PROVIDER, response.status()));
        }
        Ok(response)
    }
}

#[async_trait::async_trait]
impl Probe for AzureProbe {
    async fn probe(&self, request: &ProbeRequest, credentials: &SecretFields) -> Result<ProbeReport, ProbeFailure> {
        let field = |name: &str| credentials.get(name).map(|v| v.expose_secret().to_owned()).unwrap_or_default();
        let (tenant, subscription) = (field("tenant_id"), field("subscription_id"));
        // The tenant id was checked to be a GUID when it was saved, so it
        // cannot change where this URL points.
        let token_url = format!("{}/{tenant}/oauth2/v2.0/token", self.authority.trim_end_matches('/'));
        let token = match oauth::client_credentials(
            &self.client,
            PROVIDER,
            &token_url,
            &field("client_id"),
            &field("client_secret"),
            Some(ARM_SCOPE),
            AuthType::RequestBody,
        )
        .await
        {
            Ok(token) => token,
            Err(TokenError::Rejected { description, .. }) => return Err(token_refusal(&description)),
            Err(TokenError::Failed(failure)) => return Err(failure),
        };

        let response = self.get(&token, &format!("/subscriptions/{subscription}"), "2022-12-01").await?;
        let sub: Subscription = match response.status() {
            StatusCode::OK => {
                response.json().await.map_err(|_| http::unexpected(PROVIDER, "an unreadable subscription"))?
            }
            StatusCode::NOT_FOUND => {
                return Err(ProbeFailure::new(
                    ErrorCode::ResourceNotFound,
                    format!("subscription {subscription} was not found in the tenant"),
                    "Check the subscription id, and that the subscription belongs to this tenant.",
                ));
            }
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => {
                return Err(ProbeFailure::new(
                    ErrorCode::AccessDenied,
                    format!("the service principal has no access to subscription {subscription}"),
                    "Assign the service principal a role on the subscription (Reader at least).",
                ));
            }
            s => return Err(http::unexpected(PROVIDER, &format!("subscription answered {s}"))),
        };
        if !sub.state.eq_ignore_ascii_case("Enabled") {
            return Err(ProbeFailure::new(
                ErrorCode::ResourceNotFound,
                format!("subscription {subscription} is {}, not Enabled", sub.state),
                "Re-enable the subscription (or pick an enabled one); disabled subscriptions cannot be used.",
            ));
        }

        let path = format!("/subscriptions/{subscription}/providers/Microsoft.Authorization/permissions");
        let response = self.get(&token, &path, "2022-04-01").await?;
        if response.status() != StatusCode::OK {
            return Err(http::unexpected(PROVIDER, &format!("permissions answered {}", response.status())));
        }
        let permissions: Permissions =
            response.json().await.map_err(|_| http::unexpected(PROVIDER, "an unreadable permission list"))?;

        let scope_checks = request
            .scopes
            .iter()
            .map(|scope| {
                let needed = SCOPE_ACTIONS.iter().find(|(s, _)| s == scope).map(|(_, a)| *a).unwrap_or(&[]);
                let granted = needed.iter().any(|action| allowed(&permissions.value, action));
                ScopeCheck {
                    scope: scope.clone(),
                    granted,
                    missing_permissions: if granted {
                        vec![]
                    } else {
                        needed.iter().map(|a| (*a).to_owned()).collect()
                    },
                }
            })
            .collect();
        let mut report = ProbeReport { scope_checks, ..Default::default() };
        report.identity.insert("subscription_id".into(), subscription);
        report.identity.insert("subscription_name".into(), sub.display_name);
        report.identity.insert("tenant_id".into(), tenant);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_azure_rules() {
        assert!(action_matches("*", "Microsoft.Storage/storageAccounts/read"));
        assert!(action_matches("*/read", "Microsoft.Storage/storageAccounts/read"));
        assert!(action_matches("Microsoft.Storage/*", "Microsoft.Storage/storageAccounts/read"));
        assert!(action_matches("microsoft.storage/storageaccounts/READ", "Microsoft.Storage/storageAccounts/read"));
        assert!(!action_matches("Microsoft.Storage/*/write", "Microsoft.Storage/storageAccounts/read"));
        assert!(!action_matches("Microsoft.Sql/*", "Microsoft.Storage/storageAccounts/read"));
    }

    #[test]
    fn not_actions_subtract_within_their_entry() {
        let all_but_storage =
            || Permission { actions: vec!["*".into()], not_actions: vec!["Microsoft.Storage/*".into()] };
        let reader = Permission { actions: vec!["*/read".into()], not_actions: vec![] };
        let action = "Microsoft.Storage/storageAccounts/read";
        assert!(!allowed(&[all_but_storage()], action));
        assert!(allowed(&[all_but_storage()], "Microsoft.Sql/servers/read"));
        // Another role assignment can still grant what one entry excludes.
        assert!(allowed(&[all_but_storage(), reader], action));
    }

    #[test]
    fn aadsts_codes_get_specific_hints() {
        let f = token_refusal("AADSTS7000215: Invalid client secret provided. Trace ID: x");
        assert_eq!(f.code, ErrorCode::InvalidCredentials);
        assert!(f.hint.contains("Value"));
        assert!(token_refusal("AADSTS7000222: expired").hint.contains("new client secret"));
        assert!(token_refusal("AADSTS700016: not found").hint.contains("client) ID"));
        assert_eq!(token_refusal("AADSTS90002: Tenant not found").code, ErrorCode::ResourceNotFound);
        assert!(token_refusal("something else").message.contains("no code"));
    }
}
