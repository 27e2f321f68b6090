//! The Aura API, as far as the probe uses it: the OAuth 2.0
//! client-credentials token endpoint (client id and secret in HTTP Basic
//! auth, RFC 6749 §2.3.1) and bearer-protected tenants and instances.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;

use super::Call;

#[derive(Clone, Default)]
pub struct Client {
    pub secret: String,
    pub tenant: String,
    pub can_list_instances: bool,
}

#[derive(Default)]
pub struct Aura {
    /// Client id → client.
    pub clients: HashMap<String, Client>,
    /// Issued token → client id.
    tokens: Mutex<HashMap<String, String>>,
}

impl Aura {
    pub fn new(clients: HashMap<String, Client>) -> Self {
        Self { clients, tokens: Mutex::default() }
    }
}

pub fn router(aura: Aura) -> Router {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/v1/tenants", get(tenants))
        .route("/v1/instances", get(instances))
        .with_state(Arc::new(aura))
}

/// The calls the probe makes, in order, for fault injection.
pub const CALLS: [Call; 3] = [
    Call { name: "aura token", matches: |_, path| path == "/oauth/token" },
    Call { name: "aura tenants", matches: |_, path| path == "/v1/tenants" },
    Call { name: "aura instances", matches: |_, path| path == "/v1/instances" },
];

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

async fn token(
    State(aura): State<Arc<Aura>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = basic.as_deref().and_then(|b| b.split_once(':')) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    match aura.clients.get(id) {
        Some(client) if client.secret == secret => {
            let token = super::random_token();
            aura.tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(token.clone(), id.to_owned());
            Json(json!({ "access_token": token, "token_type": "bearer", "expires_in": 3600 })).into_response()
        }
        _ => oauth_error(StatusCode::UNAUTHORIZED, "invalid_client"),
    }
}

fn caller(aura: &Aura, headers: &HeaderMap) -> Option<Client> {
    let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
    let id = aura.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned()?;
    aura.clients.get(&id).cloned()
}

async fn tenants(State(aura): State<Arc<Aura>>, headers: HeaderMap) -> Response {
    match caller(&aura, &headers) {
        Some(client) => Json(json!({ "data": [{ "id": client.tenant, "name": "Acme production" }] })).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn instances(State(aura): State<Arc<Aura>>, headers: HeaderMap) -> Response {
    match caller(&aura, &headers) {
        Some(client) if client.can_list_instances => Json(json!({ "data": [] })).into_response(),
        Some(_) => StatusCode::FORBIDDEN.into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}
