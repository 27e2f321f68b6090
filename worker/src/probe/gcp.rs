//! Google Cloud: a service account key file.
//!
//! 1. Sign an RS256 JWT assertion with the key (`jsonwebtoken`, on the
//!    blocking pool), addressed to the *configured* token endpoint — never the key file's `token_uri`,
//!    which would let whoever wrote the file aim the worker anywhere.
//! 2. Exchange it (`urn:ietf:params:oauth:grant-type:jwt-bearer`, RFC 7523)
//!    for an access token.
//! 3. `GET v1/projects/{id}` (Resource Manager): the project must exist and
//!    be visible to the account; record its number and name.
//! 4. One `projects:testIamPermissions` call with the permissions the
//!    requested scopes need; the answer lists those granted.
//! 5. When all that passed, the key's `validBeforeTime` from the IAM API,
//!    if the account may read it (`expiry.rs`; never a failure).
//!
//! A keyless connection (`workload_identity`) gets its token through
//! workload identity federation instead (`gcp_federation.rs`); steps 3 and
//! 4 are the same, and there is no key to expire.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, StatusCode};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{ErrorCode, Probe, ProbeFailure, ProbeReport, ProbeRequest, expiry, http, oauth::IssuedToken};
use cloudconn_infra::{amqp::messages::ScopeCheck, permissions, secrets::SecretFields};

const PROVIDER: &str = "Google Cloud";
/// The probe only reads, but IAM's key read (step 5) accepts no narrower
/// scope than `cloud-platform`; a second token just for it would double the
/// signing and the token calls. The token stays in this probe, for GETs and
/// `testIamPermissions`, and what it can do is the account's IAM roles.
const OAUTH_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub struct GcpProbe {
    pub token_url: String,
    pub api_base: String,
    pub iam_base: String,
    /// Keyless (`workload_identity`) connections sign in here.
    pub federation: super::gcp_federation::Federation,
    pub client: Client,
}

impl GcpProbe {
    /// The probe aimed at the configured endpoints.
    pub fn new(endpoints: &crate::config::Endpoints, client: Client) -> Self {
        Self {
            token_url: endpoints.gcp_token_url.clone(),
            api_base: endpoints.gcp_api_base.clone(),
            iam_base: endpoints.gcp_iam_base.clone(),
            federation: super::gcp_federation::Federation::new(endpoints),
            client,
        }
    }
}

