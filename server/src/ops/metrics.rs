//! Prometheus metrics and the operator's HTTP endpoint.
//!
//! Series (all prefixed `cloudconn_`):
//! - `rpc_requests_total{method,code}`, `rpc_duration_seconds{method}`
//! - `validations_total{provider,outcome}` (outcomes the server recorded)
//! - `revalidations_total{provider,action}`: due connections this replica's
//!   scheduler `started` a validation of, or `postponed` (one was under way)
//! - `revalidations_due` (read at scrape time): ACTIVE connections whose
//!   scheduled validation is due or overdue, across replicas, and
//!   `revalidations_oldest_due_age_seconds`, how overdue the most overdue is
//! - `connections{provider,status}`: every connection, counted at most once
//!   a [`CENSUS_EVERY`] per replica (a grouped count over the whole table)
//! - `outbox_unsent`, `outbox_oldest_unsent_age_seconds`, `outbox_parked`
//!   (read at scrape time; parked rows are not counted as unsent)
//! - `db_statements_total{kind}` (`select`, `insert`, `update`, `delete`,
//!   `other`: statements sent, transaction brackets not counted)
//!
//! `/healthz` answers 200 while the process runs (liveness); `/readyz` 200
//! only while every dependency is reachable (readiness, see `health`).

use std::sync::Arc;

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::health::Readiness;
use crate::domain::status::ConnectionStatus;

pub struct Metrics {
    pub registry: Registry,
    rpc_requests: IntCounterVec,
    rpc_duration: HistogramVec,
    validations: IntCounterVec,
    validation_duration: HistogramVec,
    revalidations: IntCounterVec,
    revalidations_due: IntGauge,
    revalidations_oldest_due: IntGauge,
    connections: IntGaugeVec,
    /// When `connections` was last counted.
    census_time: std::sync::Mutex<Option<std::time::Instant>>,
    broken: IntCounterVec,
    outbox_unsent: IntGauge,
    outbox_age: IntGauge,
    outbox_parked: IntGauge,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let registry = Registry::new_custom(Some("cloudconn".into()), None).expect("registry");
        let rpc_requests = IntCounterVec::new(
            Opts::new("rpc_requests_total", "gRPC calls by method and status code"),
            &["method", "code"],
        )
        .expect("metric");
        let rpc_duration = HistogramVec::new(
            HistogramOpts::new("rpc_duration_seconds", "gRPC call latency until the response starts")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0]),
            &["method"],
        )
        .expect("metric");
        let validations = IntCounterVec::new(
            Opts::new("validations_total", "validation outcomes recorded"),
            &["provider", "outcome"],
        )
        .expect("metric");
        let validation_duration = HistogramVec::new(
            HistogramOpts::new(
                "validation_duration_seconds",
                "time from ValidateConnection to the recorded outcome (queueing, probe with retries, result)",
            )
            .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0]),
            &["provider", "outcome"],
        )
        .expect("metric");
        let revalidations = IntCounterVec::new(
            Opts::new("revalidations_total", "due scheduled validations started, or postponed while one was under way"),
            &["provider", "action"],
        )
        .expect("metric");
        let revalidations_due =
            IntGauge::new("revalidations_due", "ACTIVE connections whose scheduled validation is due or overdue")
                .expect("metric");
        let revalidations_oldest_due = IntGauge::new(
            "revalidations_oldest_due_age_seconds",
            "how long the most overdue scheduled validation has been due (0: none due)",
        )
        .expect("metric");
        let connections = IntGaugeVec::new(
            Opts::new("connections", "connections by provider and status (counted at most once a minute)"),
            &["provider", "status"],
        )
        .expect("metric");
        let broken = IntCounterVec::new(
            Opts::new(
                "connections_broken_total",
                "ACTIVE connections that turned FAILED: their credentials stopped working",
            ),
            &["provider"],
        )
        .expect("metric");
        let outbox_unsent = IntGauge::new("outbox_unsent", "outbox rows not yet published").expect("metric");
        let outbox_age = IntGauge::new("outbox_oldest_unsent_age_seconds", "age of the oldest unpublished outbox row")
            .expect("metric");
        let outbox_parked = IntGauge::new("outbox_parked", "outbox rows set aside after the broker kept refusing them")
            .expect("metric");
        for c in [
            Box::new(rpc_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(rpc_duration.clone()),
            Box::new(validations.clone()),
            Box::new(validation_duration.clone()),
            Box::new(revalidations.clone()),
            Box::new(revalidations_due.clone()),
            Box::new(revalidations_oldest_due.clone()),
            Box::new(connections.clone()),
            Box::new(broken.clone()),
            Box::new(outbox_unsent.clone()),
            Box::new(outbox_age.clone()),
            Box::new(outbox_parked.clone()),
            Box::new(crate::store::statements::STATEMENTS.vec.clone()),
        ] {
            registry.register(c).expect("register");
        }
        Arc::new(Self {
            registry,
            rpc_requests,
            rpc_duration,
            validations,
            validation_duration,
            revalidations,
            revalidations_due,
            revalidations_oldest_due,
            connections,
            census_time: std::sync::Mutex::new(None),
            broken,
            outbox_unsent,
            outbox_age,
            outbox_parked,
        })
    }

    /// One recorded outcome, `seconds` after the validation was requested.
    pub fn validation(&self, provider: &str, outcome: &str, seconds: f64) {
        self.validations.with_label_values(&[provider, outcome]).inc();
        self.validation_duration.with_label_values(&[provider, outcome]).observe(seconds);
    }

    /// One pass of the re-validation scheduler for `provider`.
    pub fn revalidations(&self, provider: &str, started: u64, postponed: u64) {
        self.revalidations.with_label_values(&[provider, "started"]).inc_by(started);
        self.revalidations.with_label_values(&[provider, "postponed"]).inc_by(postponed);
    }

    /// An ACTIVE connection of `provider` turned FAILED (a validation of
    /// the revision in use failed for good).
    pub fn broken(&self, provider: &str) {
        self.broken.with_label_values(&[provider]).inc();
    }

    /// One finished call (see `api::metrics`).
    pub fn rpc(&self, method: &str, code: &str, seconds: f64) {
        self.rpc_requests.with_label_values(&[method, code]).inc();
        self.rpc_duration.with_label_values(&[method]).observe(seconds);
    }
}

