//! Caller authentication and authorization.
//!
//! Every ConnectionService call carries `authorization: Bearer <JWT>`
//! (health and reflection need none). The token is verified with
//! `jsonwebtoken` — HS256 with `CLOUDCONN_AUTH_HS256_SECRET`, or RS256/ES256
//! with the keys of a JWKS (`CLOUDCONN_AUTH_JWKS`: a file or an https URL,
//! re-read every few minutes so a key rotation needs no restart). `exp` and
//! `nbf` are checked; `aud` (and, with a JWKS, `iss`) are required in
//! production.
//!
//! The JWKS is trusted only as far as it can be: an https URL (loopback
//! aside), no redirects, at most 256 KiB; only signature keys (`use: sig`)
//! whose declared `alg` matches the key type (RSA → RS256, P-256 → ES256).
//! A token naming a `kid` we do not know makes one early refetch (at most
//! every 30 s). When the JWKS could not be refreshed for
//! `CLOUDCONN_AUTH_JWKS_MAX_STALE_MS`, every token is refused ("signing keys
//! are stale") until a refresh succeeds: a key the issuer withdrew must not
//! stay trusted because someone blocks the refresh.
//!
//! [`Authenticated`] wraps the API service: it turns a valid token into a
//! [`Caller`] in the request extensions (asynchronously, so the unknown-`kid`
//! refetch can finish before the answer); each RPC then asks the caller for
//! the workspace and access it needs. A caller without the workspace gets
//! PERMISSION_DENIED before any lookup, so the answer never tells whether a
//! connection exists.

use std::{
    collections::HashSet,
    path::PathBuf,
    pin::Pin,
    sync::{Arc, RwLock},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    errors::ErrorKind,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use tonic::{Status, server::NamedService};

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

    /// PERMISSION_DENIED unless the caller may do `access` in `workspace`,
    /// naming what the token lacks. Decided from the token and the request
    /// alone, so the answer is the same whether or not anything exists there.
    pub fn authorize(&self, workspace: &str, access: Access) -> Result<(), AppError> {
        if !self.workspaces.as_ref().is_none_or(|w| w.contains(workspace)) {
            return Err(AppError::PermissionDenied(Denied::Workspace(bounded(workspace))));
        }
        self.authorize_any(access)
    }

    /// For calls not about one workspace (ListProviders).
    pub fn authorize_any(&self, access: Access) -> Result<(), AppError> {
        match access {
            Access::Read if self.can_read || self.can_write => Ok(()),
            Access::Write if self.can_write => Ok(()),
            Access::Read => Err(AppError::PermissionDenied(Denied::Scope(READ_SCOPE))),
            Access::Write => Err(AppError::PermissionDenied(Denied::Scope(WRITE_SCOPE))),
        }
    }
}

/// What a valid token lacks for a call (PERMISSION_DENIED).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// For reading, `connections:write` would do too.
    #[error("the token lacks the {0} scope")]
    Scope(&'static str),
    /// The workspace the caller itself sent (so no secret to it), bounded.
    #[error("the token does not grant workspace {0:?}")]
    Workspace(String),
}

impl Denied {
    /// `ErrorInfo.metadata["missing"]`; the message names which.
    pub fn missing(&self) -> &'static str {
        match self {
            Self::Scope(_) => "scope",
            Self::Workspace(_) => "workspace",
        }
    }
}

