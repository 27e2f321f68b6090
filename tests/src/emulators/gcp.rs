//! Google's OAuth 2.0 token endpoint for service accounts (JWT bearer
//! grant, RFC 7523) and the parts of Cloud Resource Manager v1 the probe
//! uses. Assertions are verified with the account key's public half: RS256
//! signature, audience (this endpoint), expiry.

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

use super::Call;

/// A service account.
#[derive(Clone, Default)]
pub struct Account {
    /// PEM public key of its key.
    pub public_key_pem: String,
    /// The key was deleted or disabled.
    pub key_disabled: bool,
    /// Projects it can see, and the permissions it holds in each.
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
    tokens: Mutex<HashMap<String, String>>,
}

impl Gcp {
    pub fn new(accounts: HashMap<String, Account>, projects: HashMap<String, (String, String)>) -> Self {
        Self { accounts, projects, audience: Mutex::default(), tokens: Mutex::default() }
    }
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
    let Some(account) = gcp.accounts.get(&unverified.iss) else {
        return oauth_error("invalid_grant", "Invalid grant: account not found");
    };
    let Ok(key) = DecodingKey::from_rsa_pem(account.public_key_pem.as_bytes()) else {
        return oauth_error("invalid_grant", "Invalid JWT Signature.");
    };
    let audience = gcp.audience.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[unverified.iss.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let verified = match jsonwebtoken::decode::<Claims>(assertion, &key, &validation) {
        Ok(v) => v,
        Err(_) => return oauth_error("invalid_grant", "Invalid JWT Signature."),
    };
    if account.key_disabled {
        return oauth_error("invalid_grant", "Invalid JWT Signature.");
    }
    if verified.claims.scope.is_empty() {
        return oauth_error("invalid_scope", "Empty or missing scope not allowed.");
    }
    let token = super::random_token();
    gcp.tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(token.clone(), verified.claims.iss);
    Json(json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer" })).into_response()
}

fn caller(gcp: &Gcp, headers: &HeaderMap) -> Option<Account> {
    let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
    let email = gcp.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned()?;
    gcp.accounts.get(&email).cloned()
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, Json(json!({ "error": { "code": 403, "status": "PERMISSION_DENIED" } }))).into_response()
}

async fn project(State(gcp): State<Arc<Gcp>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let Some(account) = caller(&gcp, &headers) else { return StatusCode::UNAUTHORIZED.into_response() };
    // Google answers 403 alike for missing and invisible projects.
    match (gcp.projects.get(&id), account.projects.contains_key(&id)) {
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
    let Some(held) = account.projects.get(id) else { return forbidden() };
    let granted: Vec<&String> = body.permissions.iter().filter(|p| held.contains(p)).collect();
    Json(json!({ "permissions": granted })).into_response()
}
