//! The API's error type and its one mapping to a gRPC status.
//!
//! Handlers return `Result<_, AppError>` and use `?`; the single
//! `From<AppError> for tonic::Status` below picks the code and attaches the
//! AIP-193 details: `ErrorInfo` with a stable `reason` on every error, and a
//! `BadRequest` naming every bad field on `INVALID_ARGUMENT`.
//!
//! `Display` never includes request data, and `Internal` reaches the caller
//! as an opaque message (its cause chain is logged here instead).

mod refusal;

use std::collections::HashMap;

use cloudconn_infra::secrets::SecretStoreError;
use sea_orm::DbErr;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub use refusal::{AuthFailure, Denied};

use crate::domain::FieldViolation;

/// `ErrorInfo.domain` of every error cloudconn returns.
pub const ERROR_DOMAIN: &str = "cloudconn.v1";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request has invalid fields")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("a connection with this tag already exists in the workspace")]
    TagAlreadyExists,
    #[error("connection not found")]
    NotFound,
    /// The request is valid but the connection is not in a state that allows it.
    #[error("{message}")]
    FailedPrecondition { reason: &'static str, message: String },
    #[error("the etag does not match the connection's current etag; read it again and retry")]
    EtagMismatch,
    /// Another change won a race; retrying the whole read-modify-write is safe.
    #[error("{message}")]
    Aborted { reason: &'static str, message: String },
    /// The credentials were refused; the failure says which check failed
    /// (`ErrorInfo.metadata["cause"]`), never the token or a key.
    #[error("{0}")]
    Unauthenticated(AuthFailure),
    /// A JWKS that could not be refreshed for too long: no token is trusted
    /// until it is (fail closed).
    #[error("tokens cannot be verified now: the signing keys are stale (the JWKS could not be refreshed); retry later")]
    SigningKeysStale,
    /// The token is valid but lacks the workspace or the scope, named.
    /// Decided before any lookup: says nothing about whether the connection
    /// exists.
    #[error("{0}")]
    PermissionDenied(Denied),
    #[error("{dependency} is unavailable; nothing was changed, retry later")]
    Unavailable { dependency: &'static str },
    /// Every slot for calls is taken, or every byte for request bodies:
    /// shed at once rather than queued. The text names the limit.
    #[error("the server is busy: {0}; nothing was changed, retry with back-off")]
    ServerBusy(String),
    /// A workspace holds as much of something as it may (connections).
    #[error("{message}")]
    QuotaExceeded { message: String },
    /// This caller (or workspace) used up its share; retry after the delay.
    #[error("{message}")]
    RateLimited { retry_after: std::time::Duration, message: String },
    /// The provider refused or failed to issue credentials (the run step):
    /// the validation code in `ErrorInfo.reason`, its hint in the message
    /// and `metadata["hint"]`.
    #[error("{}", .0.text())]
    Provider(ProviderFailure),
    /// No worker answered an issue request in time (or it could not be sent).
    #[error("{0}")]
    WorkersUnavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// A provider's answer to an issue request, as the worker classified it.
#[derive(Debug, Clone)]
pub struct ProviderFailure {
    /// A validation code (docs/api.md: `ACCESS_DENIED`, …).
    pub reason: &'static str,
    pub message: String,
    pub hint: String,
    /// An outage (UNAVAILABLE) rather than a refusal (FAILED_PRECONDITION).
    pub retryable: bool,
    pub missing_permissions: Vec<String>,
}

impl ProviderFailure {
    fn text(&self) -> String {
        if self.hint.is_empty() { self.message.clone() } else { format!("{} — {}", self.message, self.hint) }
    }
}

/// The codes a worker may answer with, as the static strings `reason` is.
const PROVIDER_CODES: &[&str] = &[
    "INVALID_CREDENTIALS",
    "ACCESS_DENIED",
    "RESOURCE_NOT_FOUND",
    "EXTERNAL_ID_MISMATCH",
    "EXTERNAL_ID_NOT_ENFORCED",
    "MALFORMED_CREDENTIALS",
    "PROVIDER_UNAVAILABLE",
    "TIMEOUT",
    "REVISION_GONE",
    "SECRET_STORE_UNAVAILABLE",
    // Issuing only: what minting makes at the provider is at its cap
    // (Atlas database users per project).
    "QUOTA_EXCEEDED",
];

impl From<cloudconn_infra::amqp::messages::ProbeError> for ProviderFailure {
    fn from(e: cloudconn_infra::amqp::messages::ProbeError) -> Self {
        Self {
            // A code this server does not know (a newer worker) is still an error.
            reason: PROVIDER_CODES.iter().find(|c| **c == e.code).copied().unwrap_or("PROVIDER_ERROR"),
            message: e.message,
            hint: e.hint,
            retryable: e.retryable,
            missing_permissions: e.missing_permissions,
        }
    }
}

impl AppError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    /// The stable machine code sent as `ErrorInfo.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidArgument(_) => "INVALID_ARGUMENT",
            Self::TagAlreadyExists => "TAG_ALREADY_EXISTS",
            Self::NotFound => "CONNECTION_NOT_FOUND",
            Self::FailedPrecondition { reason, .. } | Self::Aborted { reason, .. } => reason,
            Self::Provider(failure) => failure.reason,
            Self::WorkersUnavailable(_) => "WORKERS_UNAVAILABLE",
            Self::EtagMismatch => "ETAG_MISMATCH",
            Self::Unavailable { .. } => "DEPENDENCY_UNAVAILABLE",
            Self::ServerBusy(_) => "SERVER_BUSY",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::QuotaExceeded { .. } => "QUOTA_EXCEEDED",
            Self::Unauthenticated(_) | Self::SigningKeysStale => "UNAUTHENTICATED",
            Self::PermissionDenied(_) => "PERMISSION_DENIED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn code(&self) -> Code {
        match self {
            Self::InvalidArgument(_) => Code::InvalidArgument,
            Self::TagAlreadyExists => Code::AlreadyExists,
            Self::NotFound => Code::NotFound,
            Self::FailedPrecondition { .. } => Code::FailedPrecondition,
            Self::Provider(failure) if failure.retryable => Code::Unavailable,
            // A cap, like the workspace's own: the same code and reason.
            Self::Provider(failure) if failure.reason == "QUOTA_EXCEEDED" => Code::ResourceExhausted,
            Self::Provider(_) => Code::FailedPrecondition,
            Self::WorkersUnavailable(_) => Code::Unavailable,
            Self::EtagMismatch | Self::Aborted { .. } => Code::Aborted,
            Self::Unavailable { .. } | Self::ServerBusy(_) => Code::Unavailable,
            Self::RateLimited { .. } | Self::QuotaExceeded { .. } => Code::ResourceExhausted,
            Self::Unauthenticated(_) | Self::SigningKeysStale => Code::Unauthenticated,
            Self::PermissionDenied(_) => Code::PermissionDenied,
            Self::Internal(_) => Code::Internal,
        }
    }
}

impl From<AppError> for Status {
    fn from(err: AppError) -> Self {
        let mut details = ErrorDetails::new();
        let mut metadata = HashMap::new();
        match &err {
            AppError::InvalidArgument(violations) => {
                for v in violations {
                    details.add_bad_request_violation(v.field.clone(), v.description.clone());
                }
            }
            AppError::Unavailable { dependency } => {
                metadata.insert("dependency".to_owned(), (*dependency).to_owned());
                details.set_retry_info(Some(std::time::Duration::from_secs(1)));
            }
            // The reason stays UNAUTHENTICATED (clients key on it); the
            // metadata says which check failed. One entry each: a map of
            // more is encoded in a different order from call to call, and
            // equal refusals must be equal bytes.
            AppError::Unauthenticated(failure) => {
                metadata.insert("cause".to_owned(), failure.cause().to_owned());
            }
            AppError::SigningKeysStale => {
                metadata.insert("cause".to_owned(), "signing_keys_stale".to_owned());
            }
            AppError::PermissionDenied(denied) => {
                metadata.insert("missing".to_owned(), denied.missing().to_owned());
            }
            AppError::ServerBusy(_) | AppError::WorkersUnavailable(_) => {
                details.set_retry_info(Some(std::time::Duration::from_secs(1)));
            }
            AppError::Provider(failure) => {
                if !failure.hint.is_empty() {
                    metadata.insert("hint".to_owned(), failure.hint.clone());
                }
                if !failure.missing_permissions.is_empty() {
                    metadata.insert("missing_permissions".to_owned(), failure.missing_permissions.join(","));
                }
                if failure.retryable {
                    details.set_retry_info(Some(std::time::Duration::from_secs(1)));
                }
            }
            AppError::RateLimited { retry_after, .. } => {
                details.set_retry_info(Some(*retry_after));
            }
            AppError::Internal(cause) => {
                // `{:#}` prints the whole chain; it is ours, so it holds no request data.
                tracing::error!(error = format!("{cause:#}"), "internal error");
            }
            _ => {}
        }
        details.set_error_info(err.reason(), ERROR_DOMAIN, metadata);
        let message = match &err {
            AppError::InvalidArgument(violations) => invalid_message(violations),
            other => other.to_string(),
        };
        Status::with_error_details(err.code(), truncate(message, MAX_MESSAGE_CHARS), details)
    }
}

/// Longest `grpc-message` we send, in characters: it travels in a header
/// that clients cap (grpc-go at 16 KiB for all headers together).
const MAX_MESSAGE_CHARS: usize = 1024;

/// `invalid fields: tag, scopes; tag: must be …`: the names of every listed
/// field, then the first one's reason, for clients that print only the message.
fn invalid_message(violations: &[FieldViolation]) -> String {
    let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
    match violations.first() {
        Some(first) => format!("invalid fields: {}; {}: {}", fields.join(", "), first.field, first.description),
        None => "invalid fields".into(),
    }
}

fn truncate(mut message: String, max_chars: usize) -> String {
    if let Some((cut, _)) = message.char_indices().nth(max_chars) {
        message.truncate(cut);
        message.push('…');
    }
    message
}

/// Database errors: a dropped or exhausted connection is `Unavailable`
/// (retryable, and the transaction rolled back); anything else is a bug.
/// Unique violations are handled where the constraint is known.
impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Self::Unavailable { dependency: "database" },
            DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e)) | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
                if is_transport(e) =>
            {
                Self::Unavailable { dependency: "database" }
            }
            _ => Self::Internal(anyhow::Error::new(err).context("database")),
        }
    }
}

