//! gRPC-Web on the gRPC port, for browsers (the TypeScript SDK, the
//! Workbench): `tonic-web` translates gRPC-Web (HTTP/1.1 or HTTP/2) into
//! gRPC in front of every other layer, so admission, authentication,
//! limits and metrics treat both alike.
//!
//! HTTP/1.1 needs two things HTTP/2 does not: an answer given before the
//! body was read must close the connection cleanly, and bodies being read
//! need a bound of their own (`api::http1`).
//!
//! CORS is answered only for the origins in `CLOUDCONN_CORS_ORIGINS`: a
//! page from any other origin cannot read the answers (its preflight gets
//! no `Access-Control-Allow-Origin`). Callers authenticate with a bearer
//! token in a header, never a cookie, so credentials mode stays off.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Request headers a gRPC-Web client sends beyond the CORS-safelisted ones.
const REQUEST_HEADERS: [&str; 8] = [
    "authorization",
    "content-type",
    "x-grpc-web",
    "x-user-agent",
    "grpc-timeout",
    "traceparent",
    "tracestate",
    "connect-protocol-version",
];

/// Response headers a browser page may read: the status lives in them
/// when a call fails before any message (trailers-only responses).
const EXPOSED_HEADERS: [&str; 3] = ["grpc-status", "grpc-message", "grpc-status-details-bin"];

/// How long a browser may reuse a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(2 * 60 * 60);

/// The CORS layer for `origins` (already validated by the configuration);
/// `None` when there are none.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::POST])
            .allow_headers(REQUEST_HEADERS.map(HeaderName::from_static))
            .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
            .max_age(PREFLIGHT_MAX_AGE),
    )
}
