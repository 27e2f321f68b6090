//! Google's OAuth 2.0 token endpoint for service accounts (JWT bearer
//! grant, RFC 7523) and the parts of Cloud Resource Manager v1 the probe
//! uses. Assertions are verified with the account key's public half: RS256
//! signature, audience (this endpoint), expiry.
//!
//! Tokens carry the OAuth scopes the assertion asked for, and each API
//! checks them as Google does (403 `ACCESS_TOKEN_SCOPE_INSUFFICIENT`):
//! Resource Manager wants `cloud-platform` (or its read-only form), Cloud
//! Storage's bucket list a `devstorage.*` scope or `cloud-platform`. The
//! token endpoint names the granted scopes in its answer, and
//! `GET /tokeninfo?access_token=…` says what a token carries, as Google's
//! tokeninfo endpoint does.
//!
//! In the sandbox ([`Gcp::sandbox`]) every service account and project
//! exists and the account's name (`client_email` before the `@`) steers
//! ([`Magic`]). The sandbox cannot know the public half of your key, so it
//! checks the assertion's algorithm, audience, issuer and expiry but not
//! its signature (`sandbox-wrong-secret` stands for a bad one).
//!
//! Keyless connections come through workload identity federation instead
//! ([`federation`]): STS exchanges cloudconn's token for a federated one,
//! which IAM Credentials exchanges for the service account's access token,
//! the same kind the key's grant gives.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use crate::{Call, Issued, magic::Magic};

mod federation;
pub use federation::FEDERATION_CALLS;

/// A service account.
#[derive(Clone, Default)]
pub struct Account {
    /// PEM public key of its key.
    pub public_key_pem: String,
    /// The key was deleted or disabled.
    pub key_disabled: bool,
    /// Projects it can see, and the permissions it holds in each (`*`: every
    /// project, every permission, in the sandbox).
    pub projects: HashMap<String, Vec<String>>,
    /// Its key's `validBeforeTime` (`None`: no expiry, which IAM says as
    /// 9999-12-31). Read with `iam.serviceAccountKeys.get`.
    pub key_valid_before: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Default)]
pub struct Gcp {
    /// client_email → account.
    pub accounts: HashMap<String, Account>,
    /// project id → (number, name).
    pub projects: HashMap<String, (String, String)>,
    /// The token URL assertions must be addressed to (set once bound).
    pub audience: Mutex<String>,
    /// Issued token → what it stands for.
    tokens: Mutex<Issued<Token>>,
    /// Accounts are made up from their names ([`sandbox_account`]).
    sandbox: bool,
    /// Workload identity federation: providers, bindings, federated tokens.
    federation: federation::Federation,
}

impl Gcp {
    pub fn new(accounts: HashMap<String, Account>, projects: HashMap<String, (String, String)>) -> Self {
        Self { accounts, projects, sandbox: false, ..Self::default() }
    }

    /// The sandbox: every account and project exists; the account's name
    /// says how it behaves.
    pub fn sandbox() -> Self {
        Self { sandbox: true, ..Self::default() }
    }
}

/// What an issued access token stands for.
#[derive(Clone)]
struct Token {
    account: Account,
    /// The service account's e-mail.
    email: String,
    /// The OAuth scopes granted (those the assertion asked for).
    scopes: Vec<String>,
    /// Unix seconds.
    expires_at: i64,
}

/// How long the tokens live, as Google's do.
const TOKEN_SECONDS: i64 = 3599;
const AUTH: &str = "https://www.googleapis.com/auth/";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Resource Manager's scopes.
const RESOURCE_MANAGER_SCOPES: &[&str] = &["cloud-platform", "cloud-platform.read-only"];
/// Cloud Storage's scopes (reading the bucket list).
const STORAGE_SCOPES: &[&str] = &[
    "devstorage.full_control",
    "devstorage.read_write",
    "devstorage.read_only",
    "cloud-platform",
    "cloud-platform.read-only",
];

impl Gcp {
    /// The scopes a token this emulator issued carries; `None` for a token
    /// it did not issue (or forgot).
    pub fn scopes_of(&self, access_token: &str) -> Option<Vec<String>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(access_token).map(|t| t.scopes.clone())
    }
}

/// The account a sandbox service account's e-mail stands for.
fn sandbox_account(magic: Magic) -> Account {
    let permissions =
        if magic == Magic::Denied { vec!["resourcemanager.projects.get".into()] } else { vec!["*".into()] };
    Account {
        public_key_pem: String::new(),
        key_disabled: false,
        projects: if magic == Magic::NotFound { HashMap::new() } else { HashMap::from([("*".into(), permissions)]) },
        key_valid_before: (magic == Magic::Expiring).then(crate::magic::expiring_date),
    }
}

