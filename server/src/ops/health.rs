//! Dependency health. Every interval: PostgreSQL (`SELECT 1`), Vault (our
//! token looks itself up), RabbitMQ (an AMQP connection is open). All up →
//! SERVING and ready; any down → NOT_SERVING and not ready, so load
//! balancers and Kubernetes stop sending traffic that could only fail.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use cloudconn_infra::vault::VaultStore;
use cloudconn_proto::v1::connection_service_server::SERVICE_NAME;
use lapin::Connection;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;
use tonic_health::{ServingStatus, server::HealthReporter};

/// Shared readiness, read by `/readyz`.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct HealthMonitor {
    pub db: DatabaseConnection,
    pub vault: Option<Arc<VaultStore>>,
    /// RabbitMQ URL (production only).
    pub amqp: Option<SecretString>,
    pub reporter: HealthReporter,
    pub readiness: Readiness,
    pub interval: Duration,
    pub timeout: Duration,
}

impl HealthMonitor {
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut amqp: Option<Connection> = None;
        let mut last = None;
        loop {
            let down = self.check(&mut amqp).await;
            let healthy = down.is_empty();
            if last != Some(healthy) {
                if healthy {
                    self.reporter.set_service_status(SERVICE_NAME, ServingStatus::Serving).await;
                    tracing::info!("dependencies healthy: SERVING");
                } else {
                    self.reporter.set_service_status(SERVICE_NAME, ServingStatus::NotServing).await;
                    tracing::warn!(down = ?down, "dependencies unhealthy: NOT_SERVING");
                }
                last = Some(healthy);
            }
            self.readiness.0.store(healthy, Ordering::SeqCst);
            tokio::select! {
                _ = shutdown.cancelled() => {
                    self.readiness.0.store(false, Ordering::SeqCst);
                    return Ok(());
                }
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    /// The names of the dependencies that are down.
    async fn check(&self, amqp: &mut Option<Connection>) -> Vec<&'static str> {
        let mut down = Vec::new();
        if !matches!(tokio::time::timeout(self.timeout, self.db.ping()).await, Ok(Ok(()))) {
            down.push("database");
        }
        if let Some(vault) = &self.vault {
            if vault.ping().await.is_err() {
                down.push("vault");
            }
        }
        if let Some(url) = &self.amqp {
            let connected = amqp.as_ref().is_some_and(|c| c.status().connected());
            if !connected {
                *amqp = cloudconn_infra::amqp::connect(url, "cloudconn-server health", self.timeout).await.ok();
                if amqp.is_none() {
                    down.push("rabbitmq");
                }
            }
        }
        down
    }
}
