//! A probe whose answer is scripted by markers in the credentials, for the
//! pipeline tests. It lives in the test crate only: the product binary
//! registers real probes or none.
//!
//! Markers (anywhere in any credential value): `bad` → INVALID_CREDENTIALS;
//! `nostorage` → the storage scope lacks a permission; `flaky` → transient
//! failure every attempt; `slow` → never answers (the worker's timeout
//! fires); `poison` → the probe panics; `failN` (N a digit) → transient
//! failures on the first N calls; `delay` → answers after 300 ms;
//! otherwise success with an identity.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use cloudconn_infra::{amqp::messages::ScopeCheck, secrets::SecretFields};
use cloudconn_worker::probe::{ErrorCode, Probe, ProbeFailure, ProbeReport, ProbeRequest, Probes};
use secrecy::ExposeSecret;

#[derive(Default)]
pub struct ScriptedProbe {
    /// Probe calls made, retries included.
    pub calls: AtomicU32,
    /// Calls per distinct credential set, for `failN` markers.
    seen: Mutex<HashMap<String, u32>>,
}

impl ScriptedProbe {
    /// Registers one scripted probe for every provider.
    pub fn everywhere() -> (Arc<Self>, Probes) {
        let probe = Arc::new(Self::default());
        let probes = ["aws", "gcp", "azure", "mongodb_atlas", "neo4j_aura"]
            .into_iter()
            .fold(Probes::default(), |p, name| p.with(name, probe.clone()));
        (probe, probes)
    }
}

#[async_trait::async_trait]
impl Probe for ScriptedProbe {
    async fn probe(&self, request: &ProbeRequest, credentials: &SecretFields) -> Result<ProbeReport, ProbeFailure> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let all: String = credentials.values().map(|v| v.expose_secret().to_owned()).collect::<Vec<_>>().join(" ");
        // `failN`: a transient failure on the first N calls for these
        // credentials, then success (retries that eventually work).
        if let Some(n) = all.split("fail").nth(1).and_then(|rest| rest.chars().next()).and_then(|c| c.to_digit(10)) {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            let count = seen.entry(all.clone()).or_default();
            *count += 1;
            if *count <= n {
                return Err(ProbeFailure::transient(format!("503 (scripted failure {count} of {n})")));
            }
        }
        if all.contains("delay") {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if all.contains("poison") {
            panic!("scripted poison: the probe crashes on these credentials");
        }
        if all.contains("slow") {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        if all.contains("flaky") {
            return Err(ProbeFailure::transient("503 Service Unavailable"));
        }
        if all.contains("bad") {
            return Err(ProbeFailure::new(
                ErrorCode::InvalidCredentials,
                "the provider rejected the credentials",
                "Check the client secret; it may have expired.",
            ));
        }
        let scope_checks = request
            .scopes
            .iter()
            .map(|scope| {
                let denied = scope == "storage" && all.contains("nostorage");
                ScopeCheck {
                    scope: scope.clone(),
                    granted: !denied,
                    missing_permissions: if denied { vec!["storage.buckets.list".into()] } else { vec![] },
                }
            })
            .collect();
        let mut identity = BTreeMap::new();
        identity.insert("account_id".to_owned(), "123456789012".to_owned());
        identity.insert("provider".to_owned(), request.provider.clone());
        Ok(ProbeReport { identity, scope_checks, warnings: vec![] })
    }
}
