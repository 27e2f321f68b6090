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
//!
//! A test can also change the answer for credentials already saved, as a
//! provider does when credentials are revoked or it has an outage:
//! [`ScriptedProbe::set`] makes every probe of credentials containing a
//! marker answer as another marker would (`bad`, `flaky`), and
//! [`ScriptedProbe::calls_with`] counts the probes of such credentials.

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
    /// Every call per distinct credential set.
    probed: Mutex<HashMap<String, u32>>,
    /// Markers whose credentials now answer as another marker's.
    overrides: Mutex<Vec<(String, String)>>,
}

impl ScriptedProbe {
    /// From now on, credentials containing `marker` are probed as if they
    /// also contained `answer` (`bad`: revoked; `flaky`: an outage); an
    /// empty `answer` undoes it.
    pub fn set(&self, marker: &str, answer: &str) {
        let mut overrides = self.overrides.lock().unwrap_or_else(|e| e.into_inner());
        overrides.retain(|(m, _)| m != marker);
        if !answer.is_empty() {
            overrides.push((marker.to_owned(), answer.to_owned()));
        }
    }

    /// Probe calls (retries included) of credentials containing `marker`.
    pub fn calls_with(&self, marker: &str) -> u32 {
        let probed = self.probed.lock().unwrap_or_else(|e| e.into_inner());
        probed.iter().filter(|(all, _)| all.contains(marker)).map(|(_, n)| n).sum()
    }

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
        let mut all: String = credentials.values().map(|v| v.expose_secret().to_owned()).collect::<Vec<_>>().join(" ");
        *self.probed.lock().unwrap_or_else(|e| e.into_inner()).entry(all.clone()).or_default() += 1;
        for (marker, answer) in self.overrides.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            if all.contains(marker.as_str()) {
                all = format!("{all} {answer}");
            }
        }
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
