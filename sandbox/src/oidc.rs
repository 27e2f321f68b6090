//! Verifying the OpenID Connect tokens cloudconn signs for keyless
//! connections, as each cloud does before it exchanges one for
//! credentials: the issuer's discovery document names its JWKS, whose keys
//! check the RS256 signature; then issuer, times and audience.
//!
//! moto's `AssumeRoleWithWebIdentity` checks none of this, so these
//! stand-ins are what proves a keyless connection's token would be
//! accepted: they verify for real and refuse otherwise, saying which
//! check failed ([`Rejection`]) so each can word its provider's error.
//!
//! The issuer is an `https://` URL, but in tests and `--dev` cloudconn
//! serves its documents on plain loopback HTTP: `fetch_base` is where they
//! are fetched from, the stand-in's DNS and TLS front as it were.

use std::{
    fmt,
    time::{Duration, Instant},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

/// The clouds allow this much clock skew on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 60;
/// A document bigger than this is refused: the issuer is not trusted to
/// be small, and a JWKS of a few keys is a few KiB.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// Keys beyond these are ignored, so a huge JWKS costs no more than this.
const MAX_KEYS: usize = 8;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A token with an unknown `kid` refetches the JWKS at most this often,
/// so a stream of forged kids cannot turn into a stream of fetches.
const REFETCH_INTERVAL: Duration = Duration::from_secs(1);
/// A `max-age` longer than this is shortened: a rotated key must show up
/// within a day in a long-running `--dev`.
const MAX_CACHE: Duration = Duration::from_secs(24 * 3600);

/// The checks for one issuer, with its JWKS cached.
pub struct Verifier {
    issuer: String,
    fetch_base: String,
    client: Option<reqwest::Client>,
    cache: tokio::sync::Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    keys: Vec<(Option<String>, DecodingKey)>,
    fetched_at: Option<Instant>,
    fresh_until: Option<Instant>,
}

/// A token that passed every check.
#[derive(Clone, Debug)]
pub struct Verified {
    pub iss: String,
    pub sub: String,
    /// The audience it was accepted for (one of the expected ones).
    pub aud: String,
    /// Unix seconds.
    pub exp: i64,
    /// Every claim, the above included.
    pub claims: Map<String, Value>,
}

/// Which check a token failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Not a JWS of this contract: undecodable, not RS256, a claim missing
    /// or of the wrong type.
    Malformed(String),
    /// `iss` is not this verifier's issuer.
    Issuer { found: String },
    /// No published key has its `kid`, or the signature does not verify.
    Signature(String),
    /// `exp` is past, beyond the leeway.
    Expired { exp: i64 },
    /// `nbf` is ahead, beyond the leeway.
    NotYetValid { nbf: i64 },
    /// `aud` is none of the expected audiences.
    Audience { found: String },
    /// The discovery document or the JWKS could not be fetched or used.
    Unreachable(String),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "malformed token: {why}"),
            Self::Issuer { found } => write!(f, "unexpected issuer {found}"),
            Self::Signature(why) => write!(f, "signature not verified: {why}"),
            Self::Expired { exp } => write!(f, "expired at {exp}"),
            Self::NotYetValid { nbf } => write!(f, "not valid before {nbf}"),
            Self::Audience { found } => write!(f, "unexpected audience {found}"),
            Self::Unreachable(why) => write!(f, "issuer unreachable: {why}"),
        }
    }
}

/// The token's claims, **unverified**: for a stand-in to pick which
/// provider (or federated credential) is to verify it, by `iss` or `sub`,
/// and to word a refusal. Never a reason to accept.
pub fn unverified_claims(token: &str) -> Result<Map<String, Value>, Rejection> {
    jsonwebtoken::dangerous::insecure_decode_claims::<Map<String, Value>>(token)
        .map_err(|e| Rejection::Malformed(e.to_string()))
}

/// A string claim of `claims`, or "".
pub fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> &'a str {
    claims.get(name).and_then(Value::as_str).unwrap_or_default()
}

