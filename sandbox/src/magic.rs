//! The sandbox's documented credential values: like a payment API's test
//! card numbers, one value per provider chooses what the provider does.
//! Anything that is not one of these words succeeds.
//!
//! | provider | the value that steers                        |
//! |----------|----------------------------------------------|
//! | AWS      | the role name (`…:role/sandbox-denied`)      |
//! | GCP      | the service account's name (`sandbox-denied@….iam.gserviceaccount.com`) |
//! | Azure    | `client_secret`                              |
//! | Atlas    | `atlas_private_key`                          |
//! | Aura     | `aura_client_secret`                         |
//!
//! The sandbox table of docs/providers.md lists the same words with the
//! validation each one ends in; a test walks every row.

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

/// What a sandbox account does, chosen by its credential value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Magic {
    /// Everything is granted.
    Ok,
    /// The secret is refused (AWS: the role's trust policy refuses the
    /// external id, which is AWS's way of saying the same).
    WrongSecret,
    /// The project, subscription or role does not exist (or is invisible).
    NotFound,
    /// The credentials work, but the requested scopes' permissions are
    /// missing.
    Denied,
    /// Every request is answered 429 (AWS: `Throttling`).
    Throttled,
    /// Every request is answered 503.
    Down,
    /// AWS only: the trust policy accepts any external id.
    OpenTrust,
    /// Google Cloud and Azure: the key (or client secret) works and expires
    /// in [`EXPIRING_IN_DAYS`] days, and the provider says so.
    Expiring,
}

/// When a `sandbox-expiring` credential expires, from the sandbox's start.
pub const EXPIRING_IN_DAYS: i64 = 14;

/// When every `sandbox-expiring` credential expires: [`EXPIRING_IN_DAYS`]
/// after this process first asked, to the second. One date for the whole
/// run, as a real credential's is, so it is announced once.
pub fn expiring_date() -> chrono::DateTime<chrono::Utc> {
    static DATE: std::sync::LazyLock<chrono::DateTime<chrono::Utc>> = std::sync::LazyLock::new(|| {
        let at = chrono::Utc::now() + chrono::Duration::days(EXPIRING_IN_DAYS);
        chrono::DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
    });
    *DATE
}

/// Each word and what it does, in the order docs/providers.md lists them.
pub const WORDS: [(&str, Magic); 7] = [
    ("sandbox-wrong-secret", Magic::WrongSecret),
    ("sandbox-not-found", Magic::NotFound),
    ("sandbox-denied", Magic::Denied),
    ("sandbox-throttled", Magic::Throttled),
    ("sandbox-down", Magic::Down),
    ("sandbox-open-trust", Magic::OpenTrust),
    ("sandbox-expiring", Magic::Expiring),
];

impl Magic {
    /// The behaviour `value` asks for: a word exactly, else [`Magic::Ok`].
    pub fn of(value: &str) -> Self {
        WORDS.iter().find(|(word, _)| *word == value).map_or(Self::Ok, |(_, magic)| *magic)
    }

    /// The HTTP answer of a provider that is throttling or down, as the
    /// JSON providers give it; `None` for every other behaviour.
    pub fn outage(self) -> Option<Response> {
        match self {
            Self::Throttled => Some((StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response()),
            Self::Down => Some(StatusCode::SERVICE_UNAVAILABLE.into_response()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_words_steer() {
        assert_eq!(Magic::of("sandbox-denied"), Magic::Denied);
        assert_eq!(Magic::of("sandbox-denied-please"), Magic::Ok);
        assert_eq!(Magic::of("DuctapeAccess"), Magic::Ok);
        for (word, magic) in WORDS {
            assert_eq!(Magic::of(word), magic);
        }
    }
}
