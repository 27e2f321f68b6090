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
//! 4. When all that passed, the client secret's end date from Microsoft
//!    Graph, if the principal may read it (`expiry.rs`; never a failure).

use oauth2::AuthType;
use reqwest::{Client, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{
    ErrorCode, Probe, ProbeFailure, ProbeReport, ProbeRequest, expiry, http,
    oauth::{self, TokenError},
};
use cloudconn_infra::{amqp::messages::ScopeCheck, permissions, secrets::SecretFields};

const PROVIDER: &str = "Azure";
const ARM_SCOPE: &str = "https://management.azure.com/.default";
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

pub struct AzureProbe {
    pub authority: String,
    pub arm_base: String,
    pub graph_base: String,
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

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Permission {
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    not_actions: Vec<String>,
}

/// Maps an Entra ID refusal to what the user should fix.
pub(crate) fn token_refusal(description: &str) -> ProbeFailure {
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
        // Minting a token for a scope's resource the tenant has no service
        // principal for (the service was never used in the tenant).
        "AADSTS500011" => (
            ErrorCode::ResourceNotFound,
            "the tenant has no service principal for the scope's Azure service",
            "Use the scope's Azure service in this tenant once (that registers it), or remove the scope from the connection.",
        ),
        _ => (
            ErrorCode::InvalidCredentials,
            "Entra ID refused to issue a token",
            "Check the tenant id, client id and client secret of the service principal.",
        ),
    };
    ProbeFailure::new(kind, format!("{message} ({code})"), hint)
}

/// Longest action pattern evaluated, in bytes. Azure's own action names
/// are under 200 characters; a longer pattern is not from Azure.
pub const PATTERN_MAX: usize = 512;
/// Most permission entries (one per role assignment, roughly) evaluated.
pub const ENTRIES_MAX: usize = 1_000;
/// Most patterns (`actions` plus `notActions`, over every entry) evaluated.
pub const PATTERNS_MAX: usize = 20_000;

/// Azure action matching: case-insensitive (ASCII, as Azure's operation
/// names are), `*` matches any run of characters, including none.
///
/// Two pointers, and on a mismatch back to just after the last `*`, which
/// then swallows one more character: O(pattern × action) at worst. Earlier
/// stars never need revisiting, because the last one can already absorb
/// anything they would. (A recursive matcher that tries both branches at
/// every star is exponential in the number of stars: security review M5.)
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.as_bytes(), action.as_bytes());
    let (mut pi, mut ai) = (0, 0);
    // (pattern index just after the last star, action index it resumes at)
    let mut resume: Option<(usize, usize)> = None;
    while ai < a.len() {
        match p.get(pi) {
            Some(b'*') => {
                pi += 1;
                resume = Some((pi, ai));
            }
            Some(c) if c.eq_ignore_ascii_case(&a[ai]) => {
                pi += 1;
                ai += 1;
            }
            _ => match resume {
                Some((after_star, from)) => {
                    pi = after_star;
                    ai = from + 1;
                    resume = Some((after_star, ai));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Refuses a permission list too large to be a real principal's, before
/// any matching, so an answer's size bounds the work it causes.
fn check_bounds(permissions: &[Permission]) -> Result<(), ProbeFailure> {
    let oversized = |what: String| {
        ProbeFailure::new(
            ErrorCode::ProviderUnavailable,
            format!("Azure returned a permission list cloudconn does not evaluate ({what})"),
            "No real role assignment set is this large: check the worker's Azure endpoint configuration, or reduce \
             the service principal's role assignments on the subscription.",
        )
    };
    if permissions.len() > ENTRIES_MAX {
        return Err(oversized(format!("{} entries; at most {ENTRIES_MAX}", permissions.len())));
    }
    let patterns = || permissions.iter().flat_map(|p| p.actions.iter().chain(&p.not_actions));
    let count = patterns().count();
    if count > PATTERNS_MAX {
        return Err(oversized(format!("{count} action patterns; at most {PATTERNS_MAX}")));
    }
    if patterns().any(|p| p.len() > PATTERN_MAX) {
        return Err(oversized(format!("an action pattern over {PATTERN_MAX} bytes")));
    }
    Ok(())
}

fn allowed(permissions: &[Permission], action: &str) -> bool {
    permissions.iter().any(|p| {
        p.actions.iter().any(|a| action_matches(a, action)) && !p.not_actions.iter().any(|n| action_matches(n, action))
    })
}

/// One check per requested scope.
fn scope_checks(permissions: &[Permission], scopes: &[String]) -> Vec<ScopeCheck> {
    scopes
        .iter()
        .map(|scope| {
            // Every action the table lists (the setup kit grants them all).
            let needed = permissions::for_scope("azure", scope);
            let missing: Vec<String> =
                needed.iter().filter(|action| !allowed(permissions, action)).map(|a| (*a).to_owned()).collect();
            ScopeCheck {
                scope: scope.clone(),
                granted: missing.is_empty() && !needed.is_empty(),
                missing_permissions: missing,
            }
        })
        .collect()
}

impl AzureProbe {
    async fn get(&self, token: &str, path: &[&str], api_version: &str) -> Result<reqwest::Response, ProbeFailure> {
        let mut url = http::url(PROVIDER, &self.arm_base, path)?;
        url.query_pairs_mut().append_pair("api-version", api_version);
        http::send(PROVIDER, self.client.get(url).bearer_auth(token)).await
    }
}

#[async_trait::async_trait]
impl Probe for AzureProbe {
    async fn probe(&self, request: &ProbeRequest, credentials: &SecretFields) -> Result<ProbeReport, ProbeFailure> {
        let field = |name: &str| credentials.get(name).map(|v| v.expose_secret().to_owned()).unwrap_or_default();
        let (tenant, subscription) = (field("tenant_id"), field("subscription_id"));
        // Both were checked to be GUIDs when they were saved; re-checked and
        // encoded as single path segments, they cannot change where a URL points.
        let tenant_segment = http::path_segment("tenant_id", &tenant)?;
        let subscription_segment = http::path_segment("subscription_id", &subscription)?;
        let token_url = http::url(PROVIDER, &self.authority, &[tenant_segment, "oauth2", "v2.0", "token"])?;
        let client_id = field("client_id");
        let credential = super::azure_federated::Credential::of(credentials, &request.keyless).await?;
        let token_for = |scope| {
            oauth::client_credentials(
                &self.client,
                PROVIDER,
                token_url.as_str(),
                &client_id,
                credential.auth(),
                Some(scope),
                AuthType::RequestBody,
            )
        };
        let token = match token_for(ARM_SCOPE).await {
            Ok(issued) => issued.access_token,
            Err(TokenError::Rejected { description, .. }) => return Err(credential.refusal(&description)),
            Err(TokenError::Failed(failure)) => return Err(failure),
        };

        let response = self.get(token.expose_secret(), &["subscriptions", subscription_segment], "2022-12-01").await?;
        let sub: Subscription = match response.status() {
            StatusCode::OK => http::json(PROVIDER, response, "subscription").await?,
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

        let path = ["subscriptions", subscription_segment, "providers", "Microsoft.Authorization", "permissions"];
        let response = self.get(token.expose_secret(), &path, "2022-04-01").await?;
        if response.status() != StatusCode::OK {
            return Err(http::unexpected(PROVIDER, &format!("permissions answered {}", response.status())));
        }
        let permissions: Permissions = http::json(PROVIDER, response, "permission list").await?;

        check_bounds(&permissions.value)?;
        // Bounded, but still CPU work the size of the answer: off the async
        // threads, so it never holds up the runtime (heartbeats, timeouts).
        let scopes = request.scopes.clone();
        let scope_checks = tokio::task::spawn_blocking(move || scope_checks(&permissions.value, &scopes))
            .await
            .map_err(|_| ProbeFailure::transient("the permission evaluation was interrupted"))?;
        let mut report = ProbeReport { scope_checks, ..Default::default() };
        report.identity.insert("subscription_id".into(), subscription);
        report.identity.insert("subscription_name".into(), sub.display_name);
        report.identity.insert("tenant_id".into(), tenant);
        // A keyless connection has no secret to expire.
        if let super::azure_federated::Credential::Secret(secret) = &credential {
            let secret_expiry = expiry::bounded(request.deadline, async {
                let graph = token_for(GRAPH_SCOPE).await.ok()?.access_token;
                expiry::azure_client_secret(
                    &self.client,
                    &self.graph_base,
                    graph.expose_secret(),
                    &client_id,
                    secret.expose_secret(),
                )
                .await
            });
            expiry::record(&mut report, secret_expiry.await);
        }
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

    /// The textbook dynamic programme, as the reference.
    fn reference(p: &[u8], a: &[u8]) -> bool {
        let mut m = vec![vec![false; a.len() + 1]; p.len() + 1];
        m[0][0] = true;
        for i in 1..=p.len() {
            for j in 0..=a.len() {
                m[i][j] = if p[i - 1] == b'*' {
                    m[i - 1][j] || (j > 0 && m[i][j - 1])
                } else {
                    j > 0 && m[i - 1][j - 1] && p[i - 1].eq_ignore_ascii_case(&a[j - 1])
                };
            }
        }
        m[p.len()][a.len()]
    }

    /// Every string over `alphabet` up to `max` long.
    fn strings(alphabet: &[u8], max: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max {
            last = last.iter().flat_map(|s| alphabet.iter().map(move |&c| format!("{s}{}", c as char))).collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn matches_exactly_what_the_reference_matches() {
        let actions = strings(b"aB/", 4);
        for pattern in strings(b"Ab/*", 5) {
            for action in &actions {
                assert_eq!(
                    action_matches(&pattern, action),
                    reference(pattern.as_bytes(), action.as_bytes()),
                    "{pattern:?} vs {action:?}"
                );
            }
        }
    }

    #[test]
    fn edge_cases() {
        assert!(action_matches("", ""));
        assert!(!action_matches("", "a"));
        assert!(action_matches("***", ""));
        assert!(action_matches("Microsoft.Storage/**/read", "Microsoft.Storage/storageAccounts/read"));
        assert!(action_matches("*/storageaccounts/*", "Microsoft.Storage/storageAccounts/read"));
        assert!(!action_matches("*/read/", "Microsoft.Storage/storageAccounts/read"));
        assert!(!action_matches("Microsoft.Storage/storageAccounts/read/x", "Microsoft.Storage/storageAccounts/read"));
    }

    /// Security review M5: 40 stars took the recursive matcher forever
    /// (about 8× per two stars; 12 already took 0.57 s). Run on a thread
    /// so that a regression fails in bounded time instead of hanging.
    #[test]
    fn many_stars_cost_linear_time() {
        let (done, result) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let stars = format!("Microsoft.Storage/{}x", "*".repeat(40));
            let miss = action_matches(&stars, "Microsoft.Storage/storageAccounts/read");
            let hit = action_matches(&stars.replace('x', "read"), "Microsoft.Storage/storageAccounts/read");
            let _ = done.send((miss, hit));
        });
        let (miss, hit) = result.recv_timeout(std::time::Duration::from_secs(30)).expect("matching finishes");
        assert!(!miss && hit);
    }

    #[test]
    fn oversized_permission_lists_are_refused() {
        let entry = |actions: Vec<String>| Permission { actions, not_actions: vec![] };
        assert!(check_bounds(&vec![entry(vec!["*".into()]); ENTRIES_MAX]).is_ok());
        let too_many = check_bounds(&vec![entry(vec!["*".into()]); ENTRIES_MAX + 1]).unwrap_err();
        assert_eq!((too_many.code, too_many.retryable), (ErrorCode::ProviderUnavailable, false));
        assert!(too_many.message.contains("1001 entries"), "{}", too_many.message);
        assert!(check_bounds(&[entry(vec!["a".repeat(PATTERN_MAX)])]).is_ok());
        let long = check_bounds(&[entry(vec!["a".repeat(PATTERN_MAX + 1)])]).unwrap_err();
        assert!(long.message.contains("over 512 bytes"), "{}", long.message);
        let patterns = check_bounds(&[entry(vec!["*".into(); PATTERNS_MAX + 1])]).unwrap_err();
        assert!(patterns.message.contains("action patterns"), "{}", patterns.message);
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
        assert_eq!(
            token_refusal("AADSTS500011: The resource principal was not found").code,
            ErrorCode::ResourceNotFound
        );
        assert!(token_refusal("something else").message.contains("no code"));
    }
}
