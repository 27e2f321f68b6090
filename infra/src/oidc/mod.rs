//! cloudconn as an OpenID Connect issuer (docs/keyless.md).
//!
//! A keyless connection stores no secret: for each validation or issue the
//! worker signs a short-lived JWT naming the connection (`sub`), and the
//! cloud exchanges it for credentials after checking it against the JWKS the
//! server publishes under the issuer URL.
//!
//! - [`Issuer`]: builds and signs tokens (the worker), and the discovery
//!   document and JWKS (the server), from one key list it refreshes.
//! - [`SigningKeys`]: where the key lives. Production: a Vault transit key
//!   ([`transit`]), whose private half never leaves Vault; `--dev`: a local
//!   key in the dev secret store (server crate).
//! - [`keys`]: which version signs and which are published (rotation).

pub mod keys;
pub mod transit;

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;

pub use self::keys::{Jwk, KeyVersion, Schedule};
use crate::{config::OidcConfig, secrets::SecretStoreError};

/// The longest a token lives. The clouds exchange it within seconds; five
/// minutes covers clock skew and a slow STS, and is what the contract allows.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// Where the JWKS is served, under the issuer.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Azure's fixed audience for federated credentials.
pub const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The most key versions published at once: a rotation a day for a year
/// stays far below it, a runaway rotation cannot make the JWKS unbounded.
const MAX_PUBLISHED: usize = 16;

/// Where the signing key lives.
#[async_trait::async_trait]
pub trait SigningKeys: Send + Sync + 'static {
    /// Every version still in the store, any order.
    async fn versions(&self) -> Result<Vec<KeyVersion>, SecretStoreError>;
    /// An RSASSA-PKCS1-v1_5 SHA-256 signature of `input` with `version`.
    async fn sign(&self, version: u64, input: &[u8]) -> Result<Vec<u8>, SecretStoreError>;
}

/// Whom a token speaks for: one connection, and why it is being used.
#[derive(Debug, Clone)]
pub struct Subject {
    pub workspace: String,
    /// The connection's uid: `sub` never changes with a rename.
    pub connection_id: String,
    pub tag: String,
    /// The scope being issued, or the scopes being validated (space-separated).
    pub scope: String,
    /// Who will use the credentials (`cloudconn-validation` for a validation).
    pub consumer: String,
}

impl Subject {
    /// `workspace:<ws>:connection:<uid>`, what the customer's trust matches.
    pub fn sub(&self) -> String {
        subject_of(&self.workspace, &self.connection_id)
    }
}

/// The `sub` of a connection's tokens.
pub fn subject_of(workspace: &str, connection_id: &str) -> String {
    format!("workspace:{workspace}:connection:{connection_id}")
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: String,
    aud: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
    workspace: &'a str,
    connection_tag: &'a str,
    scope: &'a str,
    consumer: &'a str,
}

/// Why no token or document could be made.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("the signing key could not be read or used: {0}")]
    Keys(#[from] SecretStoreError),
    #[error("the signing key has no usable version: {0}")]
    NoKey(String),
}

/// The key list with its JWKs, as last read.
struct KeySet {
    read_at: Instant,
    versions: Vec<KeyVersion>,
    jwks: Vec<(u64, Jwk)>,
}

pub struct Issuer {
    issuer: String,
    aws_audience: String,
    keys: Arc<dyn SigningKeys>,
    jwks_max_age: Duration,
    /// How stale the key list may get before it is read again.
    refresh: Duration,
    schedule: Schedule,
    cached: RwLock<Option<Arc<KeySet>>>,
    /// One refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
}