/// At most 100 characters of what the caller sent, for a message: the
/// workspace is checked before it is parsed, so it may be anything.
fn bounded(text: &str) -> String {
    match text.char_indices().nth(100) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Why a call is UNAUTHENTICATED. The message says what is wrong with the
/// credentials and never repeats the token, a key or which keys exist; the
/// configured issuer and audience are no secret (every token carries them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("no credentials: send the metadata `authorization: Bearer <JWT>`")]
    NoCredentials,
    #[error("the authorization metadata is not `Bearer <JWT>`: the `Bearer ` prefix is missing")]
    NotBearer,
    #[error("the bearer token is not a JWT (three base64url parts: header.payload.signature)")]
    NotAJwt,
    /// Bad signature, unknown key id or an algorithm not accepted: one
    /// answer, so a caller cannot probe which keys exist.
    #[error("the token's signature does not verify with any key this server trusts")]
    BadSignature,
    #[error("the token expired at {at} ({leeway_secs} s of clock skew allowed); get a new one")]
    Expired { at: String, leeway_secs: u64 },
    #[error("the token is not valid before {at} (its nbf; {leeway_secs} s of clock skew allowed)")]
    NotYetValid { at: String, leeway_secs: u64 },
    #[error("the token's iss is not the issuer this server accepts: expected {expected:?}")]
    WrongIssuer { expected: String },
    #[error("the token's aud does not include this server's audience: expected {expected:?}")]
    WrongAudience { expected: String },
    #[error("the token lacks the required {claim} claim{}", expected.as_ref().map(|e| format!(": expected {e:?}")).unwrap_or_default())]
    MissingClaim { claim: String, expected: Option<String> },
    #[error("the token's {claim} claim is not valid: {why}")]
    InvalidClaim { claim: String, why: &'static str },
    /// The signature verified but the claims are not of the types read here.
    #[error(
        "the token's claims are not what cloudconn reads: sub a string, exp a number, workspaces a list of strings, scope a string"
    )]
    UnreadableClaims,
}

impl AuthFailure {
    /// `ErrorInfo.metadata["cause"]`: stable, for clients and logs.
    pub fn cause(&self) -> &'static str {
        match self {
            Self::NoCredentials => "missing",
            Self::NotBearer => "not_bearer",
            Self::NotAJwt => "malformed",
            Self::BadSignature => "bad_signature",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::WrongIssuer { .. } => "wrong_issuer",
            Self::WrongAudience { .. } => "wrong_audience",
            Self::MissingClaim { .. } => "missing_claim",
            Self::InvalidClaim { .. } | Self::UnreadableClaims => "invalid_claim",
        }
    }
}

