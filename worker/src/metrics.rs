//! The worker's metrics and HTTP endpoint (`CLOUDCONN_METRICS_LISTEN`).
//!
//! - `cloudconn_worker_jobs_in_flight`
//! - `cloudconn_worker_jobs_total{provider,outcome}` (`succeeded`, `failed`,
//!   `poison`, `requeued`)
//! - `cloudconn_worker_probe_duration_seconds{provider}` (each attempt)
//!
//! `/healthz`: the process runs. `/readyz`: Vault answers our token (without
//! it no job can run).

use std::sync::Arc;

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use cloudconn_infra::vault::VaultStore;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

pub struct WorkerMetrics {
    registry: Registry,
    pub in_flight: IntGauge,
    jobs: IntCounterVec,
    probe: HistogramVec,
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
        let probe = HistogramVec::new(
            HistogramOpts::new("probe_duration_seconds", "one probe attempt, by provider")
                .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
            &["provider"],
        )
        .expect("metric");
        registry.register(Box::new(in_flight.clone())).expect("register");
        registry.register(Box::new(jobs.clone())).expect("register");
        registry.register(Box::new(probe.clone())).expect("register");
        Arc::new(Self { registry, in_flight, jobs, probe })
    }

    pub fn job(&self, provider: &str, outcome: &str) {
        self.jobs.with_label_values(&[provider, outcome]).inc();
    }

    pub fn probe_attempt(&self, provider: &str, seconds: f64) {
        self.probe.with_label_values(&[provider]).observe(seconds);
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
}

/// `/metrics`, `/healthz`, `/readyz`.
pub fn router(metrics: Arc<WorkerMetrics>, vault: Option<Arc<VaultStore>>) -> Router {
    Router::new()
        .route("/metrics", get(|State(e): State<Endpoint>| async move { e.metrics.render() }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .with_state(Endpoint { metrics, vault })
}

async fn ready(State(e): State<Endpoint>) -> impl IntoResponse {
    let vault_ok = match &e.vault {
        Some(v) => v.ping().await.is_ok(),
        None => true,
    };
    if vault_ok { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "vault unreachable") }
}