impl Issuer {
    /// `None` when `CLOUDCONN_OIDC_ISSUER` is unset.
    pub fn from_config(config: &OidcConfig, keys: Arc<dyn SigningKeys>) -> Option<Arc<Self>> {
        let issuer = config.oidc_issuer.clone()?;
        let jwks_max_age = config.jwks_max_age();
        // A quarter of the cache period, at most a minute: a new version is
        // seen well within the lead the schedule allows for it.
        let refresh = (jwks_max_age / 4).clamp(Duration::from_millis(250), Duration::from_secs(60));
        Some(Arc::new(Self {
            issuer,
            aws_audience: config.oidc_aws_audience.clone(),
            keys,
            jwks_max_age,
            refresh,
            schedule: Schedule::new(jwks_max_age, refresh, TOKEN_LIFETIME),
            cached: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }))
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn aws_audience(&self) -> &str {
        &self.aws_audience
    }

    pub fn jwks_max_age(&self) -> Duration {
        self.jwks_max_age
    }

    /// How often the server re-reads the key list.
    pub fn refresh_interval(&self) -> Duration {
        self.refresh
    }

    /// A signed token for `subject`, addressed to `audience`.
    pub async fn token(&self, subject: &Subject, audience: &str) -> Result<SecretString, IssuerError> {
        let set = self.current().await?;
        let now = Utc::now();
        let version =
            self.schedule.signing(&set.versions, now).ok_or_else(|| IssuerError::NoKey("no versions".into()))?;
        let kid = set.jwks.iter().find(|(v, _)| *v == version.version).map(|(_, jwk)| jwk.kid.clone());
        let kid = kid.ok_or_else(|| IssuerError::NoKey(format!("version {} is not an RSA key", version.version)))?;
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid});
        let claims = Claims {
            iss: &self.issuer,
            sub: subject.sub(),
            aud: audience,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + chrono::Duration::from_std(TOKEN_LIFETIME).unwrap_or_default()).timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
            workspace: &subject.workspace,
            connection_tag: &subject.tag,
            scope: &subject.scope,
            consumer: &subject.consumer,
        };
        let input = format!("{}.{}", encode_json(&header), encode_json(&claims));
        let signature = self.keys.sign(version.version, input.as_bytes()).await?;
        Ok(SecretString::from(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))))
    }

    /// The discovery document (OpenID Connect Discovery 1.0 §3), with what
    /// the clouds read: `issuer`, `jwks_uri`, the signing algorithm.
    pub fn discovery(&self) -> serde_json::Value {
        serde_json::json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}{JWKS_PATH}", self.issuer),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
            "claims_supported": [
                "iss", "sub", "aud", "iat", "nbf", "exp", "jti", "workspace", "connection_tag", "scope", "consumer"
            ],
        })
    }

    /// The JWKS from the last key list read, without waiting: `None` until
    /// the first read succeeded. The server serves this; [`Self::run_refresh`]
    /// keeps it current.
    pub fn jwks_snapshot(&self) -> Option<serde_json::Value> {
        let set = self.cached.read().unwrap_or_else(|e| e.into_inner()).clone()?;
        Some(self.jwks_of(&set, Utc::now()))
    }

    fn jwks_of(&self, set: &KeySet, now: DateTime<Utc>) -> serde_json::Value {
        let published = self.schedule.published(&set.versions, now);
        let keys: Vec<&Jwk> = published
            .iter()
            .rev()
            .take(MAX_PUBLISHED)
            .filter_map(|v| set.jwks.iter().find(|(n, _)| *n == v.version).map(|(_, jwk)| jwk))
            .collect();
        serde_json::json!({ "keys": keys })
    }

    /// Reads the key list every [`Self::refresh_interval`] until `shutdown`,
    /// so the JWKS endpoint never waits for the store (and serves the last
    /// good list while the store is down).
    pub async fn run_refresh(self: Arc<Self>, shutdown: tokio_util::sync::CancellationToken) {
        loop {
            if let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "oidc: reading the signing key's versions failed; serving the last ones");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.refresh) => {}
            }
        }
    }

    /// The key list, read again when older than the refresh interval.
    async fn current(&self) -> Result<Arc<KeySet>, IssuerError> {
        if let Some(set) = self.fresh() {
            return Ok(set);
        }
        let _one = self.refreshing.lock().await;
        // Another caller may have refreshed while we waited.
        if let Some(set) = self.fresh() {
            return Ok(set);
        }
        self.reload().await
    }

    fn fresh(&self) -> Option<Arc<KeySet>> {
        let set = self.cached.read().unwrap_or_else(|e| e.into_inner()).clone()?;
        (set.read_at.elapsed() < self.refresh).then_some(set)
    }

    async fn reload(&self) -> Result<Arc<KeySet>, IssuerError> {
        let mut versions = self.keys.versions().await?;
        if versions.is_empty() {
            return Err(IssuerError::NoKey("the key has no versions".into()));
        }
        versions.sort_by_key(|v| v.version);
        let mut jwks = Vec::with_capacity(versions.len());
        for v in &versions {
            match Jwk::from_pem(&v.public_pem) {
                Ok(jwk) => jwks.push((v.version, jwk)),
                Err(e) => tracing::warn!(version = v.version, error = %e, "oidc: a key version is not usable"),
            }
        }
        let set = Arc::new(KeySet { read_at: Instant::now(), versions, jwks });
        *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(set.clone());
        Ok(set)
    }
}

fn encode_json(value: &impl Serialize) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}