/// The claims cloudconn reads.
#[derive(Debug, Deserialize)]
struct Claims {
    /// Required by the validation; optional here so that its absence is
    /// reported as a missing claim (serde runs before the validation).
    #[serde(default)]
    sub: Option<String>,
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

/// Largest JWKS accepted; real ones are a few KiB.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Least time between two refetches for an unknown `kid`: a caller making
/// up `kid`s must not make us hammer the issuer.
const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// One key a JWKS offers for verification.
struct VerifyingKey {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// The keys of a JWKS and when they were last fetched successfully.
struct KeySet {
    keys: Vec<VerifyingKey>,
    fetched: Instant,
}

/// Where a JWKS comes from.
enum JwksSource {
    File(PathBuf),
    Url { url: String, client: reqwest::Client },
}

/// A JWKS kept fresh: refreshed in the background, refetched early for an
/// unknown `kid`, refused when stale.
struct Jwks {
    source: JwksSource,
    state: RwLock<KeySet>,
    /// When the last unknown-`kid` refetch started; the async lock makes
    /// concurrent callers wait for one refetch instead of starting many.
    last_refetch: tokio::sync::Mutex<Option<Instant>>,
    max_stale: Duration,
}

/// Where verification keys come from.
enum Keys {
    Hs256(DecodingKey),
    Jwks(Arc<Jwks>),
}

#[derive(Clone)]
pub struct Authenticator {
    inner: Option<Arc<(Keys, Validation)>>,
}

/// Authentication settings (`CLOUDCONN_AUTH_*`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthConfig {
    /// `CLOUDCONN_AUTH_HS256_SECRET`: shared secret for HS256 tokens (or
    /// `CLOUDCONN_AUTH_HS256_SECRET_FILE`: a file holding it).
    #[serde(default)]
    pub auth_hs256_secret: Option<SecretString>,
    /// `CLOUDCONN_AUTH_JWKS`: a JWKS file path or an https URL (RS256/ES256 keys).
    #[serde(default)]
    pub auth_jwks: Option<String>,
    /// `CLOUDCONN_AUTH_ISSUER`: required `iss`; required in production with a JWKS.
    #[serde(default)]
    pub auth_issuer: Option<String>,
    /// `CLOUDCONN_AUTH_AUDIENCE`: required `aud`; required in production.
    #[serde(default)]
    pub auth_audience: Option<String>,
    /// `CLOUDCONN_AUTH_DISABLED`: `true` serves without authentication. Only
    /// for a trusted network; logged loudly.
    #[serde(default)]
    pub auth_disabled: bool,
}

impl AuthConfig {
    /// Production's checks; plaintext JWKS URLs are recorded in `found`
    /// (refused unless `policy` allows them).
    pub fn validate(
        &self,
        policy: &cloudconn_infra::config::TransportConfig,
        found: &mut cloudconn_infra::config::Findings,
    ) {
        match (&self.auth_hs256_secret, &self.auth_jwks, self.auth_disabled) {
            (Some(_), Some(_), _) => {
                found.problem("set one of CLOUDCONN_AUTH_HS256_SECRET and CLOUDCONN_AUTH_JWKS, not both")
            }
            (None, None, false) => found.problem(
                "authentication is not configured: set CLOUDCONN_AUTH_HS256_SECRET or CLOUDCONN_AUTH_JWKS \
                 (or CLOUDCONN_AUTH_DISABLED=true on a trusted network)",
            ),
            (Some(secret), None, _) if secret.expose_secret().len() < 32 => {
                found.problem("CLOUDCONN_AUTH_HS256_SECRET must be at least 32 bytes")
            }
            _ => {}
        }
        if self.auth_disabled && self.auth_hs256_secret.is_none() && self.auth_jwks.is_none() {
            return;
        }
        // Without `aud`, any token the same key signed for another service
        // (same IdP, same shared secret) would do here.
        if self.auth_audience.is_none() {
            found.problem(
                "CLOUDCONN_AUTH_AUDIENCE is required: set it to the `aud` your tokens are issued for (e.g. cloudconn)",
            );
        }
        if let Some(jwks) = &self.auth_jwks {
            if self.auth_issuer.is_none() {
                found.problem(
                    "CLOUDCONN_AUTH_ISSUER is required with CLOUDCONN_AUTH_JWKS: set it to your issuer's `iss`",
                );
            }
            if jwks.contains("://") {
                match reqwest::Url::parse(jwks) {
                    Ok(url) if matches!(url.scheme(), "https" | "http") => {
                        found.transport(policy, "CLOUDCONN_AUTH_JWKS", jwks, "https", "http")
                    }
                    _ => found.problem("CLOUDCONN_AUTH_JWKS must be a file path or an https:// URL"),
                }
            }
        }
    }
}

fn validation(config: &AuthConfig, algorithms: &[Algorithm]) -> Validation {
    let mut v = Validation::new(algorithms[0]);
    v.algorithms = algorithms.to_vec();
    v.validate_nbf = true;
    v.leeway = 30;
    // jsonwebtoken checks `iss` and `aud` only when the token has them:
    // a configured one must be present too.
    let mut required = vec!["exp", "sub"];
    if let Some(iss) = &config.auth_issuer {
        v.set_issuer(&[iss]);
        required.push("iss");
    }
    match &config.auth_audience {
        Some(aud) => {
            v.set_audience(&[aud]);
            required.push("aud");
        }
        None => v.validate_aud = false,
    }
    v.set_required_spec_claims(&required);
    v
}

impl Authenticator {
    /// Builds the verifier; a JWKS source is loaded now (an error refuses
    /// the start) and then re-read every `refresh` until `shutdown`. Keys not
    /// refreshed for `max_stale` verify nothing.
    pub async fn new(
        config: &AuthConfig,
        refresh: Duration,
        max_stale: Duration,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        if let Some(secret) = &config.auth_hs256_secret {
            let keys = Keys::Hs256(DecodingKey::from_secret(secret.expose_secret().as_bytes()));
            return Ok(Self { inner: Some(Arc::new((keys, validation(config, &[Algorithm::HS256])))) });
        }
        if let Some(source) = &config.auth_jwks {
            let source = if source.contains("://") {
                cloudconn_infra::tls::install_crypto_provider();
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    // A redirect could lead anywhere, https → http included.
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?;
                JwksSource::Url { url: source.clone(), client }
            } else {
                JwksSource::File(PathBuf::from(source))
            };
            let keys = source.load().await?;
            let jwks = Arc::new(Jwks {
                source,
                state: RwLock::new(KeySet { keys, fetched: Instant::now() }),
                last_refetch: tokio::sync::Mutex::new(None),
                max_stale,
            });
            tokio::spawn(jwks.clone().refresh(refresh, shutdown));
            let v = validation(config, &[Algorithm::RS256, Algorithm::ES256]);
            return Ok(Self { inner: Some(Arc::new((Keys::Jwks(jwks), v))) });
        }
        tracing::warn!(
            "AUTHENTICATION IS DISABLED (CLOUDCONN_AUTH_DISABLED=true): every caller may read and change every workspace"
        );
        Ok(Self { inner: None })
    }

