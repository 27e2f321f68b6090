//! Caller authentication and authorization.
//!
//! Every ConnectionService call carries `authorization: Bearer <JWT>`
//! (health and reflection need none). The token is verified with
//! `jsonwebtoken` — HS256 with `CLOUDCONN_AUTH_HS256_SECRET`, or RS256/ES256
//! with the keys of a JWKS (`CLOUDCONN_AUTH_JWKS`: a file or an https URL,
//! re-read every few minutes so a key rotation needs no restart). `exp` and
//! `nbf` are checked, `iss`/`aud` when configured.
//!
//! The interceptor turns a valid token into a [`Caller`] in the request
//! extensions; each RPC then asks the caller for the workspace and access it
//! needs. A caller without the workspace gets PERMISSION_DENIED before any
//! lookup, so the answer never tells whether a connection exists.

use std::{
    collections::HashSet,
    sync::{Arc, RwLock},
    time::Duration,
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Status, service::Interceptor};

use crate::error::AppError;

pub const READ_SCOPE: &str = "connections:read";
pub const WRITE_SCOPE: &str = "connections:write";

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's `sub`; recorded as the actor in the audit trail.
    pub subject: String,
    /// The token's `exp`: long-lived calls (watch streams) end then.
    pub expires: Option<std::time::SystemTime>,
    /// `None` = every workspace (`["*"]`).
    workspaces: Option<HashSet<String>>,
    can_read: bool,
    can_write: bool,
}

impl Caller {
    /// The caller when authentication is explicitly disabled.
    pub fn unauthenticated() -> Self {
        Self { subject: "anonymous".into(), expires: None, workspaces: None, can_read: true, can_write: true }
    }

    /// PERMISSION_DENIED unless the caller may do `access` in `workspace`.
    /// The same answer whether or not anything exists there.
    pub fn authorize(&self, workspace: &str, access: Access) -> Result<(), AppError> {
        let in_workspace = self.workspaces.as_ref().is_none_or(|w| w.contains(workspace));
        let allowed = match access {
            Access::Read => self.can_read || self.can_write,
            Access::Write => self.can_write,
        };
        if in_workspace && allowed { Ok(()) } else { Err(AppError::PermissionDenied) }
    }

    /// For calls not about one workspace (ListProviders).
    pub fn authorize_any(&self, access: Access) -> Result<(), AppError> {
        let allowed = match access {
            Access::Read => self.can_read || self.can_write,
            Access::Write => self.can_write,
        };
        if allowed { Ok(()) } else { Err(AppError::PermissionDenied) }
    }
}

/// The claims cloudconn reads.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    /// Seconds since the epoch (a JSON number, maybe fractional); required
    /// and checked by the validation.
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    workspaces: Vec<String>,
    /// Space-separated (RFC 8693 style).
    #[serde(default)]
    scope: String,
}

/// Where verification keys come from.
enum Keys {
    Hs256(DecodingKey),
    /// Refreshed in the background; `kid` → key.
    Jwks(Arc<RwLock<Vec<(Option<String>, Algorithm, DecodingKey)>>>),
}

#[derive(Clone)]
pub struct Authenticator {
    inner: Option<Arc<(Keys, Validation)>>,
}

/// Authentication settings (`CLOUDCONN_AUTH_*`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthConfig {
    /// `CLOUDCONN_AUTH_HS256_SECRET`: shared secret for HS256 tokens.
    #[serde(default)]
    pub auth_hs256_secret: Option<SecretString>,
    /// `CLOUDCONN_AUTH_JWKS`: a JWKS file path or an https URL (RS256/ES256 keys).
    #[serde(default)]
    pub auth_jwks: Option<String>,
    /// `CLOUDCONN_AUTH_ISSUER`: required `iss`, if set.
    #[serde(default)]
    pub auth_issuer: Option<String>,
    /// `CLOUDCONN_AUTH_AUDIENCE`: required `aud`, if set.
    #[serde(default)]
    pub auth_audience: Option<String>,
    /// `CLOUDCONN_AUTH_DISABLED`: `true` serves without authentication. Only
    /// for a trusted network; logged loudly.
    #[serde(default)]
    pub auth_disabled: bool,
}

impl AuthConfig {
    pub fn validate(&self) -> Result<(), cloudconn_infra::config::ConfigError> {
        use cloudconn_infra::config::ConfigError;
        match (&self.auth_hs256_secret, &self.auth_jwks, self.auth_disabled) {
            (Some(_), Some(_), _) => Err(ConfigError::Invalid(
                "set one of CLOUDCONN_AUTH_HS256_SECRET and CLOUDCONN_AUTH_JWKS, not both".into(),
            )),
            (None, None, false) => Err(ConfigError::Invalid(
                "authentication is not configured: set CLOUDCONN_AUTH_HS256_SECRET or CLOUDCONN_AUTH_JWKS \
                 (or CLOUDCONN_AUTH_DISABLED=true on a trusted network)"
                    .into(),
            )),
            (Some(secret), None, _) if secret.expose_secret().len() < 32 => {
                Err(ConfigError::Invalid("CLOUDCONN_AUTH_HS256_SECRET must be at least 32 bytes".into()))
            }
            _ => Ok(()),
        }
    }
}

fn validation(config: &AuthConfig, algorithms: &[Algorithm]) -> Validation {
    let mut v = Validation::new(algorithms[0]);
    v.algorithms = algorithms.to_vec();
    v.validate_nbf = true;
    v.leeway = 30;
    v.set_required_spec_claims(&["exp", "sub"]);
    if let Some(iss) = &config.auth_issuer {
        v.set_issuer(&[iss]);
    }
    match &config.auth_audience {
        Some(aud) => v.set_audience(&[aud]),
        None => v.validate_aud = false,
    }
    v
}