/// How often `connections{provider,status}` is counted at most. Counting
/// reads the whole table (about a second of PostgreSQL's CPU at a million
/// rows, estimated, not measured); once a minute per replica keeps that
/// negligible while staying fresh enough for a dashboard.
pub const CENSUS_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Counts connections by provider and status, unless counted lately. Every
/// provider and status has a series (0 when none), so a dashboard's sum
/// never misses one.
async fn census(e: &Endpoint) {
    {
        let mut last = e.metrics.census_time.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < CENSUS_EVERY) {
            return;
        }
        *last = Some(std::time::Instant::now());
    }
    let Ok(groups) = crate::store::connections::census(&e.db).await else { return };
    for provider in crate::domain::provider::Provider::ALL {
        for status in ConnectionStatus::ALL {
            let n = groups
                .iter()
                .find(|(p, s, _)| p == provider.as_str() && s == status.as_str())
                .map_or(0, |(_, _, n)| *n);
            e.metrics.connections.with_label_values(&[provider.as_str(), status.as_str()]).set(n);
        }
    }
}

#[derive(Clone)]
struct Endpoint {
    metrics: Arc<Metrics>,
    readiness: Readiness,
    db: DatabaseConnection,
}

pub fn router(metrics: Arc<Metrics>, readiness: Readiness, db: DatabaseConnection) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .with_state(Endpoint { metrics, readiness, db })
}

async fn ready(State(e): State<Endpoint>) -> impl IntoResponse {
    if e.readiness.is_ready() { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "not ready") }
}

async fn scrape(State(e): State<Endpoint>) -> impl IntoResponse {
    // The outbox figures come from the database at scrape time: every
    // replica reports the shared backlog.
    let backend = e.db.get_database_backend();
    let sql =
        "SELECT COUNT(*) AS n, MIN(create_time) AS oldest FROM outbox WHERE sent_time IS NULL AND parked_time IS NULL";
    if let Ok(Some(row)) = e.db.query_one_raw(Statement::from_string(backend, sql)).await {
        e.metrics.outbox_unsent.set(row.try_get::<i64>("", "n").unwrap_or(0));
        let oldest = row.try_get::<Option<chrono::DateTime<chrono::Utc>>>("", "oldest").ok().flatten();
        e.metrics.outbox_age.set(oldest.map_or(0, |t| (chrono::Utc::now() - t).num_seconds().max(0)));
    }
    let now = crate::store::now();
    if let Ok((due, oldest)) = crate::store::schedule::due(&e.db, now).await {
        e.metrics.revalidations_due.set(i64::try_from(due).unwrap_or(i64::MAX));
        e.metrics.revalidations_oldest_due.set(oldest.map_or(0, |t| (now - t).num_seconds().max(0)));
    }
    census(&e).await;
    if let Ok(parked) = crate::store::outbox::parked(&e.db).await {
        e.metrics.outbox_parked.set(i64::try_from(parked).unwrap_or(i64::MAX));
    }
    let mut body = Vec::new();
    let _ = TextEncoder::new().encode(&e.metrics.registry.gather(), &mut body);
    ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