impl Verifier {
    /// The verifier of `issuer`, whose documents are fetched from
    /// `fetch_base` (the issuer itself outside tests). Nothing is fetched
    /// before the first token.
    pub fn new(issuer: impl Into<String>, fetch_base: impl Into<String>) -> Self {
        // reqwest is built on rustls without a provider; the process needs
        // one before the first client, whoever installs it first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client =
            reqwest::Client::builder().timeout(FETCH_TIMEOUT).redirect(reqwest::redirect::Policy::none()).build().ok();
        Self {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            fetch_base: fetch_base.into().trim_end_matches('/').to_owned(),
            client,
            cache: tokio::sync::Mutex::default(),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Verifies `token` for `expected_audience`.
    pub async fn verify(&self, token: &str, expected_audience: &str) -> Result<Verified, Rejection> {
        self.verify_any(token, &[expected_audience]).await
    }

    /// Verifies `token` for any of `audiences` (an AWS OIDC provider lists
    /// several client ids; Google accepts its provider's name in two forms).
    pub async fn verify_any(&self, token: &str, audiences: &[&str]) -> Result<Verified, Rejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| Rejection::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(Rejection::Malformed(format!("alg {:?} is not RS256", header.alg)));
        }
        let claims = unverified_claims(token)?;
        let iss = claim(&claims, "iss");
        if iss != self.issuer {
            return Err(Rejection::Issuer { found: iss.to_owned() });
        }
        let keys = self.keys_for(header.kid.as_deref()).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_audience(audiences);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        for key in &keys {
            match jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation) {
                Ok(data) => return verified(data.claims, audiences),
                // Without a kid each key is tried in turn.
                Err(e) if *e.kind() == ErrorKind::InvalidSignature => continue,
                Err(e) => return Err(rejection(e.kind(), &claims)),
            }
        }
        Err(Rejection::Signature("the signature does not verify with the issuer's keys".into()))
    }

    /// The published keys to try for `kid` (all of them without one).
    async fn keys_for(&self, kid: Option<&str>) -> Result<Vec<DecodingKey>, Rejection> {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        let mut refreshed = false;
        if cache.fresh_until.is_none_or(|until| now >= until) {
            self.refresh(&mut cache).await?;
            refreshed = true;
        }
        let pick = |cache: &Cache| -> Vec<DecodingKey> {
            cache
                .keys
                .iter()
                .filter(|(k, _)| kid.is_none() || k.as_deref() == kid)
                .map(|(_, key)| key.clone())
                .collect()
        };
        let mut keys = pick(&cache);
        let may_refetch = cache.fetched_at.is_none_or(|at| now.duration_since(at) >= REFETCH_INTERVAL);
        if keys.is_empty() && !refreshed && may_refetch {
            // The issuer may have rotated in a key since the cache was filled.
            self.refresh(&mut cache).await?;
            keys = pick(&cache);
        }
        if keys.is_empty() {
            return Err(Rejection::Signature(format!("no key of the issuer has kid {}", kid.unwrap_or("(none)"))));
        }
        Ok(keys)
    }

    async fn refresh(&self, cache: &mut Cache) -> Result<(), Rejection> {
        let unusable = |why: String| Rejection::Unreachable(why);
        let discovery_url = format!("{}/.well-known/openid-configuration", self.fetch_base);
        let (discovery, _) = self.fetch(&discovery_url).await.map_err(unusable)?;
        let named = discovery.get("issuer").and_then(Value::as_str).unwrap_or_default();
        if named.trim_end_matches('/') != self.issuer {
            return Err(unusable(format!("the discovery document names issuer {named:?}")));
        }
        let Some(jwks_uri) = discovery.get("jwks_uri").and_then(Value::as_str) else {
            return Err(unusable("the discovery document has no jwks_uri".into()));
        };
        // Under the issuer: fetched through the front. Elsewhere: as named,
        // as a cloud would.
        let jwks_url = match jwks_uri.strip_prefix(&self.issuer) {
            Some(path) if path.starts_with('/') => format!("{}{path}", self.fetch_base),
            _ => jwks_uri.to_owned(),
        };
        let (jwks, max_age) = self.fetch(&jwks_url).await.map_err(unusable)?;
        let keys: Vec<(Option<String>, DecodingKey)> = jwks
            .get("keys")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(rsa_key).take(MAX_KEYS).collect())
            .unwrap_or_default();
        if keys.is_empty() {
            return Err(unusable("the JWKS has no RS256 signing key".into()));
        }
        let now = Instant::now();
        cache.keys = keys;
        cache.fetched_at = Some(now);
        cache.fresh_until = Some(now + max_age.min(MAX_CACHE));
        Ok(())
    }

    /// A JSON document and its `Cache-Control: max-age` (zero without one).
    async fn fetch(&self, url: &str) -> Result<(Map<String, Value>, Duration), String> {
        let Some(client) = &self.client else { return Err("no HTTP client".into()) };
        let mut response = client.get(url).send().await.map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: {}", response.status()));
        }
        if response.content_length().is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64) {
            return Err(format!("GET {url}: larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or_default();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("GET {url}: {e}"))? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("GET {url}: larger than {MAX_DOCUMENT_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let document = serde_json::from_slice(&body).map_err(|e| format!("GET {url}: not a JSON object: {e}"))?;
        Ok((document, max_age))
    }
}

fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control
        .split(',')
        .filter_map(|directive| directive.trim().strip_prefix("max-age="))
        .find_map(|seconds| seconds.trim().parse().ok())
        .map(Duration::from_secs)
}

/// An RS256 signing key of a JWKS, with its `kid`.
fn rsa_key(jwk: &Value) -> Option<(Option<String>, DecodingKey)> {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    let signs = field("use").is_none_or(|u| u == "sig") && field("alg").is_none_or(|a| a == "RS256");
    if field("kty") != Some("RSA") || !signs {
        return None;
    }
    let key = DecodingKey::from_rsa_components(field("n")?, field("e")?).ok()?;
    Some((field("kid").map(str::to_owned), key))
}

fn verified(claims: Map<String, Value>, audiences: &[&str]) -> Result<Verified, Rejection> {
    let aud = match claims.get("aud") {
        Some(Value::String(one)) => one.clone(),
        Some(Value::Array(many)) => {
            many.iter().filter_map(Value::as_str).find(|a| audiences.contains(a)).unwrap_or_default().to_owned()
        }
        _ => String::new(),
    };
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or_else(|| Rejection::Malformed("exp".into()))?;
    let sub = claim(&claims, "sub");
    if sub.is_empty() {
        return Err(Rejection::Malformed("sub is not a non-empty string".into()));
    }
    Ok(Verified { iss: claim(&claims, "iss").to_owned(), sub: sub.to_owned(), aud, exp, claims })
}

fn rejection(kind: &ErrorKind, claims: &Map<String, Value>) -> Rejection {
    let number = |name: &str| claims.get(name).and_then(Value::as_i64).unwrap_or_default();
    match kind {
        ErrorKind::ExpiredSignature => Rejection::Expired { exp: number("exp") },
        ErrorKind::ImmatureSignature => Rejection::NotYetValid { nbf: number("nbf") },
        ErrorKind::InvalidAudience => Rejection::Audience { found: audience_text(claims) },
        ErrorKind::InvalidIssuer => Rejection::Issuer { found: claim(claims, "iss").to_owned() },
        ErrorKind::InvalidSignature => Rejection::Signature("the signature does not verify".into()),
        ErrorKind::MissingRequiredClaim(name) => Rejection::Malformed(format!("no {name} claim")),
        other => Rejection::Malformed(format!("{other:?}")),
    }
}

/// `aud` as the clouds quote it back: the string, or the list joined.
pub fn audience_text(claims: &Map<String, Value>) -> String {
    match claims.get("aud") {
        Some(Value::String(one)) => one.clone(),
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_among_other_directives() {
        assert_eq!(max_age("public, max-age=300"), Some(Duration::from_secs(300)));
        assert_eq!(max_age("no-store"), None);
    }
}
