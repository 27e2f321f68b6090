//! The Atlas Administration API v2, as far as the probe uses it, with real
//! HTTP Digest authentication (RFC 7616, MD5, qop=auth): a request without
//! a valid digest response is answered 401 with a fresh challenge.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use md5::{Digest, Md5};
use serde_json::json;

use super::Call;

pub const ACCEPT: &str = "application/vnd.atlas.2023-01-01+json";
const REALM: &str = "MMS Public API";

/// An API key and what it may do.
#[derive(Clone, Default)]
pub struct Key {
    pub private_key: String,
    /// Projects the key can see.
    pub projects: Vec<String>,
    /// Whether it may list clusters (Project Read Only or more).
    pub can_read_clusters: bool,
    /// Refused as if the caller's IP were not on its access list.
    pub ip_blocked: bool,
}

#[derive(Default)]
pub struct Atlas {
    /// Public key → key.
    pub keys: HashMap<String, Key>,
    /// Project id → name.
    pub projects: HashMap<String, String>,
    nonces: Mutex<HashSet<String>>,
}

impl Atlas {
    pub fn new(keys: HashMap<String, Key>, projects: HashMap<String, String>) -> Self {
        Self { keys, projects, nonces: Mutex::default() }
    }
}

pub fn router(atlas: Atlas) -> Router {
    Router::new()
        .route("/api/atlas/v2/groups/{id}", get(group))
        .route("/api/atlas/v2/groups/{id}/clusters", get(clusters))
        .with_state(Arc::new(atlas))
}

/// The calls the probe makes, in order, for fault injection (each one's
/// digest challenge included: it is the same request, unauthenticated).
pub const CALLS: [Call; 2] = [
    Call {
        name: "atlas project",
        matches: |_, path| path.strip_prefix("/api/atlas/v2/groups/").is_some_and(|id| !id.contains('/')),
    },
    Call { name: "atlas clusters", matches: |_, path| path.ends_with("/clusters") },
];

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn error(status: StatusCode, code: &str) -> Response {
    (status, Json(json!({ "error": status.as_u16(), "errorCode": code, "reason": status.canonical_reason() })))
        .into_response()
}

/// Parses `Digest k="v", k=v, …`.
fn digest_params(value: &str) -> Option<HashMap<String, String>> {
    let rest = value.strip_prefix("Digest ")?;
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let value: String = if chars.peek() == Some(&'"') {
            chars.next();
            let v = chars.by_ref().take_while(|c| *c != '"').collect();
            v
        } else {
            chars.by_ref().take_while(|c| *c != ',').collect()
        };
        out.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Some(out)
}

impl Atlas {
    fn challenge(&self) -> Response {
        let nonce = super::random_token();
        self.nonces.lock().unwrap_or_else(|e| e.into_inner()).insert(nonce.clone());
        let header =
            format!(r#"Digest realm="{REALM}", domain="", nonce="{nonce}", algorithm=MD5, qop="auth", stale=false"#);
        let mut response = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header.parse().expect("header"));
        response
    }

    /// Checks the request's digest response; returns the key's public part.
    fn authenticate(&self, headers: &HeaderMap, path: &str) -> Result<String, Response> {
        let Some(params) = headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(digest_params)
        else {
            return Err(self.challenge());
        };
        let p = |k: &str| params.get(k).cloned().unwrap_or_default();
        let known_nonce = self.nonces.lock().unwrap_or_else(|e| e.into_inner()).contains(&p("nonce"));
        let Some(key) = self.keys.get(&p("username")) else { return Err(self.challenge()) };
        if !known_nonce || p("realm") != REALM || p("uri") != path || p("qop") != "auth" {
            return Err(self.challenge());
        }
        let ha1 = md5_hex(&format!("{}:{REALM}:{}", p("username"), key.private_key));
        let ha2 = md5_hex(&format!("GET:{}", p("uri")));
        let expected = md5_hex(&format!("{ha1}:{}:{}:{}:auth:{ha2}", p("nonce"), p("nc"), p("cnonce")));
        if expected != p("response") {
            return Err(self.challenge());
        }
        Ok(p("username"))
    }

    fn check(&self, headers: &HeaderMap, path: &str, project: &str) -> Result<Key, Response> {
        if headers.get(header::ACCEPT).and_then(|h| h.to_str().ok()) != Some(ACCEPT) {
            return Err(error(StatusCode::NOT_ACCEPTABLE, "INVALID_VERSION"));
        }
        let user = self.authenticate(headers, path)?;
        let key = self.keys[&user].clone();
        if key.ip_blocked {
            return Err(error(StatusCode::FORBIDDEN, "IP_ADDRESS_NOT_ON_ACCESS_LIST"));
        }
        if !self.projects.contains_key(project) || !key.projects.iter().any(|p| p == project) {
            return Err(error(StatusCode::NOT_FOUND, "GROUP_NOT_FOUND"));
        }
        Ok(key)
    }
}

async fn group(State(atlas): State<Arc<Atlas>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/api/atlas/v2/groups/{id}");
    match atlas.check(&headers, &path, &id) {
        Ok(_) => Json(
            json!({ "id": id, "name": atlas.projects[&id], "orgId": "5e0000000000000000000001", "clusterCount": 1 }),
        )
        .into_response(),
        Err(response) => response,
    }
}

async fn clusters(State(atlas): State<Arc<Atlas>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/api/atlas/v2/groups/{id}/clusters");
    match atlas.check(&headers, &path, &id) {
        Ok(key) if key.can_read_clusters => Json(json!({ "results": [], "totalCount": 0 })).into_response(),
        Ok(_) => error(StatusCode::FORBIDDEN, "USER_UNAUTHORIZED"),
        Err(response) => response,
    }
}
