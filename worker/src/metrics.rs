//! The worker's metrics and HTTP endpoint (`CLOUDCONN_METRICS_LISTEN`).
//!
//! - `cloudconn_worker_jobs_in_flight`
//! - `cloudconn_worker_jobs_total{provider,outcome}` (`succeeded`, `failed`,
//!   `poison`, `requeued`)
//! - `cloudconn_worker_probe_duration_seconds{provider}` (each attempt)
//! - `cloudconn_worker_issue_requests_total{outcome}` (`issued`, `failed`,
//!   `expired` — dropped past its deadline —, `malformed`)
//!
//! `/healthz` (liveness): fails once jobs have been waiting on Vault and no
//! credential read has succeeded for `CLOUDCONN_VAULT_LIVENESS_MS` — a
//! worker stuck like that holds its jobs and does nothing else, and a
//! restart gives it a fresh start. `/readyz`: Vault answers our token
//! (without it no job can run).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use cloudconn_infra::vault::VaultStore;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

pub struct WorkerMetrics {
    registry: Registry,
    pub in_flight: IntGauge,
    jobs: IntCounterVec,
    issues: IntCounterVec,
    probe: HistogramVec,
    vault: Mutex<VaultReads>,
}

/// When credential reads last succeeded and failed.
struct VaultReads {
    last_ok: Instant,
    last_failure: Option<Instant>,
}

impl WorkerMetrics {
    pub fn new() -> Arc<Self> {
        let registry = Registry::new_custom(Some("cloudconn_worker".into()), None).expect("registry");
        let in_flight = IntGauge::new("jobs_in_flight", "validation jobs being worked on").expect("metric");
        let jobs = IntCounterVec::new(
            Opts::new("jobs_total", "jobs finished, by provider and outcome"),
            &["provider", "outcome"],
        )
        .expect("metric");
        let issues =
            IntCounterVec::new(Opts::new("issue_requests_total", "issue requests handled, by outcome"), &["outcome"])
                .expect("metric");
        let probe = HistogramVec::new(
            HistogramOpts::new("probe_duration_seconds", "one probe attempt, by provider")
                .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
            &["provider"],
        )
        .expect("metric");
        registry.register(Box::new(in_flight.clone())).expect("register");
        registry.register(Box::new(jobs.clone())).expect("register");
        registry.register(Box::new(issues.clone())).expect("register");
        registry.register(Box::new(probe.clone())).expect("register");
        let vault = Mutex::new(VaultReads { last_ok: Instant::now(), last_failure: None });
        Arc::new(Self { registry, in_flight, jobs, issues, probe, vault })
    }

    pub fn job(&self, provider: &str, outcome: &str) {
        self.jobs.with_label_values(&[provider, outcome]).inc();
    }

    pub fn issue(&self, outcome: &str) {
        self.issues.with_label_values(&[outcome]).inc();
    }

    pub fn probe_attempt(&self, provider: &str, seconds: f64) {
        self.probe.with_label_values(&[provider]).observe(seconds);
    }

    /// A credential read got an answer from Vault (the secret, or "gone").
    pub fn vault_read_ok(&self) {
        self.vault.lock().unwrap_or_else(|e| e.into_inner()).last_ok = Instant::now();
    }

    /// A credential read failed (Vault refused us, or did not answer).
    pub fn vault_read_failed(&self) {
        self.vault.lock().unwrap_or_else(|e| e.into_inner()).last_failure = Some(Instant::now());
    }

    /// Whether the last read failed and none has succeeded for `window`.
    pub fn vault_stalled(&self, window: Duration) -> bool {
        let reads = self.vault.lock().unwrap_or_else(|e| e.into_inner());
        reads.last_failure.is_some_and(|failed| failed > reads.last_ok) && reads.last_ok.elapsed() > window
    }

    fn render(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut body);
        body
    }
}

#[derive(Clone)]
struct Endpoint {
    metrics: Arc<WorkerMetrics>,
    vault: Option<Arc<VaultStore>>,
    liveness: Duration,
}

/// `/metrics`, `/healthz`, `/readyz`; `liveness` is `CLOUDCONN_VAULT_LIVENESS_MS`.
pub fn router(metrics: Arc<WorkerMetrics>, vault: Option<Arc<VaultStore>>, liveness: Duration) -> Router {
    Router::new()
        .route("/metrics", get(|State(e): State<Endpoint>| async move { e.metrics.render() }))
        .route("/healthz", get(alive))
        .route("/readyz", get(ready))
        .with_state(Endpoint { metrics, vault, liveness })
}

async fn alive(State(e): State<Endpoint>) -> impl IntoResponse {
    if e.metrics.vault_stalled(e.liveness) {
        (StatusCode::SERVICE_UNAVAILABLE, "stalled: jobs are waiting and no vault read has succeeded lately")
    } else {
        (StatusCode::OK, "ok")
    }
}

async fn ready(State(e): State<Endpoint>) -> impl IntoResponse {
    let vault_ok = match &e.vault {
        Some(v) => v.ping().await.is_ok(),
        None => true,
    };
    if vault_ok { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "vault unreachable") }
}