/// The sandbox's check of an assertion whose key it cannot know: RS256,
/// addressed to this endpoint, issued by whom it names, not expired.
fn sandbox_claims_valid(assertion: &str, audience: &str, iss: &str) -> bool {
    #[derive(Deserialize)]
    struct Times {
        aud: String,
        iss: String,
        exp: i64,
        iat: i64,
    }
    let rs256 = jsonwebtoken::decode_header(assertion).is_ok_and(|h| h.alg == Algorithm::RS256);
    let Ok(times) = jsonwebtoken::dangerous::insecure_decode_claims::<Times>(assertion) else { return false };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    rs256 && times.aud == audience && times.iss == iss && times.exp > now && times.iat <= now + 60
}

pub fn router(gcp: Arc<Gcp>) -> Router {
    Router::new()
        .route("/token", post(token))
        .route("/v1/token", post(federation::exchange))
        // `…/serviceAccounts/{email}:generateAccessToken`: the verb is
        // part of the last segment, so it is told apart inside.
        .route("/v1/projects/{project}/serviceAccounts/{email}", post(federation::generate_access_token))
        .route("/tokeninfo", get(tokeninfo))
        .route("/v1/projects/{rest}", get(project).post(test_permissions))
        .route("/v1/projects/{project}/serviceAccounts/{email}/keys/{key}", get(key))
        .route("/storage/v1/b", get(buckets))
        .with_state(gcp)
}

/// The calls the probe makes, in order, for fault injection.
pub const CALLS: [Call; 3] = [
    Call { name: "gcp token", matches: |_, path| path == "/token" },
    Call {
        name: "gcp project",
        matches: |method, path| {
            *method == Method::GET
                && path.starts_with("/v1/projects/")
                && !path.contains(':')
                && !path.contains("/serviceAccounts/")
        },
    },
    Call { name: "gcp testIamPermissions", matches: |_, path| path.ends_with(":testIamPermissions") },
];

/// The call for the key's `validBeforeTime`, after all of [`CALLS`]. Best
/// effort: whatever it answers, the validation's outcome is the same.
pub const EXPIRY_CALL: Call =
    Call { name: "gcp key", matches: |_, path| path.contains("/serviceAccounts/") && path.contains("/keys/") };

/// The calls minting makes: the token request.
pub const MINT_CALLS: [Call; 1] = [CALLS[0]];

fn oauth_error(error: &str, description: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error, "error_description": description }))).into_response()
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    #[serde(default)]
    scope: String,
}

async fn token(State(gcp): State<Arc<Gcp>>, Form(form): Form<HashMap<String, String>>) -> Response {
    if form.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return oauth_error("unsupported_grant_type", "Invalid grant_type");
    }
    let Some(assertion) = form.get("assertion") else { return oauth_error("invalid_request", "Missing assertion") };
    // Who claims to sign it decides which public key checks it; nothing
    // else is trusted before the signature is verified below.
    let Ok(unverified) = jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(assertion) else {
        return oauth_error("invalid_grant", "Invalid JWT");
    };
    let audience = gcp.audience.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let (account, scope) = if gcp.sandbox {
        let name = unverified.iss.split('@').next().unwrap_or_default();
        let magic = Magic::of(name);
        if let Some(outage) = magic.outage() {
            return outage;
        }
        if magic == Magic::WrongSecret || !sandbox_claims_valid(assertion, &audience, &unverified.iss) {
            return oauth_error("invalid_grant", "Invalid JWT Signature.");
        }
        (sandbox_account(magic), unverified.scope.clone())
    } else {
        let Some(account) = gcp.accounts.get(&unverified.iss) else {
            return oauth_error("invalid_grant", "Invalid grant: account not found");
        };
        let Ok(key) = DecodingKey::from_rsa_pem(account.public_key_pem.as_bytes()) else {
            return oauth_error("invalid_grant", "Invalid JWT Signature.");
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[unverified.iss.as_str()]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
        let verified = match jsonwebtoken::decode::<Claims>(assertion, &key, &validation) {
            Ok(v) => v,
            Err(_) => return oauth_error("invalid_grant", "Invalid JWT Signature."),
        };
        (account.clone(), verified.claims.scope)
    };
    if account.key_disabled {
        return oauth_error("invalid_grant", "Invalid JWT Signature.");
    }
    let scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
    if scopes.is_empty() {
        return oauth_error("invalid_scope", "Empty or missing scope not allowed.");
    }
    if scopes.iter().any(|s| !s.starts_with(AUTH)) {
        return oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.");
    }
    let token = crate::random_token();
    let granted = scopes.join(" ");
    let issued = Token { account, email: unverified.iss, scopes, expires_at: now() + TOKEN_SECONDS };
    gcp.tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(token.clone(), issued);
    Json(json!({ "access_token": token, "expires_in": TOKEN_SECONDS, "token_type": "Bearer", "scope": granted }))
        .into_response()
}

/// The caller's unexpired token, if this emulator issued it.
fn bearer(gcp: &Gcp, headers: &HeaderMap) -> Option<Token> {
    let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
    let issued = gcp.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned()?;
    (issued.expires_at > now()).then_some(issued)
}

