//! What every HTTP probe shares: one client with safe settings, and the
//! classification of transport and status failures.

use std::time::Duration;

use reqwest::StatusCode;

use super::{ErrorCode, ProbeFailure};

/// The client probes use. Redirects are not followed: a provider API never
/// needs one, and following one would let a response aim the worker
/// somewhere else.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("cloudconn-worker/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// A request that never got an answer: DNS, refused, reset, TLS, timeout.
/// The error text can carry the URL, which is ours (configuration), never
/// the user's, but we keep only its kind.
pub fn transport(provider: &str, err: &reqwest::Error) -> ProbeFailure {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    ProbeFailure::transient(format!("the request to {provider} {what}"))
}

/// Throttling and server errors are worth retrying; the caller maps the
/// other statuses, which mean something specific per provider.
pub fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

pub fn transient_status(provider: &str, status: StatusCode) -> ProbeFailure {
    ProbeFailure::transient(format!("{provider} answered {status}"))
}

/// An answer that does not look like the provider's API at all.
pub fn unexpected(provider: &str, what: &str) -> ProbeFailure {
    ProbeFailure::new(
        ErrorCode::ProviderUnavailable,
        format!("{provider} returned an unexpected answer ({what})"),
        "Check the worker's endpoint configuration for this provider.",
    )
}