    /// Verifies a bearer token; a refusal says which check failed.
    pub async fn verify(&self, token: &str) -> Result<Caller, AppError> {
        let Some(inner) = &self.inner else { return Ok(Caller::unauthenticated()) };
        let (keys, validation) = &**inner;
        // A header that does not parse is no JWT, whoever signed it.
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::NotAJwt)?;
        let decoded = match keys {
            Keys::Hs256(key) => jsonwebtoken::decode::<Claims>(token, key, validation),
            Keys::Jwks(jwks) => {
                let (alg, key) = match jwks.find(header.alg, header.kid.as_deref())? {
                    Some(found) => found,
                    None => {
                        jwks.refetch_for_unknown_kid().await;
                        jwks.find(header.alg, header.kid.as_deref())?.ok_or(AuthFailure::BadSignature)?
                    }
                };
                // jsonwebtoken refuses a validation listing algorithms of
                // another family than the key's: allow exactly this key's.
                let mut validation = validation.clone();
                validation.algorithms = vec![alg];
                jsonwebtoken::decode::<Claims>(token, &key, &validation)
            }
        };
        let claims = decoded.map_err(|e| refusal(token, e.kind(), validation))?.claims;
        let subject = claims.sub.ok_or(AuthFailure::MissingClaim { claim: "sub".into(), expected: None })?;
        // The audit trail records `sub` as the actor (at most 255 characters).
        if subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(AuthFailure::InvalidClaim { claim: "sub".into(), why: "longer than 255 characters" }.into());
        }
        let scopes: Vec<&str> = claims.scope.split_whitespace().collect();
        Ok(Caller {
            subject,
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

    /// The caller a request's `authorization` metadata makes.
    async fn caller(&self, headers: &http::HeaderMap) -> Result<Caller, AppError> {
        if self.inner.is_none() {
            return Ok(Caller::unauthenticated());
        }
        let value = headers.get("authorization").ok_or(AuthFailure::NoCredentials)?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .ok_or(AuthFailure::NotBearer)?;
        self.verify(token.trim()).await
    }
}

/// Longest token subject accepted (the audit trail's actor column).
pub const MAX_SUBJECT_CHARS: usize = 255;

/// What a failed `decode` tells the caller. Times are read from the token
/// only for `exp`/`nbf` failures, which jsonwebtoken reports after the
/// signature verified, so they are the issuer's own.
fn refusal(token: &str, kind: &ErrorKind, validation: &Validation) -> AuthFailure {
    let leeway_secs = validation.leeway;
    let expected = |set: &Option<HashSet<String>>| set.iter().flatten().next().cloned().unwrap_or_default();
    match kind {
        ErrorKind::ExpiredSignature => AuthFailure::Expired { at: claim_time(token, "exp"), leeway_secs },
        ErrorKind::ImmatureSignature => AuthFailure::NotYetValid { at: claim_time(token, "nbf"), leeway_secs },
        ErrorKind::InvalidIssuer => AuthFailure::WrongIssuer { expected: expected(&validation.iss) },
        ErrorKind::InvalidAudience => AuthFailure::WrongAudience { expected: expected(&validation.aud) },
        ErrorKind::MissingRequiredClaim(claim) => AuthFailure::MissingClaim {
            claim: claim.clone(),
            expected: match claim.as_str() {
                "iss" => Some(expected(&validation.iss)),
                "aud" => Some(expected(&validation.aud)),
                _ => None,
            },
        },
        ErrorKind::InvalidClaimFormat(claim) => {
            AuthFailure::InvalidClaim { claim: claim.clone(), why: "not a number of seconds since the epoch" }
        }
        // The claims decode only once the signature verified.
        ErrorKind::Json(_) => AuthFailure::UnreadableClaims,
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => AuthFailure::NotAJwt,
        // A wrong signature, an algorithm not accepted, a key of another type.
        _ => AuthFailure::BadSignature,
    }
}

/// A numeric date claim as RFC 3339 UTC (`2026-11-26T12:00:00Z`).
fn claim_time(token: &str, claim: &str) -> String {
    jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(token)
        .ok()
        .and_then(|claims| claims.get(claim)?.as_f64())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs.floor() as i64, 0))
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("an unreadable {claim}"))
}

