//! Tokens for the tests: minted with the test app's HS256 secret, and a
//! client interceptor that sends one.

use cloudconn_proto::v1::connection_service_client::ConnectionServiceClient;
use jsonwebtoken::{EncodingKey, Header};
use tonic::{
    Request, Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};

/// Sends `authorization: Bearer <token>` (or nothing).
#[derive(Clone, Default)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    pub fn new(token: &str) -> Self {
        Self(Some(format!("Bearer {token}").parse().expect("ascii token")))
    }

    pub fn none() -> Self {
        Self(None)
    }

    /// Sends `authorization: <value>` as is (another scheme, no prefix).
    pub fn raw(value: &str) -> Self {
        Self(Some(value.parse().expect("ascii value")))
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The API client the tests use.
pub type Client = ConnectionServiceClient<InterceptedService<Channel, Bearer>>;

/// The `aud` every test app requires (production requires one) and every
/// minted token carries.
pub const AUDIENCE: &str = "cloudconn-test";
/// The `iss` a test app with a JWKS requires.
pub const ISSUER: &str = "https://issuer.cloudconn.test";

/// What a minted token says.
pub struct TokenSpec<'a> {
    pub sub: &'a str,
    pub workspaces: &'a [&'a str],
    pub scope: &'a str,
    /// Seconds from now to `exp` (negative: already expired).
    pub expires_in: i64,
}

impl Default for TokenSpec<'_> {
    fn default() -> Self {
        Self { sub: "test-admin", workspaces: &["*"], scope: "connections:read connections:write", expires_in: 3600 }
    }
}

/// An HS256 token signed with `secret`.
pub fn mint(secret: &str, spec: &TokenSpec<'_>) -> String {
    sign(secret, &claims(spec))
}

/// The claims [`mint`] signs, for a test to change before [`sign`]ing.
pub fn claims(spec: &TokenSpec<'_>) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    serde_json::json!({
        "sub": spec.sub,
        "workspaces": spec.workspaces,
        "scope": spec.scope,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + spec.expires_in,
    })
}

/// `claims` as an HS256 token signed with `secret`.
pub fn sign(secret: &str, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(&Header::default(), claims, &EncodingKey::from_secret(secret.as_bytes())).expect("mint")
}
