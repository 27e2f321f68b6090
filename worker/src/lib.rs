//! cloudconn's validation worker: consumes validation jobs, reads the exact
//! credential revision from Vault (read-only), probes the provider and
//! publishes the outcome. It has no database access.
//!
//! # Layout
//! - [`config`]: `WorkerConfig` (concurrency, probe timeout and retries).
//! - [`consumer`]: step 3, queue → worker: one job per delivery, acked last.
//! - [`probe`]: the probe interface and registry; `probe::outcome` maps
//!   probe results to the reported outcome.
//! - [`Worker`]: wires them to RabbitMQ and runs until shutdown.

pub mod config;
pub mod consumer;
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
    probe::Probes,
};

pub struct Worker {
    config: WorkerConfig,
    secrets: Arc<dyn SecretStore>,
    probes: Probes,
}

impl Worker {
    pub fn new(config: WorkerConfig, secrets: Arc<dyn SecretStore>, probes: Probes) -> Self {
        Self { config, secrets, probes }
    }

    /// Consumes jobs until `shutdown`, then finishes or gives back the jobs
    /// in flight and returns.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let url = self.config.amqp.amqp_url.clone().ok_or_else(|| anyhow::anyhow!("CLOUDCONN_AMQP_URL is required"))?;
        let topology = self.config.amqp.topology();
        let timeout = self.config.timeouts.dependency_timeout();
        let settings = ConsumerSettings {
            url: url.clone(),
            name: "cloudconn-worker".into(),
            topology: topology.clone(),
            queue: topology.validate_queue(),
            concurrency: self.config.worker_concurrency,
            timeout,
        };
        let handler = JobHandler {
            results: Publisher::new(url, "cloudconn-worker results", topology, timeout),
            runner: JobRunner { config: self.config, secrets: self.secrets, probes: self.probes },
        };
        amqp_consumer::run(settings, Arc::new(handler), shutdown).await
    }
}
