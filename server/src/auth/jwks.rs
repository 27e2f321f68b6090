//! A JWKS kept fresh: fetched carefully (https, no redirects, capped),
//! refreshed in the background, refetched early for an unknown `kid`, and
//! refused when stale.

use std::{
    path::PathBuf,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse},
};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::error::AppError;

/// Largest JWKS accepted; real ones are a few KiB.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Least time between two refetches for an unknown `kid`: a caller making
/// up `kid`s must not make us hammer the issuer.
pub(super) const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// One key a JWKS offers for verification.
pub(super) struct VerifyingKey {
    pub(super) kid: Option<String>,
    pub(super) alg: Algorithm,
    pub(super) key: DecodingKey,
}

/// The keys of a JWKS and when they were last fetched successfully.
pub(super) struct KeySet {
    pub(super) keys: Vec<VerifyingKey>,
    pub(super) fetched: Instant,
}

/// Where a JWKS comes from.
pub(super) enum JwksSource {
    File(PathBuf),
    Url { url: String, client: reqwest::Client },
}

/// A JWKS kept fresh: refreshed in the background, refetched early for an
/// unknown `kid`, refused when stale.
pub(super) struct Jwks {
    pub(super) source: JwksSource,
    pub(super) state: RwLock<KeySet>,
    /// When the last unknown-`kid` refetch started; the async lock makes
    /// concurrent callers wait for one refetch instead of starting many.
    pub(super) last_refetch: tokio::sync::Mutex<Option<Instant>>,
    pub(super) max_stale: Duration,
}

impl Jwks {
    /// The key for a token's `alg` and `kid`: `Ok(None)` if there is none,
    /// an error if the keys are too old to trust.
    pub(super) fn find(&self, alg: Algorithm, kid: Option<&str>) -> Result<Option<(Algorithm, DecodingKey)>, AppError> {
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

    pub(super) fn replace(&self, keys: Vec<VerifyingKey>) {
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = KeySet { keys, fetched: Instant::now() };
    }

    /// A token named a key we do not have: the issuer may have just added
    /// it. Fetch again, unless that was done in the last 30 s.
    pub(super) async fn refetch_for_unknown_kid(&self) {
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
    pub(super) async fn refresh(self: Arc<Self>, refresh: Duration, shutdown: CancellationToken) {
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
    pub(super) async fn load(&self) -> anyhow::Result<Vec<VerifyingKey>> {
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
pub(super) async fn fetch_capped(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
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
pub(super) fn parse_jwks(bytes: &[u8]) -> anyhow::Result<Vec<VerifyingKey>> {
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
pub(super) fn signing_algorithm(jwk: &Jwk) -> Option<Algorithm> {
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