impl Jwks {
    /// The key for a token's `alg` and `kid`: `Ok(None)` if there is none,
    /// an error if the keys are too old to trust.
    fn find(&self, alg: Algorithm, kid: Option<&str>) -> Result<Option<(Algorithm, DecodingKey)>, AppError> {
        let set = self.state.read().unwrap_or_else(|e| e.into_inner());
        if set.fetched.elapsed() > self.max_stale {
            return Err(AppError::SigningKeysStale);
        }
        Ok(set
            .keys
            .iter()
            .find(|k| k.alg == alg && (kid.is_none() || k.kid.as_deref() == kid))
            .map(|k| (k.alg, k.key.clone())))
    }

    fn replace(&self, keys: Vec<VerifyingKey>) {
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = KeySet { keys, fetched: Instant::now() };
    }

    /// A token named a key we do not have: the issuer may have just added
    /// it. Fetch again, unless that was done in the last 30 s.
    async fn refetch_for_unknown_kid(&self) {
        let mut last = self.last_refetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_REFETCH_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        match self.source.load().await {
            Ok(keys) => self.replace(keys),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "JWKS refetch for an unknown key id failed"),
        }
    }

    /// Re-reads the JWKS every `refresh` until `shutdown`.
    async fn refresh(self: Arc<Self>, refresh: Duration, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(refresh) => {}
            }
            match self.source.load().await {
                Ok(keys) => self.replace(keys),
                Err(e) => {
                    let age = self.state.read().unwrap_or_else(|e| e.into_inner()).fetched.elapsed();
                    if age > self.max_stale {
                        tracing::error!(
                            error = format!("{e:#}"),
                            age_secs = age.as_secs(),
                            "JWKS refresh failed and the keys are stale: every token is refused until it succeeds"
                        );
                    } else {
                        tracing::warn!(
                            error = format!("{e:#}"),
                            age_secs = age.as_secs(),
                            "JWKS refresh failed; keeping the previous keys for now"
                        );
                    }
                }
            }
        }
    }
}

impl JwksSource {
    async fn load(&self) -> anyhow::Result<Vec<VerifyingKey>> {
        let (bytes, name) = match self {
            JwksSource::File(path) => {
                let len = tokio::fs::metadata(path).await?.len();
                anyhow::ensure!(len <= MAX_JWKS_BYTES as u64, "the JWKS {} is larger than 256 KiB", path.display());
                (tokio::fs::read(path).await?, path.display().to_string())
            }
            JwksSource::Url { url, client } => (fetch_capped(client, url).await?, url.clone()),
        };
        let keys = parse_jwks(&bytes)?;
        anyhow::ensure!(!keys.is_empty(), "the JWKS at {name} has no usable RS256 or ES256 signing key");
        Ok(keys)
    }
}

/// GETs `url` without following redirects, reading at most
/// [`MAX_JWKS_BYTES`] of the body.
async fn fetch_capped(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let mut response = client.get(url).send().await?;
    let status = response.status();
    anyhow::ensure!(
        !status.is_redirection(),
        "the JWKS at {url} answered {status}, a redirect, which is not followed: configure the final URL"
    );
    anyhow::ensure!(status.is_success(), "the JWKS at {url} answered {status}");
    let too_large = || anyhow::anyhow!("the JWKS at {url} is larger than 256 KiB");
    if response.content_length().is_some_and(|n| n > MAX_JWKS_BYTES as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The usable signing keys of a JWKS document. Each key is read on its own,
/// so one the library does not know (another `kty` or `alg`) is skipped
/// rather than failing the whole set.
fn parse_jwks(bytes: &[u8]) -> anyhow::Result<Vec<VerifyingKey>> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let set: RawSet = serde_json::from_slice(bytes)?;
    let mut keys = Vec::new();
    for raw in set.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else { continue };
        let Some(alg) = signing_algorithm(&jwk) else { continue };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else { continue };
        keys.push(VerifyingKey { kid: jwk.common.key_id.clone(), alg, key });
    }
    Ok(keys)
}

