//! Google's OAuth 2.0 token endpoint for service accounts (JWT bearer
//! grant, RFC 7523) and the parts of Cloud Resource Manager v1 the probe
//! uses. Assertions are verified with the account key's public half: RS256
//! signature, audience (this endpoint), expiry.
//!
//! In the sandbox ([`Gcp::sandbox`]) every service account and project
//! exists and the account's name (`client_email` before the `@`) steers
//! ([`Magic`]). The sandbox cannot know the public half of your key, so it
//! checks the assertion's algorithm, audience, issuer and expiry but not
//! its signature (`sandbox-wrong-secret` stands for a bad one).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use crate::{Call, Issued, magic::Magic};

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
}

#[derive(Default)]
pub struct Gcp {
    /// client_email → account.
    pub accounts: HashMap<String, Account>,
    /// project id → (number, name).
    pub projects: HashMap<String, (String, String)>,
    /// The token URL assertions must be addressed to (set once bound).
    pub audience: Mutex<String>,
    /// Issued token → the account it was issued to.
    tokens: Mutex<Issued<Account>>,
    /// Accounts are made up from their names ([`sandbox_account`]).
    sandbox: bool,
}

impl Gcp {
    pub fn new(accounts: HashMap<String, Account>, projects: HashMap<String, (String, String)>) -> Self {
        Self { accounts, projects, audience: Mutex::default(), tokens: Mutex::default(), sandbox: false }
    }

    /// The sandbox: every account and project exists; the account's name
    /// says how it behaves.
    pub fn sandbox() -> Self {
        Self { sandbox: true, ..Self::default() }
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
        .route("/v1/projects/{rest}", get(project).post(test_permissions))
        .with_state(gcp)
}

/// The calls the probe makes, in order, for fault injection.
pub const CALLS: [Call; 3] = [
    Call { name: "gcp token", matches: |_, path| path == "/token" },
    Call {
        name: "gcp project",
        matches: |method, path| *method == Method::GET && path.starts_with("/v1/projects/") && !path.contains(':'),
    },
    Call { name: "gcp testIamPermissions", matches: |_, path| path.ends_with(":testIamPermissions") },
];

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
    if scope.is_empty() {
        return oauth_error("invalid_scope", "Empty or missing scope not allowed.");
    }
    let token = crate::random_token();
    gcp.tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(token.clone(), account);
    Json(json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer" })).into_response()
}

fn caller(gcp: &Gcp, headers: &HeaderMap) -> Option<Account> {
    let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
    gcp.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned()
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, Json(json!({ "error": { "code": 403, "status": "PERMISSION_DENIED" } }))).into_response()
}

async fn project(State(gcp): State<Arc<Gcp>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let Some(account) = caller(&gcp, &headers) else { return StatusCode::UNAUTHORIZED.into_response() };
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
    let Some(account) = caller(&gcp, &headers) else { return StatusCode::UNAUTHORIZED.into_response() };
    let Some(held) = account.projects.get(id).or(account.projects.get("*")) else { return forbidden() };
    let granted: Vec<&String> =
        body.permissions.iter().filter(|p| held.contains(p) || held.iter().any(|h| h == "*")).collect();
    Json(json!({ "permissions": granted })).into_response()
}
