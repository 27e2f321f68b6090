//! The Aura API, as far as the probe uses it: the OAuth 2.0
//! client-credentials token endpoint (client id and secret in HTTP Basic
//! auth, RFC 6749 §2.3.1) and bearer-protected tenants and instances.
//!
//! In the sandbox ([`Aura::sandbox`]) every client id exists and the
//! client secret steers ([`Magic`]): any other secret is accepted.

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

use crate::{Call, Issued, magic::Magic};

#[derive(Clone, Default)]
pub struct Client {
    pub secret: String,
    /// Its tenant; empty: it sees none.
    pub tenant: String,
    pub can_list_instances: bool,
}

#[derive(Default)]
pub struct Aura {
    /// Client id → client.
    pub clients: HashMap<String, Client>,
    /// Issued token → the client it was issued to.
    tokens: Mutex<Issued<Client>>,
    /// Clients are made up from the secret presented ([`sandbox_client`]).
    sandbox: bool,
}

impl Aura {
    pub fn new(clients: HashMap<String, Client>) -> Self {
        Self { clients, tokens: Mutex::default(), sandbox: false }
    }

    /// The sandbox: every client id exists; its secret says how it behaves.
    pub fn sandbox() -> Self {
        Self { sandbox: true, ..Self::default() }
    }
}

/// The client a sandbox secret stands for.
fn sandbox_client(secret: &str) -> Client {
    let magic = Magic::of(secret);
    Client {
        secret: if magic == Magic::WrongSecret { crate::random_token() } else { secret.to_owned() },
        tenant: if magic == Magic::NotFound { String::new() } else { "sandbox-tenant".into() },
        can_list_instances: magic != Magic::Denied,
    }
}

/// The emulator's routes; `aura` may be shared (`Arc<Aura>`).
pub fn router(aura: impl Into<Arc<Aura>>) -> Router {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/v1/tenants", get(tenants))
        .route("/v1/instances", get(instances))
        .with_state(aura.into())
}

/// The calls the probe makes, in order, for fault injection.
pub const CALLS: [Call; 3] = [
    Call { name: "aura token", matches: |_, path| path == "/oauth/token" },
    Call { name: "aura tenants", matches: |_, path| path == "/v1/tenants" },
    Call { name: "aura instances", matches: |_, path| path == "/v1/instances" },
];

/// The calls minting makes: the token request.
pub const MINT_CALLS: [Call; 1] = [CALLS[0]];

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
    if aura.sandbox
        && let Some(outage) = Magic::of(secret).outage()
    {
        return outage;
    }
    let client = if aura.sandbox { Some(sandbox_client(secret)) } else { aura.clients.get(id).cloned() };
    match client {
        Some(client) if client.secret == secret => {
            let token = crate::random_token();
            aura.tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(token.clone(), client);
            Json(json!({ "access_token": token, "token_type": "bearer", "expires_in": 3600 })).into_response()
        }
        _ => oauth_error(StatusCode::UNAUTHORIZED, "invalid_client"),
    }
}

fn caller(aura: &Aura, headers: &HeaderMap) -> Option<Client> {
    let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
    aura.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned()
}

async fn tenants(State(aura): State<Arc<Aura>>, headers: HeaderMap) -> Response {
    match caller(&aura, &headers) {
        Some(client) if client.tenant.is_empty() => Json(json!({ "data": [] })).into_response(),
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