/// The algorithm a JWK verifies, or `None` if it must not be used: not a
/// signature key (`use`, `key_ops`), a declared `alg` that is not the one
/// its type gives (RSA → RS256, EC P-256 → ES256), or another type or curve.
fn signing_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if jwk.common.public_key_use.as_ref().is_some_and(|u| !matches!(u, PublicKeyUse::Signature)) {
        return None;
    }
    if jwk.common.key_operations.as_ref().is_some_and(|ops| !ops.iter().any(|o| matches!(o, KeyOperations::Verify))) {
        return None;
    }
    let (alg, declared) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        _ => return None,
    };
    match &jwk.common.key_algorithm {
        Some(a) if *a != declared => None,
        _ => Some(alg),
    }
}

/// The API service behind authentication: each request's token is verified
/// (the `Caller` then rides in its extensions) or the request is answered
/// UNAUTHENTICATED without reaching the service.
#[derive(Clone)]
pub struct Authenticated<S> {
    inner: S,
    auth: Authenticator,
}

impl<S> Authenticated<S> {
    pub fn new(inner: S, auth: Authenticator) -> Self {
        Self { inner, auth }
    }
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower::Service<http::Request<B>> for Authenticated<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The service that was polled ready goes with this request; a clone
        // stays for the next (tower's usual hand-over).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            match auth.caller(request.headers()).await {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                    inner.call(request).await
                }
                Err(refused) => {
                    log_refusal(&request, &refused);
                    Ok(Status::from(refused).into_http())
                }
            }
        })
    }
}

/// One info line per refused call: the cause and the caller's address,
/// never the token. tonic puts the peer's `TcpConnectInfo` in the request
/// extensions (over TLS too, next to the `TlsConnectInfo`).
fn log_refusal<B>(request: &http::Request<B>, refused: &AppError) {
    let peer = request.extensions().get::<tonic::transport::server::TcpConnectInfo>().and_then(|i| i.remote_addr());
    let cause = match refused {
        AppError::Unauthenticated(failure) => failure.cause(),
        AppError::SigningKeysStale => "signing_keys_stale",
        _ => "other",
    };
    tracing::info!(
        peer = peer.map(|p| p.to_string()).as_deref().unwrap_or("unknown"),
        cause,
        "refused an unauthenticated call: {refused}"
    );
}

