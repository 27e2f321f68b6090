//! The requests an emulator received, counted by method and path, so a
//! test can say how often a provider was called ("a cache hit makes no
//! provider call", "fifty concurrent misses mint once").

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::http::Method;

use crate::Call;

/// Request counts of one emulator.
#[derive(Default)]
pub struct Requests {
    total: AtomicU64,
    /// (method, path) → requests. Bounded by [`Requests::ROUTES`]: a
    /// long-running `--dev` sees few distinct paths, but an unbounded map
    /// keyed by request data would grow with whatever it is sent; past the
    /// bound only `total` counts.
    by_route: Mutex<HashMap<(Method, String), u64>>,
}

impl Requests {
    const ROUTES: usize = 4096;

    pub(crate) fn record(&self, method: &Method, path: &str) {
        self.total.fetch_add(1, Ordering::SeqCst);
        let mut routes = self.by_route.lock().unwrap_or_else(|e| e.into_inner());
        let key = (method.clone(), path.to_owned());
        if let Some(count) = routes.get_mut(&key) {
            *count += 1;
        } else if routes.len() < Self::ROUTES {
            routes.insert(key, 1);
        }
    }

    /// Every request received, whatever it was.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::SeqCst)
    }

    /// The requests of `call` (each emulator lists its calls: `CALLS`,
    /// `MINT_CALLS`). A digest challenge (Atlas) counts as a request.
    pub fn count(&self, call: Call) -> u64 {
        let routes = self.by_route.lock().unwrap_or_else(|e| e.into_inner());
        routes.iter().filter(|((method, path), _)| (call.matches)(method, path)).map(|(_, n)| n).sum()
    }
}