/// The parts of a service account key file the grant uses.
#[derive(Deserialize, Clone)]
pub(crate) struct KeyFile {
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    /// Space-separated; Google may leave it out (RFC 6749 §5.1).
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize, Default)]
struct OAuthError {
    #[serde(default)]
    error: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Project {
    #[serde(default)]
    project_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    lifecycle_state: String,
}

#[derive(Deserialize, Default)]
struct Permissions {
    #[serde(default)]
    permissions: Vec<String>,
}

fn malformed(message: &str) -> ProbeFailure {
    ProbeFailure::new(
        ErrorCode::MalformedCredentials,
        message,
        "Upload the service account's JSON key file as downloaded from IAM → Service accounts → Keys.",
    )
}

fn not_visible(project: &str) -> ProbeFailure {
    ProbeFailure::new(
        ErrorCode::ResourceNotFound,
        format!("project {project} does not exist or is not visible to the service account"),
        "Check the project id (not the name or number), and grant the service account a role on the project (Browser or Viewer at least).",
    )
}

impl KeyFile {
    /// The saved `service_account_json`, parsed.
    pub(crate) fn parse(file: &str) -> Result<Self, ProbeFailure> {
        serde_json::from_str(file).map_err(|_| malformed("the key file is not a service account key"))
    }
}

/// The RS256 assertion for `key`, addressed to `audience`, asking for `scope`.
fn sign(key: &KeyFile, audience: &str, scope: &str) -> Result<String, ProbeFailure> {
    let encoding = EncodingKey::from_rsa_pem(key.private_key.as_bytes())
        .map_err(|_| malformed("the key file's private_key is not a usable RSA key"))?;
    let mut header = Header::new(Algorithm::RS256);
    if !key.private_key_id.is_empty() {
        header.kid = Some(key.private_key_id.clone());
    }
    let now = chrono::Utc::now().timestamp();
    let claims = Claims { iss: &key.client_email, scope, aud: audience, iat: now, exp: now + 600 };
    jsonwebtoken::encode(&header, &claims, &encoding)
        .map_err(|_| malformed("the assertion could not be signed with the key"))
}

/// Signs on the blocking pool: RSA signing is CPU work that grows with
/// about the cube of the key size (the server refuses keys over 4096
/// bits, but a revision saved before that check may hold one), and on
/// an async thread it would hold up every task sharing it.
async fn assertion(key: &KeyFile, audience: &str, scope: &str) -> Result<String, ProbeFailure> {
    let (key, audience, scope) = (key.clone(), audience.to_owned(), scope.to_owned());
    tokio::task::spawn_blocking(move || sign(&key, &audience, &scope))
        .await
        .map_err(|_| ProbeFailure::transient("signing the assertion was interrupted"))?
}

/// An access token for `scope` (an OAuth scope URL) from `token_url` (the
/// configured endpoint, which the assertion is addressed to): the probe's,
/// and the one minting hands out.
pub(crate) async fn access_token(
    client: &Client,
    token_url: &str,
    key: &KeyFile,
    scope: &str,
) -> Result<IssuedToken, ProbeFailure> {
    let assertion = assertion(key, token_url, scope).await?;
    let request = client.post(token_url).form(&[("grant_type", JWT_BEARER), ("assertion", assertion.as_str())]);
    let response = http::send(PROVIDER, request).await?;
    let status = response.status();
    if status == StatusCode::OK {
        let token: Token = http::json(PROVIDER, response, "token").await?;
        return Ok(IssuedToken {
            access_token: token.access_token.into(),
            expires_in: token.expires_in.map(std::time::Duration::from_secs),
            scopes: token.scope.map(|s| s.split_whitespace().map(str::to_owned).collect()),
        });
    }
    let error = http::json::<OAuthError>(PROVIDER, response, "error").await.unwrap_or_default().error;
    Err(ProbeFailure::new(
        ErrorCode::InvalidCredentials,
        format!("Google refused the service account key ({})", if error.is_empty() { status.as_str() } else { &error }),
        "The key may have been deleted or disabled, or the service account removed: create a new key and save it here.",
    ))
}

#[async_trait::async_trait]
impl Probe for GcpProbe {
    async fn probe(&self, request: &ProbeRequest, credentials: &SecretFields) -> Result<ProbeReport, ProbeFailure> {
        let field = |name: &str| credentials.get(name).map(|v| v.expose_secret().to_owned()).unwrap_or_default();
        let project = field("project_id");
        let segment = http::path_segment("project_id", &project)?;
        // The service account, and its key when there is one.
        let (issued, client_email, key) = if crate::keyless::kind(credentials) == super::gcp_federation::KIND {
            let keyless = crate::keyless::required(&request.keyless)?;
            let email = field("service_account_email");
            let provider = field("workload_identity_provider");
            let issued = super::gcp_federation::access_token(
                &self.client,
                &self.federation,
                keyless,
                &provider,
                &email,
                OAUTH_SCOPE,
            )
            .await?;
            (issued, email, None)
        } else {
            let key = KeyFile::parse(&field("service_account_json"))?;
            let issued = access_token(&self.client, &self.token_url, &key, OAUTH_SCOPE).await?;
            (issued, key.client_email.clone(), Some(key))
        };
        let token = issued.access_token.expose_secret();

        let url = http::url(PROVIDER, &self.api_base, &["v1", "projects", segment])?;
        let response = http::send(PROVIDER, self.client.get(url).bearer_auth(token)).await?;
        let found: Project = match response.status() {
            StatusCode::OK => http::json(PROVIDER, response, "project").await?,
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => return Err(not_visible(&project)),
            StatusCode::UNAUTHORIZED => return Err(http::unexpected(PROVIDER, "a fresh token was refused")),
            s => return Err(http::unexpected(PROVIDER, &format!("project answered {s}"))),
        };
        if !found.lifecycle_state.is_empty() && found.lifecycle_state != "ACTIVE" {
            return Err(ProbeFailure::new(
                ErrorCode::ResourceNotFound,
                format!("project {project} is {}, not ACTIVE", found.lifecycle_state),
                "Restore the project, or link an active one.",
            ));
        }

        // The scopes' permissions from the shared table (the base one,
        // resourcemanager.projects.get, was just exercised by the read above).
        let wanted: Vec<&str> =
            request.scopes.iter().flat_map(|s| permissions::for_scope("gcp", s).iter().copied()).collect();
        let granted: Vec<String> = if wanted.is_empty() {
            Vec::new()
        } else {
            let url =
                http::url(PROVIDER, &self.api_base, &["v1", "projects", &format!("{segment}:testIamPermissions")])?;
            let body = serde_json::json!({ "permissions": wanted });
            let response = http::send(PROVIDER, self.client.post(url).bearer_auth(token).json(&body)).await?;
            match response.status() {
                StatusCode::OK => http::json::<Permissions>(PROVIDER, response, "permission list").await?.permissions,
                StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => return Err(not_visible(&project)),
                s => return Err(http::unexpected(PROVIDER, &format!("testIamPermissions answered {s}"))),
            }
        };
        let scope_checks = request
            .scopes
            .iter()
            .map(|scope| {
                let needed = permissions::for_scope("gcp", scope);
                let missing: Vec<String> =
                    needed.iter().filter(|p| !granted.iter().any(|g| g == *p)).map(|p| (*p).to_owned()).collect();
                ScopeCheck {
                    scope: scope.clone(),
                    granted: missing.is_empty() && !needed.is_empty(),
                    missing_permissions: missing,
                }
            })
            .collect();
        let mut report = ProbeReport { scope_checks, ..Default::default() };
        report.identity.insert("project_id".into(), project);
        report.identity.insert("project_number".into(), found.project_number);
        report.identity.insert("project_name".into(), found.name);
        // A keyless connection has no key to expire.
        if let Some(key) = &key {
            let key_expiry =
                expiry::gcp_key(&self.client, &self.iam_base, token, &key.client_email, &key.private_key_id);
            expiry::record(&mut report, expiry::bounded(request.deadline, key_expiry).await);
        }
        report.identity.insert("client_email".into(), client_email);
        Ok(report)
    }
}