fn is_transport(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match e {
        Error::Io(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed | Error::Tls(_) => true,
        // The server ended the session rather than the statement: class 08
        // (connection exception) and the shutdown codes of class 57 — a
        // restart or an operator's pg_terminate_backend. The connection is
        // discarded; the next call gets a fresh one.
        Error::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || is_shutdown(&code)),
        _ => false,
    }
}

/// admin_shutdown, crash_shutdown, cannot_connect_now.
fn is_shutdown(code: &str) -> bool {
    matches!(code, "57P01" | "57P02" | "57P03")
}

impl From<AuthFailure> for AppError {
    fn from(failure: AuthFailure) -> Self {
        Self::Unauthenticated(failure)
    }
}

impl From<SecretStoreError> for AppError {
    fn from(err: SecretStoreError) -> Self {
        match err {
            SecretStoreError::Unavailable(_) => Self::Unavailable { dependency: "vault" },
            // Our own Vault identity was refused (expired, revoked): the
            // operator's problem, and the caller's call may work later.
            SecretStoreError::Denied(e) => {
                tracing::error!(error = %e, "vault refused this server's token");
                Self::Unavailable { dependency: "vault" }
            }
            SecretStoreError::VersionConflict => Self::Aborted {
                reason: "CONCURRENT_MODIFICATION",
                message: "the credentials were changed concurrently; retry".into(),
            },
            other => Self::Internal(anyhow::Error::new(other).context("secret store")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(err: AppError) -> Status {
        err.into()
    }

    #[test]
    fn mapping_table() {
        let cases: Vec<(AppError, Code, &str)> = vec![
            (AppError::invalid("tag", "bad"), Code::InvalidArgument, "INVALID_ARGUMENT"),
            (AppError::TagAlreadyExists, Code::AlreadyExists, "TAG_ALREADY_EXISTS"),
            (AppError::NotFound, Code::NotFound, "CONNECTION_NOT_FOUND"),
            (
                AppError::FailedPrecondition { reason: "NO_CREDENTIALS", message: "m".into() },
                Code::FailedPrecondition,
                "NO_CREDENTIALS",
            ),
            (AppError::EtagMismatch, Code::Aborted, "ETAG_MISMATCH"),
            (AppError::Unavailable { dependency: "vault" }, Code::Unavailable, "DEPENDENCY_UNAVAILABLE"),
            (AppError::Internal(anyhow::anyhow!("boom secret")), Code::Internal, "INTERNAL"),
            (AuthFailure::NoCredentials.into(), Code::Unauthenticated, "UNAUTHENTICATED"),
            (AppError::SigningKeysStale, Code::Unauthenticated, "UNAUTHENTICATED"),
            (
                AppError::PermissionDenied(Denied::Scope("connections:write")),
                Code::PermissionDenied,
                "PERMISSION_DENIED",
            ),
            (AppError::ServerBusy("m".into()), Code::Unavailable, "SERVER_BUSY"),
            (
                AppError::RateLimited { retry_after: std::time::Duration::from_secs(2), message: "m".into() },
                Code::ResourceExhausted,
                "RATE_LIMITED",
            ),
            (SecretStoreError::Unavailable("x".into()).into(), Code::Unavailable, "DEPENDENCY_UNAVAILABLE"),
            (SecretStoreError::VersionConflict.into(), Code::Aborted, "CONCURRENT_MODIFICATION"),
            (
                DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout).into(),
                Code::Unavailable,
                "DEPENDENCY_UNAVAILABLE",
            ),
        ];
        for (err, code, reason) in cases {
            let s = status(err);
            assert_eq!(s.code(), code);
            assert_eq!(s.get_details_error_info().map(|i| i.reason), Some(reason.to_owned()));
            assert!(!s.message().contains("secret"), "internal causes stay in the log");
        }
    }

    #[test]
    fn bad_request_names_every_field() {
        let s = status(AppError::InvalidArgument(vec![
            FieldViolation::new("tag", "bad"),
            FieldViolation::new("scopes[0]", "bad"),
        ]));
        let fields: Vec<String> =
            s.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["tag", "scopes[0]"]);
        assert!(s.message().contains("tag") && s.message().contains("scopes[0]"));
        assert!(s.message().ends_with("; tag: bad"), "the first reason is in the message: {}", s.message());
    }

    fn metadata(s: &Status) -> HashMap<String, String> {
        s.get_details_error_info().unwrap().metadata
    }

    #[test]
    fn unauthenticated_says_which_check_failed_under_one_reason() {
        let cases: Vec<(AuthFailure, &str, &str)> = vec![
            (AuthFailure::NoCredentials, "missing", "no credentials"),
            (AuthFailure::NotBearer, "not_bearer", "`Bearer ` prefix is missing"),
            (AuthFailure::NotAJwt, "malformed", "not a JWT"),
            (AuthFailure::BadSignature, "bad_signature", "signature does not verify"),
            (
                AuthFailure::Expired { at: "2026-11-26T12:00:00Z".into(), leeway_secs: 30 },
                "expired",
                "expired at 2026-11-26T12:00:00Z (30 s of clock skew allowed)",
            ),
            (
                AuthFailure::NotYetValid { at: "2026-11-26T12:00:00Z".into(), leeway_secs: 30 },
                "not_yet_valid",
                "not valid before 2026-11-26T12:00:00Z",
            ),
            (AuthFailure::WrongIssuer { expected: "https://idp".into() }, "wrong_issuer", "expected \"https://idp\""),
            (AuthFailure::WrongAudience { expected: "cloudconn".into() }, "wrong_audience", "expected \"cloudconn\""),
            (
                AuthFailure::MissingClaim { claim: "aud".into(), expected: Some("cloudconn".into()) },
                "missing_claim",
                "lacks the required aud claim: expected \"cloudconn\"",
            ),
            (AuthFailure::UnreadableClaims, "invalid_claim", "claims are not what cloudconn reads"),
        ];
        for (failure, cause, says) in cases {
            let s = status(failure.into());
            assert_eq!(s.code(), Code::Unauthenticated);
            assert_eq!(s.get_details_error_info().unwrap().reason, "UNAUTHENTICATED");
            assert_eq!(metadata(&s).get("cause").map(String::as_str), Some(cause));
            assert!(s.message().contains(says), "{cause}: {}", s.message());
        }
        let stale = status(AppError::SigningKeysStale);
        assert_eq!(metadata(&stale)["cause"], "signing_keys_stale");
    }

    #[test]
    fn permission_denied_names_what_is_missing() {
        let s = status(AppError::PermissionDenied(Denied::Scope("connections:write")));
        assert_eq!(s.message(), "the token lacks the connections:write scope");
        assert_eq!(metadata(&s), HashMap::from([("missing".to_owned(), "scope".to_owned())]));
        let s = status(AppError::PermissionDenied(Denied::Workspace("acme".into())));
        assert_eq!(s.message(), "the token does not grant workspace \"acme\"");
        assert_eq!(metadata(&s), HashMap::from([("missing".to_owned(), "workspace".to_owned())]));
    }

    #[test]
    fn messages_are_bounded() {
        let long = "é".repeat(5000);
        let s = status(AppError::FailedPrecondition { reason: "X", message: long });
        assert_eq!(s.message().chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
