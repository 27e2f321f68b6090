//! Why a caller is refused: UNAUTHENTICATED ([`AuthFailure`]) and
//! PERMISSION_DENIED ([`Denied`]). `auth` decides; the reasons are errors
//! like the others, so they live here with [`super::AppError`] (and `auth`
//! re-exports them).

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