/// The caller [`Authenticated`] attached. Missing only if the service was
/// mounted without it, which is a bug: refuse.
pub fn caller<T>(request: &tonic::Request<T>) -> Result<Caller, AppError> {
    request.extensions().get::<Caller>().cloned().ok_or(AuthFailure::NoCredentials.into())
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
        let denied = |r: Result<(), AppError>| match r {
            Err(AppError::PermissionDenied(d)) => d,
            other => panic!("{other:?}"),
        };
        let reader = caller(Some(&["acme"]), true, false);
        assert!(reader.authorize("acme", Access::Read).is_ok());
        assert_eq!(denied(reader.authorize("acme", Access::Write)), Denied::Scope(WRITE_SCOPE));
        // The workspace is named before the scope, from the request alone.
        assert_eq!(denied(reader.authorize("globex", Access::Read)), Denied::Workspace("globex".into()));
        assert_eq!(denied(reader.authorize("globex", Access::Write)), Denied::Workspace("globex".into()));
        let writer = caller(Some(&["acme"]), false, true);
        assert!(writer.authorize("acme", Access::Read).is_ok(), "write implies read");
        let platform = caller(None, true, true);
        assert!(platform.authorize("anything", Access::Write).is_ok());
        let nothing = caller(None, false, false);
        assert_eq!(denied(nothing.authorize_any(Access::Read)), Denied::Scope(READ_SCOPE));
        let long = "w".repeat(5000);
        match denied(reader.authorize(&long, Access::Read)) {
            Denied::Workspace(named) => assert_eq!(named.chars().count(), 101),
            other => panic!("{other:?}"),
        }
    }

    const SECRET: &str = "unit-test-secret-that-is-long-enough-0123456789";

    async fn authenticator() -> Authenticator {
        let config = AuthConfig {
            auth_hs256_secret: Some(SecretString::from(SECRET)),
            auth_issuer: Some("https://issuer.test".into()),
            auth_audience: Some("cloudconn".into()),
            ..AuthConfig::default()
        };
        let (refresh, stale) = (Duration::from_secs(60), Duration::from_secs(600));
        Authenticator::new(&config, refresh, stale, CancellationToken::new()).await.unwrap()
    }

    fn sign(claims: serde_json::Value, secret: &str) -> String {
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    }

    fn claims(edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> serde_json::Value {
        let now = chrono::Utc::now().timestamp();
        let mut c = serde_json::json!({
            "sub": "s", "iss": "https://issuer.test", "aud": "cloudconn", "exp": now + 600,
            "workspaces": ["acme"], "scope": "connections:read",
        });
        edit(c.as_object_mut().unwrap());
        c
    }

    async fn refused(auth: &Authenticator, authorization: Option<&str>) -> AuthFailure {
        let mut map = http::HeaderMap::new();
        if let Some(value) = authorization {
            map.insert("authorization", value.parse().unwrap());
        }
        match auth.caller(&map).await {
            Err(AppError::Unauthenticated(failure)) => failure,
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("accepted {authorization:?}"),
        }
    }

    #[tokio::test]
    async fn each_refusal_says_which_check_failed() {
        let auth = authenticator().await;
        let bearer = |claims: serde_json::Value| format!("Bearer {}", sign(claims, SECRET));
        let expired_at: i64 = 1_795_000_000; // 2026-11-18T11:06:40Z
        let cases: Vec<(String, AuthFailure)> = vec![
            ("Basic dXNlcjpwYXNz".into(), AuthFailure::NotBearer),
            (sign(claims(|_| {}), SECRET), AuthFailure::NotBearer),
            ("Bearer not.a.jwt".into(), AuthFailure::NotAJwt),
            ("Bearer ".into(), AuthFailure::NotAJwt),
            (
                format!("Bearer {}", sign(claims(|_| {}), "another-secret-that-is-long-enough-0123")),
                AuthFailure::BadSignature,
            ),
            (
                bearer(claims(|c| drop(c.insert("exp".into(), expired_at.into())))),
                AuthFailure::Expired { at: "2026-11-18T11:06:40Z".into(), leeway_secs: 30 },
            ),
            (
                bearer(claims(|c| drop(c.insert("nbf".into(), (expired_at * 2).into())))),
                AuthFailure::NotYetValid { at: "2083-10-05T22:13:20Z".into(), leeway_secs: 30 },
            ),
            (
                bearer(claims(|c| drop(c.insert("iss".into(), "https://elsewhere".into())))),
                AuthFailure::WrongIssuer { expected: "https://issuer.test".into() },
            ),
            (
                bearer(claims(|c| drop(c.insert("aud".into(), "another-service".into())))),
                AuthFailure::WrongAudience { expected: "cloudconn".into() },
            ),
            (
                bearer(claims(|c| drop(c.remove("aud")))),
                AuthFailure::MissingClaim { claim: "aud".into(), expected: Some("cloudconn".into()) },
            ),
            (
                bearer(claims(|c| drop(c.remove("iss")))),
                AuthFailure::MissingClaim { claim: "iss".into(), expected: Some("https://issuer.test".into()) },
            ),
            (
                bearer(claims(|c| drop(c.remove("sub")))),
                AuthFailure::MissingClaim { claim: "sub".into(), expected: None },
            ),
            (
                bearer(claims(|c| drop(c.remove("exp")))),
                AuthFailure::MissingClaim { claim: "exp".into(), expected: None },
            ),
            (bearer(claims(|c| drop(c.insert("workspaces".into(), 7.into())))), AuthFailure::UnreadableClaims),
            (
                bearer(claims(|c| drop(c.insert("sub".into(), "x".repeat(256).into())))),
                AuthFailure::InvalidClaim { claim: "sub".into(), why: "longer than 255 characters" },
            ),
        ];
        assert_eq!(refused(&auth, None).await, AuthFailure::NoCredentials);
        for (value, expected) in cases {
            assert_eq!(refused(&auth, Some(&value)).await, expected, "{value}");
        }
        // The scheme is case-insensitive; a good token passes.
        let mut map = http::HeaderMap::new();
        map.insert("authorization", format!("bearer {}", sign(claims(|_| {}), SECRET)).parse().unwrap());
        assert_eq!(auth.caller(&map).await.unwrap().subject, "s");
    }
}
