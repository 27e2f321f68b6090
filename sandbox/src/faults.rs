//! Failures injected in front of an emulator's protocol: what a real
//! provider does under load or in an incident. Tests aim them at a whole
//! emulator or at one call of its protocol.

use std::sync::{
    Mutex,
    atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
};

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
    /// The protocol's own answer, [`LATE`] after the request came: what
    /// the request does at the provider happens then, so a test can let
    /// other calls overtake it.
    Late,
}

/// How late [`Fault::Late`] answers.
pub const LATE: std::time::Duration = std::time::Duration::from_secs(3);

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
    pub(crate) fn targeted(&self, method: &axum::http::Method, path: &str) -> Option<Fault> {
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

pub(crate) fn take(counter: &AtomicU32) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}
