//! A stand-in for cloudconn as an OpenID Connect issuer: its discovery
//! document and JWKS on a loopback port, and tokens signed with the fixed
//! test key (or with another one, which the JWKS does not publish).

use std::sync::Arc;

use axum::{Json, Router, http::header, response::IntoResponse, routing::get};
use cloudconn_sandbox::{Emulator, oidc::Verifier, serve};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::{pkcs8::DecodePrivateKey, traits::PublicKeyParts};
use serde_json::{Value, json};

/// The issuer URL cloudconn would have in production; its documents are
/// fetched from the loopback server instead.
pub const ISSUER: &str = "https://cloudconn.example.com";
pub const KID: &str = "cloudconn-test-1";
pub const SUBJECT: &str = "workspace:acme:connection:7d0e3c2a-5b1f-4a8e-9c6d-2f4b8a1e0c93";

const KEY: &str = include_str!("../../testdata/issuer.pem");
const OTHER_KEY: &str = include_str!("../../testdata/other.pem");

pub struct Issuer {
    pub server: Emulator,
}

/// Which key signs a token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The published key.
    Issuer,
    /// A key the JWKS does not publish, under the published key's kid.
    Other,
}

fn jwk(pem: &str, kid: &str) -> Value {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("test key");
    let b64 = |bytes: Vec<u8>| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    json!({ "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64(key.n().to_bytes_be()), "e": b64(key.e().to_bytes_be()) })
}

impl Issuer {
    pub async fn start() -> Self {
        let discovery = json!({
            "issuer": ISSUER,
            "jwks_uri": format!("{ISSUER}/.well-known/jwks.json"),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        });
        let jwks = json!({ "keys": [jwk(KEY, KID)] });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(move || async move { Json(discovery.clone()) }))
            .route(
                "/.well-known/jwks.json",
                get(move || async move {
                    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(jwks.clone())).into_response()
                }),
            );
        Self { server: serve(router).await }
    }

    /// A verifier of [`ISSUER`] that fetches from this server.
    pub fn verifier(&self) -> Arc<Verifier> {
        Arc::new(Verifier::new(ISSUER, self.server.url()))
    }

    /// cloudconn's claims for `audience`, valid now for five minutes.
    pub fn claims(audience: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": ISSUER,
            "sub": SUBJECT,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid::Uuid::new_v4().to_string(),
            "workspace": "acme",
            "connection_tag": "prod",
            "scope": "validate",
            "consumer": "cloudconn-worker",
        })
    }

    pub fn sign(claims: &Value, signer: Signer) -> String {
        let pem = if signer == Signer::Issuer { KEY } else { OTHER_KEY };
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("signing key");
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.into());
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    /// A valid token for `audience`.
    pub fn token(audience: &str) -> String {
        Self::sign(&Self::claims(audience), Signer::Issuer)
    }

    /// A token for `audience` with `change` made to its claims.
    pub fn token_with(audience: &str, change: impl FnOnce(&mut Value)) -> String {
        let mut claims = Self::claims(audience);
        change(&mut claims);
        Self::sign(&claims, Signer::Issuer)
    }

    /// A token that expired ten minutes ago (beyond the 60 s leeway).
    pub fn expired(audience: &str) -> String {
        Self::token_with(audience, |c| {
            let now = chrono::Utc::now().timestamp();
            c["iat"] = (now - 900).into();
            c["nbf"] = (now - 900).into();
            c["exp"] = (now - 600).into();
        })
    }

    /// A token of another issuer (signed with the same key: only `iss` differs).
    pub fn foreign(audience: &str) -> String {
        Self::token_with(audience, |c| c["iss"] = "https://elsewhere.example.com".into())
    }
}