/// The caller's account, if its token carries one of `scopes` (short
/// names under `https://www.googleapis.com/auth/`); otherwise Google's
/// answer: 401 without a valid token, 403 with too narrow a one.
fn authorize(gcp: &Gcp, headers: &HeaderMap, scopes: &[&str]) -> Result<Account, Response> {
    let Some(token) = bearer(gcp, headers) else { return Err(StatusCode::UNAUTHORIZED.into_response()) };
    if !token.scopes.iter().any(|s| s.strip_prefix(AUTH).is_some_and(|s| scopes.contains(&s))) {
        let body = json!({ "error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "status": "PERMISSION_DENIED",
            "details": [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT" }],
        } });
        let challenge = r#"Bearer realm="https://accounts.google.com/", error="insufficient_scope""#;
        return Err((StatusCode::FORBIDDEN, [(header::WWW_AUTHENTICATE, challenge)], Json(body)).into_response());
    }
    Ok(token.account)
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, Json(json!({ "error": { "code": 403, "status": "PERMISSION_DENIED" } }))).into_response()
}

/// IAM's `projects.serviceAccounts.keys.get`: the key's validity, for a
/// `cloud-platform` token of an account holding `iam.serviceAccountKeys.get`
/// (in any project, here). Another account's key is answered 403, as IAM
/// does without the permission on that account.
async fn key(
    State(gcp): State<Arc<Gcp>>,
    Path((project, email, key)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = bearer(&gcp, &headers) else { return StatusCode::UNAUTHORIZED.into_response() };
    if let Err(response) = authorize(&gcp, &headers, &["cloud-platform"]) {
        return response;
    }
    let may_read = token.account.projects.values().flatten().any(|p| p == "*" || p == "iam.serviceAccountKeys.get");
    if !may_read || email != token.email {
        return forbidden();
    }
    let before = token
        .account
        .key_valid_before
        .map_or_else(|| "9999-12-31T23:59:59Z".to_owned(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    Json(json!({
        "name": format!("projects/{project}/serviceAccounts/{email}/keys/{key}"),
        "validAfterTime": "2026-01-01T00:00:00Z",
        "validBeforeTime": before,
        "keyAlgorithm": "KEY_ALG_RSA_2048",
        "keyOrigin": "GOOGLE_PROVIDED",
        "keyType": "USER_MANAGED",
    }))
    .into_response()
}

/// Google's tokeninfo: what an access token carries.
async fn tokeninfo(State(gcp): State<Arc<Gcp>>, Query(query): Query<HashMap<String, String>>) -> Response {
    let token = query.get("access_token").map(String::as_str).unwrap_or_default();
    let issued = gcp.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned();
    match issued.filter(|t| t.expires_at > now()) {
        Some(t) => Json(json!({
            "azp": t.email,
            "aud": t.email,
            "email": t.email,
            "scope": t.scopes.join(" "),
            "exp": t.expires_at.to_string(),
            "expires_in": (t.expires_at - now()).to_string(),
        }))
        .into_response(),
        None => {
            (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_token", "error_description": "Invalid Value" })))
                .into_response()
        }
    }
}

/// Cloud Storage `buckets.list`: the project's (empty) bucket list, for a
/// token with a storage scope whose account holds `storage.buckets.list`.
async fn buckets(
    State(gcp): State<Arc<Gcp>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let account = match authorize(&gcp, &headers, STORAGE_SCOPES) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let project = query.get("project").map(String::as_str).unwrap_or_default();
    let held = account.projects.get(project).or(account.projects.get("*"));
    match held {
        Some(held) if held.iter().any(|p| p == "*" || p == "storage.buckets.list") => {
            Json(json!({ "kind": "storage#buckets", "items": [] })).into_response()
        }
        _ => forbidden(),
    }
}

async fn project(State(gcp): State<Arc<Gcp>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let account = match authorize(&gcp, &headers, RESOURCE_MANAGER_SCOPES) {
        Ok(account) => account,
        Err(response) => return response,
    };
    // Google answers 403 alike for missing and invisible projects.
    let sandbox = ("123456789012".to_owned(), "Sandbox project".to_owned());
    let every = account.projects.contains_key("*");
    let known = gcp.projects.get(&id).or(every.then_some(&sandbox));
    match (known, every || account.projects.contains_key(&id)) {
        (Some((number, name)), true) => {
            Json(json!({ "projectNumber": number, "projectId": id, "name": name, "lifecycleState": "ACTIVE" }))
                .into_response()
        }
        _ => forbidden(),
    }
}

#[derive(Deserialize)]
struct TestPermissions {
    permissions: Vec<String>,
}

async fn test_permissions(
    State(gcp): State<Arc<Gcp>>,
    Path(rest): Path<String>,
    headers: HeaderMap,
    Json(body): Json<TestPermissions>,
) -> Response {
    let Some(id) = rest.strip_suffix(":testIamPermissions") else { return StatusCode::NOT_FOUND.into_response() };
    let account = match authorize(&gcp, &headers, RESOURCE_MANAGER_SCOPES) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let Some(held) = account.projects.get(id).or(account.projects.get("*")) else { return forbidden() };
    let granted: Vec<&String> =
        body.permissions.iter().filter(|p| held.contains(p) || held.iter().any(|h| h == "*")).collect();
    Json(json!({ "permissions": granted })).into_response()
}
