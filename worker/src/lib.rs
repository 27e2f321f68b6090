//! cloudconn's worker: consumes validation jobs, reads the exact credential
//! revision from Vault (read-only), probes the provider and publishes the
//! outcome; and answers issue requests with short-lived credentials minted
//! from the active revision. It has no database access.
//!
//! # Layout
//! - [`config`]: `WorkerConfig` (concurrency, probe timeout and retries).
//! - [`consumer`]: step 3, queue → worker: one job per delivery, acked last.
//! - [`issue`]: the run step: issue requests → minted credentials, replied
//!   to the requesting server's reply queue, signed ([`issue::guard`] checks
//!   the request first).
//! - [`keyless`]: signing the OpenID Connect tokens keyless connections
//!   sign in with.
//! - [`mint`]: one minter per provider (short-lived credentials per scope).
//! - [`metrics`]: Prometheus series and `/metrics`, `/healthz`, `/readyz`.
//! - [`probe`]: the probe interface and registry; `probe::outcome` maps
//!   probe results to the reported outcome.
//! - [`Worker`]: wires them to RabbitMQ and runs until shutdown.

pub mod config;
pub mod consumer;
pub mod issue;
pub mod keyless;
pub mod metrics;
pub mod mint;
pub mod probe;

use std::sync::Arc;

use cloudconn_infra::{
    amqp::{
        consumer::{self as amqp_consumer, ConsumerSettings},
        publisher::Publisher,
    },
    secrets::SecretStore,
};
use tokio_util::sync::CancellationToken;

use crate::{
    config::WorkerConfig,
    consumer::{JobHandler, JobRunner},
    issue::{IssueHandler, IssueRunner, guard::RequestGuard},
    metrics::WorkerMetrics,
    mint::Minters,
    probe::Probes,
};

pub struct Worker {
    config: WorkerConfig,
    secrets: Arc<dyn SecretStore>,
    probes: Probes,
    minters: Minters,
    metrics: Arc<WorkerMetrics>,
    /// Where `/metrics`, `/healthz`, `/readyz` are served, if anywhere, and
    /// the Vault store `/readyz` checks.
    endpoint: Option<(tokio::net::TcpListener, Option<Arc<cloudconn_infra::vault::VaultStore>>)>,
}

impl Worker {
    pub fn new(config: WorkerConfig, secrets: Arc<dyn SecretStore>, probes: Probes, minters: Minters) -> Self {
        Self { config, secrets, probes, minters, metrics: WorkerMetrics::new(), endpoint: None }
    }

    /// Serves the HTTP endpoint on `listener` while the worker runs.
    pub fn with_endpoint(
        mut self,
        listener: tokio::net::TcpListener,
        vault: Option<Arc<cloudconn_infra::vault::VaultStore>>,
    ) -> Self {
        self.endpoint = Some((listener, vault));
        self
    }

    /// Consumes jobs until `shutdown`, then finishes or gives back the jobs
    /// in flight and returns.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let url = self.config.amqp.amqp_url.clone().ok_or_else(|| anyhow::anyhow!("CLOUDCONN_AMQP_URL is required"))?;
        self.config.amqp.install_trust()?;
        let keys = self.config.amqp.keys.clone().ok_or_else(|| {
            anyhow::anyhow!("CLOUDCONN_AMQP_SIGNING_KEY_FILE and CLOUDCONN_AMQP_PEER_KEYS_FILE are required")
        })?;
        // The server declares; see `Topology::used_only`.
        let topology = self.config.amqp.topology().used_only();
        let timeout = self.config.timeouts.dependency_timeout();
        let settings = ConsumerSettings {
            url: url.clone(),
            name: "cloudconn-worker".into(),
            topology: topology.clone(),
            queue: topology.validate_queue(),
            concurrency: self.config.worker_concurrency,
            timeout,
        };
        if let Some((listener, vault)) = self.endpoint {
            let router = metrics::router(self.metrics.clone(), vault, self.config.vault_liveness());
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let served =
                    axum::serve(listener, router).with_graceful_shutdown(async move { stop.cancelled().await });
                if let Err(e) = served.await {
                    tracing::error!(error = %e, "worker metrics endpoint failed");
                }
            });
        }
        let issues = ConsumerSettings {
            url: url.clone(),
            name: "cloudconn-worker issue".into(),
            topology: topology.clone(),
            queue: topology.issue_queue(),
            concurrency: self.config.worker_concurrency,
            timeout,
        };
        let issue_handler = IssueHandler {
            runner: IssueRunner { secrets: self.secrets.clone(), minters: self.minters },
            guard: RequestGuard::new(keys, self.config.issue_max_ttl()),
            replies: Publisher::new(url.clone(), "cloudconn-worker replies", topology.clone(), timeout),
            metrics: Some(self.metrics.clone()),
        };
        let handler = JobHandler {
            results: Publisher::new(url, "cloudconn-worker results", topology, timeout),
            runner: JobRunner {
                config: self.config,
                secrets: self.secrets,
                probes: self.probes,
                metrics: Some(self.metrics.clone()),
            },
        };
        let (validations, issued) = tokio::join!(
            amqp_consumer::run(settings, Arc::new(handler), shutdown.clone()),
            amqp_consumer::run(issues, Arc::new(issue_handler), shutdown),
        );
        validations.and(issued)
    }
}
