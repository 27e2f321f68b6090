//! A bearer token → a [`Caller`], or the reason it was refused.

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::{
    AuthConfig, AuthFailure, Caller, READ_SCOPE, USE_SCOPE, WRITE_SCOPE,
    jwks::{Jwks, JwksSource, KeySet},
};
use crate::error::AppError;

/// The claims cloudconn reads.
#[derive(Debug, Deserialize)]
pub(super) struct Claims {
    /// Required by the validation; optional here so that its absence is
    /// reported as a missing claim (serde runs before the validation).
    #[serde(default)]
    pub(super) sub: Option<String>,
    /// Seconds since the epoch (a JSON number, maybe fractional); required
    /// and checked by the validation.
    #[serde(default)]
    pub(super) exp: Option<f64>,
    #[serde(default)]
    pub(super) workspaces: Vec<String>,
    /// Space-separated (RFC 8693 style).
    #[serde(default)]
    pub(super) scope: String,
}

/// Where verification keys come from.
pub(super) enum Keys {
    Hs256(DecodingKey),
    Jwks(Arc<Jwks>),
}

#[derive(Clone)]
pub struct Authenticator {
    /// `None`: authentication is disabled, every caller is anonymous.
    pub(super) inner: Option<Arc<(Keys, Validation)>>,
    /// With authentication disabled: whether the anonymous caller may
    /// issue credentials (`CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE`).
    pub(super) anonymous_may_issue: bool,
}

pub(super) fn validation(config: &AuthConfig, algorithms: &[Algorithm]) -> Validation {
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
            let inner = Some(Arc::new((keys, validation(config, &[Algorithm::HS256]))));
            return Ok(Self { inner, anonymous_may_issue: false });
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
            return Ok(Self { inner: Some(Arc::new((Keys::Jwks(jwks), v))), anonymous_may_issue: false });
        }
        if config.auth_disabled_allow_issue {
            tracing::warn!(
                "AUTHENTICATION IS DISABLED (CLOUDCONN_AUTH_DISABLED=true): every caller may read and change every \
                 workspace, AND ISSUE CLOUD CREDENTIALS for every connection (CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE=true)"
            );
        } else {
            tracing::warn!(
                "AUTHENTICATION IS DISABLED (CLOUDCONN_AUTH_DISABLED=true): every caller may read and change every \
                 workspace; IssueCredentials is refused (CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE=true would let every \
                 caller issue cloud credentials)"
            );
        }
        Ok(Self { inner: None, anonymous_may_issue: config.auth_disabled_allow_issue })
    }

    /// Verifies a bearer token; a refusal says which check failed.
    pub async fn verify(&self, token: &str) -> Result<Caller, AppError> {
        let Some(inner) = &self.inner else { return Ok(Caller::unauthenticated(self.anonymous_may_issue)) };
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
            can_use: scopes.contains(&USE_SCOPE),
        })
    }

    /// The caller a request's `authorization` metadata makes.
    pub(super) async fn caller(&self, headers: &http::HeaderMap) -> Result<Caller, AppError> {
        if self.inner.is_none() {
            return Ok(Caller::unauthenticated(self.anonymous_may_issue));
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
pub(super) fn refusal(token: &str, kind: &ErrorKind, validation: &Validation) -> AuthFailure {
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
pub(super) fn claim_time(token: &str, claim: &str) -> String {
    jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(token)
        .ok()
        .and_then(|claims| claims.get(claim)?.as_f64())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs.floor() as i64, 0))
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("an unreadable {claim}"))
}