impl Authenticator {
    /// Builds the verifier; a JWKS source is loaded now and then re-read
    /// every `refresh` until `shutdown`.
    pub async fn new(config: &AuthConfig, refresh: Duration, shutdown: CancellationToken) -> anyhow::Result<Self> {
        if let Some(secret) = &config.auth_hs256_secret {
            let keys = Keys::Hs256(DecodingKey::from_secret(secret.expose_secret().as_bytes()));
            return Ok(Self { inner: Some(Arc::new((keys, validation(config, &[Algorithm::HS256])))) });
        }
        if let Some(source) = &config.auth_jwks {
            let initial = load_jwks(source).await?;
            let shared = Arc::new(RwLock::new(initial));
            let (source, target) = (source.clone(), shared.clone());
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(refresh) => {}
                    }
                    match load_jwks(&source).await {
                        Ok(keys) => *target.write().unwrap_or_else(|e| e.into_inner()) = keys,
                        Err(e) => {
                            tracing::warn!(error = format!("{e:#}"), "JWKS refresh failed; keeping the previous keys")
                        }
                    }
                }
            });
            let v = validation(config, &[Algorithm::RS256, Algorithm::ES256]);
            return Ok(Self { inner: Some(Arc::new((Keys::Jwks(shared), v))) });
        }
        tracing::warn!(
            "AUTHENTICATION IS DISABLED (CLOUDCONN_AUTH_DISABLED=true): every caller may read and change every workspace"
        );
        Ok(Self { inner: None })
    }

    /// Verifies a bearer token.
    pub fn verify(&self, token: &str) -> Result<Caller, AppError> {
        let Some(inner) = &self.inner else { return Ok(Caller::unauthenticated()) };
        let (keys, validation) = &**inner;
        let claims = match keys {
            Keys::Hs256(key) => jsonwebtoken::decode::<Claims>(token, key, validation),
            Keys::Jwks(set) => {
                let header = jsonwebtoken::decode_header(token).map_err(|_| AppError::Unauthenticated)?;
                let set = set.read().unwrap_or_else(|e| e.into_inner());
                let (alg, key) = set
                    .iter()
                    .find(|(kid, alg, _)| *alg == header.alg && (header.kid.is_none() || *kid == header.kid))
                    .map(|(_, alg, key)| (*alg, key.clone()))
                    .ok_or(AppError::Unauthenticated)?;
                drop(set);
                // jsonwebtoken refuses a validation listing algorithms of
                // another family than the key's: allow exactly this key's.
                let mut validation = validation.clone();
                validation.algorithms = vec![alg];
                jsonwebtoken::decode::<Claims>(token, &key, &validation)
            }
        }
        .map_err(|_| AppError::Unauthenticated)?
        .claims;
        let scopes: Vec<&str> = claims.scope.split_whitespace().collect();
        Ok(Caller {
            subject: claims.sub,
            expires: claims
                .exp
                .and_then(|exp| std::time::Duration::try_from_secs_f64(exp).ok())
                .map(|exp| std::time::UNIX_EPOCH + exp),
            workspaces: if claims.workspaces.iter().any(|w| w == "*") {
                None
            } else {
                Some(claims.workspaces.into_iter().collect())
            },
            can_read: scopes.contains(&READ_SCOPE),
            can_write: scopes.contains(&WRITE_SCOPE),
        })
    }
}

/// Reads a JWKS from a file or an https URL.
async fn load_jwks(source: &str) -> anyhow::Result<Vec<(Option<String>, Algorithm, DecodingKey)>> {
    let text = if source.starts_with("https://") || source.starts_with("http://") {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?
            .get(source)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?
    } else {
        tokio::fs::read_to_string(source).await?
    };
    let set: JwkSet = serde_json::from_str(&text)?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let Ok(key) = DecodingKey::from_jwk(jwk) else { continue };
        // The key type decides the algorithm: RSA keys verify RS256, P-256
        // keys ES256; anything else is skipped.
        use jsonwebtoken::jwk::AlgorithmParameters;
        let alg = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
            _ => continue,
        };
        keys.push((jwk.common.key_id.clone(), alg, key));
    }
    anyhow::ensure!(!keys.is_empty(), "the JWKS at {source} has no RS256 or ES256 key");
    Ok(keys)
}

impl Interceptor for Authenticator {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let caller = if self.inner.is_none() {
            Caller::unauthenticated()
        } else {
            let token = request
                .metadata()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .ok_or_else(|| Status::from(AppError::Unauthenticated))?;
            self.verify(token.trim()).map_err(Status::from)?
        };
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

/// The caller the interceptor attached. Missing only if the service was
/// mounted without the interceptor, which is a bug: refuse.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, AppError> {
    request.extensions().get::<Caller>().cloned().ok_or(AppError::Unauthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(workspaces: Option<&[&str]>, read: bool, write: bool) -> Caller {
        Caller {
            subject: "s".into(),
            expires: None,
            workspaces: workspaces.map(|w| w.iter().map(|s| s.to_string()).collect()),
            can_read: read,
            can_write: write,
        }
    }

    #[test]
    fn workspace_and_scope_rules() {
        let reader = caller(Some(&["acme"]), true, false);
        assert!(reader.authorize("acme", Access::Read).is_ok());
        assert!(reader.authorize("acme", Access::Write).is_err());
        assert!(reader.authorize("globex", Access::Read).is_err());
        let writer = caller(Some(&["acme"]), false, true);
        assert!(writer.authorize("acme", Access::Read).is_ok(), "write implies read");
        let platform = caller(None, true, true);
        assert!(platform.authorize("anything", Access::Write).is_ok());
        let nothing = caller(None, false, false);
        assert!(nothing.authorize_any(Access::Read).is_err());
    }
}
