//! What every HTTP probe shares: one client with safe settings, requests
//! that carry the validation's trace, answers read with a size cap, and the
//! classification of transport and status failures.

use std::time::Duration;

use cloudconn_infra::telemetry::propagation;
use reqwest::{RequestBuilder, Response, StatusCode, header::HeaderValue};
use tracing::Instrument;

use super::{ErrorCode, ProbeFailure};

/// The client probes use. Redirects are not followed: a provider API never
/// needs one, and following one would let a response aim the worker
/// somewhere else.
pub fn client(timeout: Duration) -> reqwest::Client {
    cloudconn_infra::tls::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("cloudconn-worker/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// A client span for one call to `provider`.
pub fn request_span(provider: &str) -> tracing::Span {
    tracing::info_span!("provider request", otel.kind = "client", provider)
}

/// The `traceparent` header value that makes the provider call part of
/// the validation's trace.
pub fn traceparent(span: &tracing::Span) -> Option<HeaderValue> {
    propagation::traceparent_of(span).and_then(|tp| HeaderValue::from_str(&tp).ok())
}

/// Sends `request` in its own client span, carrying the trace context, and
/// classifies what cannot be an answer to it: transport failures
/// ([`transport`]) and throttling or server errors ([`check`]), which are
/// retryable and carry the provider's `Retry-After`. Every provider call
/// but the OAuth token requests (`oauth.rs`, which classifies the same way
/// with [`is_transient`] and [`retry_after`]) goes through here, so a probe
/// only ever sees the statuses that mean something for its provider.
pub async fn send(provider: &str, request: RequestBuilder) -> Result<Response, ProbeFailure> {
    let span = request_span(provider);
    let request = match traceparent(&span) {
        Some(tp) => request.header("traceparent", tp),
        None => request,
    };
    let response = request.send().instrument(span).await.map_err(|e| transport(provider, &e))?;
    check(provider, response)
}

/// A request that never got an answer: DNS, refused, reset, TLS, timeout.
/// The error text can carry the URL, which is ours (configuration), never
/// the user's, but we keep only its kind.
pub fn transport(provider: &str, err: &reqwest::Error) -> ProbeFailure {
    if err.is_timeout() {
        // Counted as a timeout: if every attempt ends so, the outcome is TIMEOUT.
        return ProbeFailure {
            code: ErrorCode::Timeout,
            ..ProbeFailure::transient(format!("{provider} did not answer in time"))
        };
    }
    if err.is_builder() {
        // Nothing was sent: a value could not go into the request (a header
        // with CR/LF, say). The endpoints were checked at start, so it came
        // from the credentials; asking again would fail the same way.
        return ProbeFailure::new(
            ErrorCode::MalformedCredentials,
            format!("the request to {provider} could not be built from the saved credentials"),
            SAVE_AGAIN,
        );
    }
    let what = if err.is_connect() { "could not connect" } else { "failed" };
    ProbeFailure::transient(format!("the request to {provider} {what}"))
}

const SAVE_AGAIN: &str = "Save the credentials again: a value has characters a request cannot carry \
     (ListProviders lists each field's format).";

/// The saved `field` cannot go into a request as it is.
fn unusable(field: &str) -> ProbeFailure {
    ProbeFailure::new(
        ErrorCode::MalformedCredentials,
        format!("the saved {field} has characters that cannot go into a request"),
        SAVE_AGAIN,
    )
}

/// Re-checks a credential value the worker puts into a URL path: letters,
/// digits, `-` and `_`, at most 128. The server checked the field's pattern
/// when it was saved; the worker does not take what it reads from Vault on
/// trust (older revisions, a hand-edited secret).
pub fn path_segment<'a>(field: &str, value: &'a str) -> Result<&'a str, ProbeFailure> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(value) } else { Err(unusable(field)) }
}

/// Re-checks a credential value the worker puts into a header parameter
/// (e.g. the Digest `username="…"`): printable ASCII without quotes or
/// backslashes, at most 256, so it can neither end the parameter nor the
/// header.
pub fn header_token<'a>(field: &str, value: &'a str) -> Result<&'a str, ProbeFailure> {
    let ok = !value.is_empty()
        && value.len() <= 256
        && value.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if ok { Ok(value) } else { Err(unusable(field)) }
}

/// `base` (an endpoint from configuration) with `segments` appended, each
/// percent-encoded as exactly one path segment (`/`, `?`, `#` cannot
/// escape it; `.` and `..` are dropped).
pub fn url(provider: &str, base: &str, segments: &[&str]) -> Result<url::Url, ProbeFailure> {
    let mut url = url::Url::parse(base).map_err(|_| unexpected(provider, "an unusable endpoint in configuration"))?;
    url.path_segments_mut()
        .map_err(|_| unexpected(provider, "an unusable endpoint in configuration"))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// Throttling and server errors are worth retrying; the caller maps the
/// other statuses, which mean something specific per provider.
pub fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn transient_status(provider: &str, status: StatusCode) -> ProbeFailure {
    ProbeFailure::transient(format!("{provider} answered {status}"))
}

/// Longest `Retry-After` honoured; past it the attempt budget decides.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(30);

/// `Retry-After` in seconds (the HTTP-date form is rare from APIs and
/// treated as absent).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(RETRY_AFTER_MAX))
}

/// The one classification of an answer's status: throttling or a server
/// error is a retryable failure carrying the provider's `Retry-After`;
/// `None` for any other status, which the probe maps.
pub fn transient_answer(provider: &str, response: &Response) -> Option<ProbeFailure> {
    let status = response.status();
    if !is_transient(status) {
        return None;
    }
    let mut failure = transient_status(provider, status);
    failure.retry_after = retry_after(response.headers());
    Some(failure)
}

