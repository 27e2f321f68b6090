//! An identity provider's JWKS endpoint for the tests: a small HTTP server
//! on 127.0.0.1 whose answer a test changes while the app runs (new keys,
//! failures, a redirect, an oversized body), counting the fetches; and the
//! keys and tokens to go with it.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};

use super::auth::{AUDIENCE, ISSUER};

/// An RSA key (PEM) only the tests know.
pub const RSA_KEY_A: &str = include_str!("../../fixtures/gcp-test-key.pem");
/// A second one.
pub const RSA_KEY_B: &str = include_str!("../../fixtures/gcp-other-key.pem");

/// What the endpoint answers.
#[derive(Clone)]
pub enum Answer {
    /// 200 with this body.
    Body(String),
    /// 500.
    Fail,
    /// 302 to this URL.
    Redirect(String),
}

#[derive(Clone)]
struct Shared {
    answer: Arc<Mutex<Answer>>,
    fetches: Arc<AtomicUsize>,
}

/// The running endpoint; it stops when the test's runtime ends.
pub struct JwksServer {
    addr: SocketAddr,
    shared: Shared,
}

impl JwksServer {
    pub async fn start(answer: Answer) -> Self {
        let shared = Shared { answer: Arc::new(Mutex::new(answer)), fetches: Arc::new(AtomicUsize::new(0)) };
        let router = Router::new().route("/jwks", get(jwks)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind jwks server");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { addr, shared }
    }

    /// The JWKS URL (plain http: the host is loopback).
    pub fn url(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }

    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap_or_else(|e| e.into_inner()) = answer;
    }

    /// How many times the JWKS was fetched.
    pub fn fetches(&self) -> usize {
        self.shared.fetches.load(Ordering::SeqCst)
    }
}

async fn jwks(State(shared): State<Shared>) -> Response {
    shared.fetches.fetch_add(1, Ordering::SeqCst);
    let answer = shared.answer.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match answer {
        Answer::Body(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Answer::Fail => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Answer::Redirect(to) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
    }
}

/// The public half of an RSA key as a JWK with this `kid`, with `extra`
/// members (`use`, `alg`) merged in.
pub fn rsa_jwk(kid: &str, pem: &str, extra: serde_json::Value) -> serde_json::Value {
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("rsa pem");
    jwk(kid, &key, Algorithm::RS256, extra)
}

/// A fresh P-256 key (PKCS#8 PEM).
pub fn ec_key() -> String {
    rcgen::KeyPair::generate().expect("P-256 key").serialize_pem()
}

/// The public half of a P-256 key as a JWK (see [`rsa_jwk`]).
pub fn ec_jwk(kid: &str, pem: &str, extra: serde_json::Value) -> serde_json::Value {
    let key = EncodingKey::from_ec_pem(pem.as_bytes()).expect("ec pem");
    jwk(kid, &key, Algorithm::ES256, extra)
}

fn jwk(kid: &str, key: &EncodingKey, alg: Algorithm, extra: serde_json::Value) -> serde_json::Value {
    let mut jwk = Jwk::from_encoding_key(key, alg).expect("jwk");
    jwk.common.key_id = Some(kid.to_owned());
    let mut value = serde_json::to_value(jwk).expect("jwk json");
    if let (Some(map), serde_json::Value::Object(extra)) = (value.as_object_mut(), extra) {
        map.extend(extra);
    }
    value
}

/// `{"keys": [...]}`.
pub fn set(keys: &[serde_json::Value]) -> String {
    serde_json::json!({ "keys": keys }).to_string()
}

/// A platform-wide read token for the test app's issuer and audience,
/// signed with `pem` (RSA for RS256, P-256 for ES256) under `kid`.
pub fn token(kid: &str, alg: Algorithm, pem: &str) -> String {
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
    }
    .expect("signing key");
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "sub": "jwks-caller", "workspaces": ["*"], "scope": "connections:read",
        "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600,
    });
    jsonwebtoken::encode(&header, &claims, &key).expect("sign")
}
