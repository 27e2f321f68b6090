//! Stand-ins for the five providers' protocols, used two ways:
//! - by the tests, which configure accounts and inject faults to check that
//!   each probe speaks its provider's protocol and classifies every answer;
//! - by `cloudconn-server --dev` as its provider **sandbox**
//!   ([`sandbox::Sandbox`]), where each emulator makes up its accounts from
//!   documented credential values ([`magic`]), so validations can succeed,
//!   or fail on purpose, on a laptop with no cloud in reach.
//!
//! They implement the documented protocol faithfully and check the real
//! cryptography wherever they can know the key (HTTP Digest responses,
//! client secrets, JWT signatures, and keyless connections' tokens against
//! cloudconn's JWKS: [`oidc`]), so a probe that passes here speaks the
//! provider's protocol, not a lenient imitation of it. The probes run
//! unchanged against them: only their endpoints differ.

// An error answer is a whole HTTP response, returned early from the
// emulators' checks; boxing it would only add noise to test code.
#![allow(clippy::result_large_err)]

pub mod aws;
pub mod azure;
mod faults;
pub mod gcp;
pub mod magic;
pub mod mongodb_atlas;
pub mod neo4j_aura;
pub mod oidc;
mod requests;
pub mod sandbox;

pub use faults::{ALWAYS, Call, Fault, Faults, LATE, OVERSIZE_PADDING, Seen};
pub use requests::Requests;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, atomic::Ordering},
    time::Duration,
};

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use faults::take;
use tokio_util::sync::CancellationToken;

/// A running emulator. Dropping it stops it.
pub struct Emulator {
    pub addr: SocketAddr,
    /// Failures to inject in front of the protocol.
    pub faults: Arc<Faults>,
    /// The W3C `traceparent` of every request received, in order.
    pub traceparents: Arc<Mutex<Vec<String>>>,
    /// Every request received, counted by call: what tests assert "no
    /// provider call" (or "one") with.
    pub requests: Arc<Requests>,
    stop: CancellationToken,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Emulator {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

#[derive(Clone)]
struct Front {
    faults: Arc<Faults>,
    traceparents: Arc<Mutex<Vec<String>>>,
    requests: Arc<Requests>,
}

async fn inject(State(front): State<Front>, request: Request, next: Next) -> Response {
    // Counted before any fault: a request answered 429 still reached the provider.
    front.requests.record(request.method(), request.uri().path());
    if let Some(tp) = request.headers().get("traceparent").and_then(|v| v.to_str().ok()) {
        front.traceparents.lock().unwrap_or_else(|e| e.into_inner()).push(tp.to_owned());
    }
    let faults = &front.faults;
    let latency = faults.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if faults.slow.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(120)).await;
    }
    if take(&faults.throttle) {
        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response();
    }
    if take(&faults.fail) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    match faults.targeted(request.method(), request.uri().path()) {
        Some(Fault::Throttle) => return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response(),
        Some(Fault::Unavailable) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Some(Fault::Silence) => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        Some(Fault::Late) => tokio::time::sleep(faults::LATE).await,
        None => {}
    }
    let response = next.run(request).await;
    if faults.oversize.load(Ordering::SeqCst) { oversized(response).await } else { response }
}

/// The answer with a 2 MiB `padding` field, if it is a JSON object.
async fn oversized(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    object.insert("padding".into(), "x".repeat(OVERSIZE_PADDING).into());
    let padded = serde_json::to_vec(&object).unwrap_or_default();
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> =
        padded.chunks(64 * 1024).map(|c| Ok(axum::body::Bytes::copy_from_slice(c))).collect();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from_stream(tokio_stream::iter(chunks)))
}

/// Serves `router` on a free loopback port, behind fault injection.
pub async fn serve(router: axum::Router) -> Emulator {
    let front = Front { faults: Arc::new(Faults::default()), traceparents: Arc::default(), requests: Arc::default() };
    let router = router.layer(axum::middleware::from_fn_with_state(front.clone(), inject));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind emulator");
    let addr = listener.local_addr().expect("addr");
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).with_graceful_shutdown(async move { token.cancelled().await }).await;
    });
    Emulator { addr, faults: front.faults, traceparents: front.traceparents, requests: front.requests, stop }
}

/// Tokens (or nonces, or sessions) an emulator issued and what each stands
/// for. Bounded: a long-running `--dev` issues one or two per validation,
/// so the oldest are forgotten once there are [`Issued::CAPACITY`].
pub(crate) struct Issued<V> {
    map: std::collections::HashMap<String, V>,
    order: std::collections::VecDeque<String>,
}

impl<V> Default for Issued<V> {
    fn default() -> Self {
        Self { map: Default::default(), order: Default::default() }
    }
}

impl<V> Issued<V> {
    const CAPACITY: usize = 4096;

    pub(crate) fn insert(&mut self, key: String, value: V) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > Self::CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.map.remove(&oldest);
            }
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }
}

/// A random token or nonce.
pub fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
