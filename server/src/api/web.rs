//! gRPC-Web on the gRPC port, for browsers (the TypeScript SDK, the
//! Workbench): `tonic-web` translates gRPC-Web (HTTP/1.1 or HTTP/2) into
//! gRPC in front of every other layer, so admission, authentication,
//! limits and metrics treat both alike.
//!
//! An HTTP/1.1 request's body is read in full before the call is handled
//! ([`ReadBodyFirstLayer`]). Otherwise a call refused before its body was
//! read (a bad token) is answered while the client is still sending, and
//! hyper then closes the connection without `Connection: close`: a client
//! that sends headers and body separately (Node's `http`) gets EPIPE
//! instead of the refusal. gRPC-Web has no client streaming, so the body
//! is one message, already bounded in size and time (admission).
//!
//! CORS is answered only for the origins in `CLOUDCONN_CORS_ORIGINS`: a
//! page from any other origin cannot read the answers (its preflight gets
//! no `Access-Control-Allow-Origin`). Callers authenticate with a bearer
//! token in a header, never a cookie, so credentials mode stays off.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use http::{HeaderName, HeaderValue, Method, Request, Response};
use http_body_util::BodyExt;
use tonic::{Status, body::Body};
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

/// The most an HTTP/1.1 request body may hold: one message of the largest
/// size the API decodes, with its frame header and some room.
const MAX_HTTP1_BODY: usize = super::limits::MAX_MESSAGE_BYTES + 1024;

/// Reads HTTP/1.x request bodies in full before the call (see the module
/// comment); HTTP/2 requests pass through untouched.
#[derive(Clone, Copy)]
pub struct ReadBodyFirstLayer;

impl<S> tower::Layer<S> for ReadBodyFirstLayer {
    type Service = ReadBodyFirst<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ReadBodyFirst { inner }
    }
}

#[derive(Clone)]
pub struct ReadBodyFirst<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> tower::Service<Request<Body>> for ReadBodyFirst<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if request.version() >= http::Version::HTTP_2 {
            return Box::pin(self.inner.call(request));
        }
        // The clone that was made ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let collected = match http_body_util::Limited::new(body, MAX_HTTP1_BODY).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(e) => {
                    // The deadline's own status (admission), or the size cap.
                    let status = match e.downcast::<Status>() {
                        Ok(status) => *status,
                        Err(_) => Status::resource_exhausted(format!(
                            "the request body is over {MAX_HTTP1_BODY} bytes, or could not be read"
                        )),
                    };
                    return Ok(status.into_http());
                }
            };
            inner.call(Request::from_parts(parts, Body::new(http_body_util::Full::new(collected)))).await
        })
    }
}
