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
//!
//! - [`config`]: `CLOUDCONN_AUTH_*` and what production requires of it.
//! - [`verify`]: a token → a [`Caller`], or why not ([`AuthFailure`]).
//! - [`jwks`]: fetching and keeping a JWKS fresh (and refusing it stale).
//! - [`service`]: [`Authenticated`], the tower service in front of the API.
//!
//! The reasons for a refusal ([`AuthFailure`], [`Denied`]) are errors like the
//! others: defined in `error`, re-exported here.

mod config;
mod jwks;
mod service;
mod verify;

use std::collections::HashSet;

pub use config::AuthConfig;
pub use jwks::MAX_JWKS_BYTES;
pub use service::Authenticated;
pub use verify::{Authenticator, MAX_SUBJECT_CHARS};

use crate::error::AppError;
pub use crate::error::{AuthFailure, Denied};

pub const READ_SCOPE: &str = "connections:read";
pub const WRITE_SCOPE: &str = "connections:write";
/// Issuing run-time credentials (docs/run.md). Its own: neither read nor
/// write implies it (an operator's token must not hand out cloud access),
/// and it implies nothing else (a component's token cannot change or even
/// list connections).
pub const USE_SCOPE: &str = "connections:use";

/// Who is making a change, as recorded in the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The caller's subject (`sub` claim once authentication is on).
    pub subject: String,
}

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Use,
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
    can_use: bool,
}

impl Caller {
    /// The caller when authentication is explicitly disabled: it may read
    /// and change everything, and issue credentials only if `may_issue`
    /// (a second switch: cloud access is not a side effect of the first).
    pub fn unauthenticated(may_issue: bool) -> Self {
        Self {
            subject: "anonymous".into(),
            expires: None,
            workspaces: None,
            can_read: true,
            can_write: true,
            can_use: may_issue,
        }
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

    /// Whose share of the server's call slots this caller's calls count
    /// against: the token's workspaces, sorted and joined with `,`, or `*`
    /// for a token valid in every workspace (every such token shares that
    /// one share). A token naming several workspaces is a tenant of its own.
    pub fn tenant(&self) -> String {
        match &self.workspaces {
            None => "*".to_owned(),
            Some(set) if set.len() == 1 => set.iter().next().cloned().unwrap_or_default(),
            Some(set) => {
                let mut names: Vec<&str> = set.iter().map(String::as_str).collect();
                names.sort_unstable();
                names.join(",")
            }
        }
    }

    /// For calls not about one workspace (ListProviders).
    pub fn authorize_any(&self, access: Access) -> Result<(), AppError> {
        match access {
            Access::Read if self.can_read || self.can_write => Ok(()),
            Access::Write if self.can_write => Ok(()),
            Access::Use if self.can_use => Ok(()),
            Access::Read => Err(AppError::PermissionDenied(Denied::Scope(READ_SCOPE))),
            Access::Write => Err(AppError::PermissionDenied(Denied::Scope(WRITE_SCOPE))),
            Access::Use => Err(AppError::PermissionDenied(Denied::Scope(USE_SCOPE))),
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

/// The caller [`Authenticated`] attached. Missing only if the service was
/// mounted without it, which is a bug: refuse.
pub fn caller<T>(request: &tonic::Request<T>) -> Result<Caller, AppError> {
    request.extensions().get::<Caller>().cloned().ok_or(AuthFailure::NoCredentials.into())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use secrecy::SecretString;
    use tokio_util::sync::CancellationToken;

    use super::*;

    fn caller(workspaces: Option<&[&str]>, read: bool, write: bool) -> Caller {
        Caller {
            subject: "s".into(),
            expires: None,
            workspaces: workspaces.map(|w| w.iter().map(|s| s.to_string()).collect()),
            can_read: read,
            can_write: write,
            can_use: false,
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

    #[test]
    fn a_callers_tenant_is_its_set_of_workspaces() {
        assert_eq!(caller(Some(&["acme"]), true, false).tenant(), "acme");
        assert_eq!(caller(Some(&["globex", "acme"]), true, false).tenant(), "acme,globex");
        assert_eq!(caller(None, true, false).tenant(), "*");
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
