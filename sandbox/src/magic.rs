//! The sandbox's documented credential values: like a payment API's test
//! card numbers, one value per provider chooses what the provider does.
//! Anything that is not one of these words succeeds.
//!
//! | provider | the value that steers                        |
//! |----------|----------------------------------------------|
//! | AWS      | the role name (`…:role/sandbox-denied`), keyless too |
//! | GCP      | the service account's name (`sandbox-denied@….iam.gserviceaccount.com`); keyless: also the workload identity provider's id |
//! | Azure    | `client_secret`; keyless: the client id, a word's [`guid`] |
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
    /// Keyless: the role, workload identity provider or app trusts another
    /// subject than the token's.
    WrongSubject,
    /// Keyless: the token's audience is not the one the account expects.
    WrongAudience,
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
pub const WORDS: [(&str, Magic); 9] = [
    ("sandbox-wrong-secret", Magic::WrongSecret),
    ("sandbox-not-found", Magic::NotFound),
    ("sandbox-denied", Magic::Denied),
    ("sandbox-throttled", Magic::Throttled),
    ("sandbox-down", Magic::Down),
    ("sandbox-open-trust", Magic::OpenTrust),
    ("sandbox-expiring", Magic::Expiring),
    ("sandbox-wrong-subject", Magic::WrongSubject),
    ("sandbox-wrong-audience", Magic::WrongAudience),
];

/// The client id that stands for `word` where the steering value must be
/// a GUID (an Azure keyless connection has no secret, and cloudconn
/// checks that client ids are GUIDs): `5a4db0c0-0000-4000-8000-0000000000NN`,
/// NN the word's place in [`WORDS`] from 01. Like a test card number.
pub fn guid(word: &str) -> Option<String> {
    let place = WORDS.iter().position(|(w, _)| *w == word)?;
    Some(format!("{GUID_PREFIX}{:02}", place + 1))
}

const GUID_PREFIX: &str = "5a4db0c0-0000-4000-8000-0000000000";

impl Magic {
    /// The behaviour `value` asks for: a word exactly, else [`Magic::Ok`].
    pub fn of(value: &str) -> Self {
        WORDS.iter().find(|(word, _)| *word == value).map_or(Self::Ok, |(_, magic)| *magic)
    }

    /// The behaviour `id` asks for: a word, or a word's [`guid`] (in any
    /// case), else [`Magic::Ok`].
    pub fn of_id(id: &str) -> Self {
        let id = id.to_ascii_lowercase();
        let place = id.strip_prefix(GUID_PREFIX).and_then(|n| n.parse::<usize>().ok()).filter(|n| *n >= 1);
        match place.and_then(|n| WORDS.get(n - 1)) {
            Some((_, magic)) if id.len() == 36 => *magic,
            _ => Self::of(&id),
        }
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
            let guid = guid(word).expect("every word has a guid");
            assert_eq!((guid.len(), Magic::of_id(&guid), Magic::of_id(&guid.to_uppercase())), (36, magic, magic));
        }
        assert_eq!(Magic::of_id("5a4db0c0-0000-4000-8000-000000000000"), Magic::Ok);
        assert_eq!(Magic::of_id("5a4db0c0-0000-4000-8000-000000000099"), Magic::Ok);
    }
}
