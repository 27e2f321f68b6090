//! The Atlas Administration API v2, as far as the probe uses it, with real
//! HTTP Digest authentication (RFC 7616, MD5, qop=auth): a request without
//! a valid digest response is answered 401 with a fresh challenge.
//!
//! In the sandbox ([`Atlas::sandbox`]) every public key and project exists
//! and the private key steers ([`Magic`]). A digest response proves the
//! private key without sending it, so the sandbox tries each documented
//! word; a response made with any other private key is accepted (the
//! sandbox cannot know your key) after the same checks of realm, nonce, URI
//! and qop.

use std::{
    collections::HashMap,
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

use crate::{Call, Issued, magic::Magic};

pub const ACCEPT: &str = "application/vnd.atlas.2023-01-01+json";
const REALM: &str = "MMS Public API";

/// An API key and what it may do.
#[derive(Clone, Default)]
pub struct Key {
    pub private_key: String,
    /// Projects the key can see (`*`: every one, in the sandbox).
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
    nonces: Mutex<Issued<()>>,
    /// Keys are made up from the private key used ([`sandbox_key`]).
    sandbox: bool,
}

impl Atlas {
    pub fn new(keys: HashMap<String, Key>, projects: HashMap<String, String>) -> Self {
        Self { keys, projects, nonces: Mutex::default(), sandbox: false }
    }

    /// The sandbox: every key and project exists; the private key says how
    /// the key behaves.
    pub fn sandbox() -> Self {
        Self { sandbox: true, ..Self::default() }
    }
}

/// The key a sandbox private key stands for.
fn sandbox_key(private_key: &str) -> Key {
    let magic = Magic::of(private_key);
    Key {
        private_key: private_key.to_owned(),
        projects: if magic == Magic::NotFound { Vec::new() } else { vec!["*".into()] },
        can_read_clusters: magic != Magic::Denied,
        ip_blocked: false,
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
            chars.by_ref().take_while(|c| *c != '"').collect()
        } else {
            chars.by_ref().take_while(|c| *c != ',').collect()
        };
        out.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Some(out)
}

impl Atlas {
    fn challenge(&self) -> Response {
        let nonce = crate::random_token();
        self.nonces.lock().unwrap_or_else(|e| e.into_inner()).insert(nonce.clone(), ());
        let header =
            format!(r#"Digest realm="{REALM}", domain="", nonce="{nonce}", algorithm=MD5, qop="auth", stale=false"#);
        let mut response = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header.parse().expect("header"));
        response
    }

    /// Checks the request's digest response; returns the key it proves.
    fn authenticate(&self, headers: &HeaderMap, path: &str) -> Result<Key, Response> {
        let Some(params) = headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(digest_params)
        else {
            return Err(self.challenge());
        };
        let p = |k: &str| params.get(k).cloned().unwrap_or_default();
        let known_nonce = self.nonces.lock().unwrap_or_else(|e| e.into_inner()).contains(&p("nonce"));
        if !known_nonce || p("realm") != REALM || p("uri") != path || p("qop") != "auth" {
            return Err(self.challenge());
        }
        let proves = |private_key: &str| {
            let ha1 = md5_hex(&format!("{}:{REALM}:{private_key}", p("username")));
            let ha2 = md5_hex(&format!("GET:{}", p("uri")));
            md5_hex(&format!("{ha1}:{}:{}:{}:auth:{ha2}", p("nonce"), p("nc"), p("cnonce"))) == p("response")
        };
        if self.sandbox {
            let word = crate::magic::WORDS.iter().map(|(word, _)| *word).find(|word| proves(word));
            let key = sandbox_key(word.unwrap_or_default());
            return match Magic::of(&key.private_key) {
                Magic::WrongSecret => Err(self.challenge()),
                magic => magic.outage().map_or(Ok(key), Err),
            };
        }
        match self.keys.get(&p("username")) {
            Some(key) if proves(&key.private_key) => Ok(key.clone()),
            _ => Err(self.challenge()),
        }
    }

    fn check(&self, headers: &HeaderMap, path: &str, project: &str) -> Result<Key, Response> {
        if headers.get(header::ACCEPT).and_then(|h| h.to_str().ok()) != Some(ACCEPT) {
            return Err(error(StatusCode::NOT_ACCEPTABLE, "INVALID_VERSION"));
        }
        let key = self.authenticate(headers, path)?;
        if key.ip_blocked {
            return Err(error(StatusCode::FORBIDDEN, "IP_ADDRESS_NOT_ON_ACCESS_LIST"));
        }
        let every = key.projects.iter().any(|p| p == "*");
        if !every && (!self.projects.contains_key(project) || !key.projects.iter().any(|p| p == project)) {
            return Err(error(StatusCode::NOT_FOUND, "GROUP_NOT_FOUND"));
        }
        Ok(key)
    }
}

async fn group(State(atlas): State<Arc<Atlas>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/api/atlas/v2/groups/{id}");
    match atlas.check(&headers, &path, &id) {
        Ok(_) => Json(
            json!({ "id": id, "name": atlas.projects.get(&id).map_or("Sandbox project", String::as_str), "orgId": "5e0000000000000000000001", "clusterCount": 1 }),
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