/// Passes the response on unless [`transient_answer`] makes it a failure.
fn check(provider: &str, response: Response) -> Result<Response, ProbeFailure> {
    match transient_answer(provider, &response) {
        Some(failure) => Err(failure),
        None => Ok(response),
    }
}

/// Largest provider answer a probe reads, in bytes. Every answer a probe
/// reads is a token, one resource or a short list: a few KiB. The cap keeps
/// a misconfigured or hostile endpoint from filling a worker's memory
/// (256 MiB, with up to 64 probes per provider in flight).
pub const BODY_MAX: usize = 1024 * 1024;

/// An answer over [`BODY_MAX`]: final, since asking again gets the same.
pub fn too_large(provider: &str) -> ProbeFailure {
    ProbeFailure::new(
        ErrorCode::ProviderUnavailable,
        format!("{provider} sent an answer over 1 MiB, more than any answer a probe expects; it was not read"),
        "Check the worker's endpoint configuration for this provider: it may not point at the provider's API.",
    )
}

/// Reads the body, refusing it once it passes [`BODY_MAX`] (whether or not
/// a `Content-Length` announced it), so no more than that is ever held.
pub async fn body(provider: &str, mut response: Response) -> Result<Vec<u8>, ProbeFailure> {
    if response.content_length().is_some_and(|n| n > BODY_MAX as u64) {
        return Err(too_large(provider));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(provider, &e))? {
        if body.len() + chunk.len() > BODY_MAX {
            return Err(too_large(provider));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads a JSON answer with [`body`]; one that does not parse as `T` is
/// `what`, unreadable.
pub async fn json<T: serde::de::DeserializeOwned>(
    provider: &str,
    response: Response,
    what: &str,
) -> Result<T, ProbeFailure> {
    let body = body(provider, response).await?;
    serde_json::from_slice(&body).map_err(|_| unexpected(provider, &format!("an unreadable {what}")))
}

/// An answer that does not look like the provider's API at all.
pub fn unexpected(provider: &str, what: &str) -> ProbeFailure {
    ProbeFailure::new(
        ErrorCode::ProviderUnavailable,
        format!("{provider} returned an unexpected answer ({what})"),
        "Check the worker's endpoint configuration for this provider.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_rechecked() {
        assert_eq!(
            path_segment("tenant_id", "11111111-2222-3333-4444-555555555555"),
            Ok("11111111-2222-3333-4444-555555555555")
        );
        assert!(path_segment("project_id", "acme-prod_123").is_ok());
        for bad in ["", "..", "a/b", "a?b", "a#b", "a%2Fb", "a b", "a\r\nb", &"a".repeat(129)] {
            let failure = path_segment("project_id", bad).unwrap_err();
            assert_eq!((failure.code, failure.retryable), (ErrorCode::MalformedCredentials, false), "{bad:?}");
            assert!(failure.message.contains("project_id"), "{}", failure.message);
        }
    }

    #[test]
    fn header_tokens_are_rechecked() {
        assert!(header_token("atlas_public_key", "abcdefgh").is_ok());
        for bad in ["", "abc\"def", "abc\\def", "abc def", "abc\r\nX-Injected: 1", "é"] {
            assert_eq!(
                header_token("atlas_public_key", bad).unwrap_err().code,
                ErrorCode::MalformedCredentials,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn each_segment_stays_one_segment() {
        let built = url("P", "http://127.0.0.1:1/base/", &["v1", "a/b?c#d", "..", "x:test"]).unwrap();
        assert_eq!(built.as_str(), "http://127.0.0.1:1/base/v1/a%2Fb%3Fc%23d/x:test");
        let built = url("P", "http://127.0.0.1:1", &["v1", "p"]).unwrap();
        assert_eq!(built.as_str(), "http://127.0.0.1:1/v1/p");
    }

    /// A one-shot HTTP server answering `head` (status line and headers).
    async fn answering(head: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(format!("{head}\r\ncontent-length: 0\r\n\r\n").as_bytes()).await;
        });
        format!("http://{addr}/v1/tenants")
    }

    /// Issue 15: every call through `send` classifies 429 and 5xx as
    /// retryable (with `Retry-After`), so no probe can map them as final.
    #[tokio::test]
    async fn send_classifies_throttling_and_server_errors_as_transient() {
        let c = client(Duration::from_secs(2));
        let url = answering("HTTP/1.1 429 Too Many Requests\r\nretry-after: 7").await;
        let failure = send("P", c.get(url)).await.unwrap_err();
        assert_eq!((failure.code, failure.retryable), (ErrorCode::ProviderUnavailable, true), "{failure:?}");
        assert_eq!(failure.retry_after, Some(Duration::from_secs(7)));
        let url = answering("HTTP/1.1 502 Bad Gateway").await;
        let failure = send("P", c.get(url)).await.unwrap_err();
        assert_eq!(
            (failure.code, failure.retryable, failure.retry_after),
            (ErrorCode::ProviderUnavailable, true, None)
        );
        let url = answering("HTTP/1.1 404 Not Found").await;
        assert_eq!(send("P", c.get(url)).await.unwrap().status(), StatusCode::NOT_FOUND, "left to the probe");
    }

    /// reqwest refuses a header value with CR/LF when building the request:
    /// nothing is sent, and asking again cannot help.
    #[tokio::test]
    async fn a_request_that_cannot_be_built_is_malformed_credentials_not_transient() {
        let request = client(Duration::from_secs(1)).get("http://127.0.0.1:9/").header("x-key", "a\r\nInjected: 1");
        let failure = send("P", request).await.unwrap_err();
        assert_eq!((failure.code, failure.retryable), (ErrorCode::MalformedCredentials, false), "{failure:?}");
    }
}
