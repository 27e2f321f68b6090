//! Provider emulators for the probe tests. They implement the documented
//! protocol faithfully and check the real cryptography (HTTP Digest
//! responses, client secrets, JWT signatures), so a probe that passes here
//! speaks the provider's protocol, not a lenient imitation of it.

pub mod azure;
pub mod gcp;
pub mod mongodb_atlas;
pub mod neo4j_aura;

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio_util::sync::CancellationToken;

/// A running emulator. Dropping it stops it.
pub struct Emulator {
    pub addr: SocketAddr,
    /// Failures to inject in front of the protocol.
    pub faults: Arc<Faults>,
    /// The W3C `traceparent` of every request received, in order.
    pub traceparents: Arc<Mutex<Vec<String>>>,
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

/// Failures a test can inject, answered before the protocol runs: what a
/// real provider does under load or in an incident.
#[derive(Default)]
pub struct Faults {
    /// Answer the next N requests 429 with `Retry-After: 1`.
    pub throttle: AtomicU32,
    /// Answer the next N requests 503.
    pub fail: AtomicU32,
    /// Never answer (until cleared).
    pub slow: AtomicBool,
    /// Answer every request this many milliseconds late (the benchmark's
    /// slow provider).
    pub latency_ms: AtomicU64,
    /// Pad every JSON object answer with a 2 MiB field (the real answer
    /// otherwise, so a reader without a size cap would accept it), sent
    /// chunked, without a `Content-Length` to refuse it by.
    pub oversize: AtomicBool,
    /// Faults aimed at one call of the protocol ([`Faults::on`]), checked
    /// after the ones above.
    targeted: Mutex<Vec<Targeted>>,
    /// Every request of a call a fault was ever aimed at: when it came and
    /// what it was answered, so a test can see when a probe came back.
    seen: Mutex<Vec<Seen>>,
}

/// One request of a targeted call.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    pub call: &'static str,
    pub at: std::time::Instant,
    /// The fault it was answered with; `None`: the protocol answered.
    pub fault: Option<Fault>,
}

/// One call of an emulated provider API, as a probe makes it: each
/// emulator lists its calls (`CALLS`), so a test can aim a fault at each.
#[derive(Clone, Copy)]
pub struct Call {
    /// e.g. `aura tenants`.
    pub name: &'static str,
    /// Whether a request with this method and path is this call.
    pub matches: fn(&axum::http::Method, &str) -> bool,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// What a targeted fault answers instead of the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After: 1`.
    Throttle,
    /// 503.
    Unavailable,
    /// No answer for 120 s: past any probe timeout.
    Silence,
}

/// For `times` in [`Faults::on`]: every call, for the rest of the test.
pub const ALWAYS: u32 = u32::MAX;

struct Targeted {
    call: Call,
    fault: Fault,
    /// Calls still to fail; [`ALWAYS`] never runs out.
    left: u32,
}

impl Faults {
    /// Answers the next `times` requests of `call` with `fault` (then the
    /// protocol again), so a test can choose between a provider that
    /// recovers after a retry and one that never does ([`ALWAYS`]).
    pub fn on(&self, call: Call, fault: Fault, times: u32) {
        self.targeted.lock().unwrap_or_else(|e| e.into_inner()).push(Targeted { call, fault, left: times });
    }

    /// Drops every targeted fault: the protocol answers every call again.
    pub fn clear(&self) {
        self.targeted.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The targeted fault for this request, if one is due (counted).
    fn targeted(&self, method: &axum::http::Method, path: &str) -> Option<Fault> {
        let mut targeted = self.targeted.lock().unwrap_or_else(|e| e.into_inner());
        let call = targeted.iter().find(|t| (t.call.matches)(method, path))?.call.name;
        let due = targeted.iter_mut().find(|t| t.left > 0 && (t.call.matches)(method, path));
        let fault = due.map(|due| {
            if due.left != ALWAYS {
                due.left -= 1;
            }
            due.fault
        });
        let seen = Seen { call, at: std::time::Instant::now(), fault };
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).push(seen);
        fault
    }

    /// The requests of `call` so far, in order (only once a fault was aimed
    /// at it).
    pub fn seen(&self, call: Call) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).iter().filter(|s| s.call == call.name).copied().collect()
    }

    /// How long the probe waited after the first 429 of `call` before it
    /// asked again; `None` if it never did.
    pub fn waited_after_throttle(&self, call: Call) -> Option<std::time::Duration> {
        let seen = self.seen(call);
        let throttled = seen.iter().position(|s| s.fault == Some(Fault::Throttle))?;
        let next = seen.get(throttled + 1)?;
        Some(next.at.duration_since(seen[throttled].at))
    }
}

/// What `Faults::oversize` adds to an answer.
pub const OVERSIZE_PADDING: usize = 2 * 1024 * 1024;

fn take(counter: &AtomicU32) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

#[derive(Clone)]
struct Front {
    faults: Arc<Faults>,
    traceparents: Arc<Mutex<Vec<String>>>,
}

async fn inject(State(front): State<Front>, request: Request, next: Next) -> Response {
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
    let front = Front { faults: Arc::new(Faults::default()), traceparents: Arc::default() };
    let router = router.layer(axum::middleware::from_fn_with_state(front.clone(), inject));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind emulator");
    let addr = listener.local_addr().expect("addr");
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).with_graceful_shutdown(async move { token.cancelled().await }).await;
    });
    Emulator { addr, faults: front.faults, traceparents: front.traceparents, stop }
}

/// A random token or nonce.
pub fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
