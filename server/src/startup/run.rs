//! Running the built app: the background loops, dependency health, the
//! operator's endpoint and the gRPC server, until shutdown; then the drain.

use std::sync::Arc;

use cloudconn_infra::amqp::consumer as amqp_consumer;
use cloudconn_proto::v1::connection_service_server::ConnectionServiceServer;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{App, SHUTDOWN_GRACE, server};
use crate::{
    api::service::Api,
    lifecycle::Revalidator,
    ops::health::{HealthMonitor, Readiness},
    outbox::relay::Relay,
    results::{consumer::ResultHandler, deadline::DeadlineSweeper},
    secrets::purge::PurgeRetrier,
};

impl App {
    /// Serves until `shutdown` is cancelled, then drains.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let tasks = TaskTracker::new();
        let loops = shutdown.child_token();
        let purge = PurgeRetrier {
            db: self.lifecycle.db.clone(),
            secrets: self.lifecycle.secrets.clone(),
            interval: self.purge_interval,
        };
        let relay = Relay {
            db: self.lifecycle.db.clone(),
            broker: self.broker.clone(),
            wake: self.lifecycle.outbox_wake.clone(),
            poll: self.outbox_poll,
            batch: 100,
        };
        spawn_loop(&tasks, "secret purge", purge.run(loops.clone()));
        let pruner = crate::outbox::prune::Pruner {
            db: self.lifecycle.db.clone(),
            retention: self.outbox_retention,
            audit_retention: self.audit_retention,
        };
        spawn_loop(&tasks, "outbox pruning", pruner.run(loops.clone()));
        if let Some(vault) = self.vault.clone() {
            spawn_loop(&tasks, "vault token renewal", vault.run_renewal(loops.clone()));
        }
        let sweeper = DeadlineSweeper { lifecycle: self.lifecycle.clone(), deadline: self.validation_deadline };
        spawn_loop(&tasks, "validation deadline", sweeper.run(loops.clone()));
        let revalidator = Revalidator { lifecycle: self.lifecycle.clone() };
        spawn_loop(&tasks, "scheduled re-validation", revalidator.run(loops.clone()));
        if let Some(feed) = self.event_feed {
            spawn_loop(&tasks, "watch event feed", feed.run(loops.clone()));
        }
        if let Some(pipeline) = self.dev_pipeline {
            spawn_loop(&tasks, "dev validation pipeline", pipeline.run(loops.clone()));
        }
        if let Some(settings) = self.results_consumer {
            let handler = Arc::new(ResultHandler { lifecycle: self.lifecycle.clone() });
            spawn_loop(&tasks, "results consumer", amqp_consumer::run(settings, handler, loops.clone()));
        }
        spawn_loop(&tasks, "outbox relay", relay.run(loops.clone()));
        if let Some(oidc) = self.oidc.clone() {
            let stop = loops.clone();
            spawn_loop(&tasks, "oidc key refresher", async move {
                oidc.run_refresh(stop).await;
                Ok(())
            });
        }
        spawn_loop(&tasks, "credential usage writer", self.usage_writer.run(loops.clone()));
        tasks.close();

        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        // build() reached every dependency (unless Vault was unreachable):
        // start SERVING; the monitor takes over from its first check.
        if self.vault_reached {
            health_reporter.set_serving::<ConnectionServiceServer<Api>>().await;
        } else {
            health_reporter.set_not_serving::<ConnectionServiceServer<Api>>().await;
        }
        let readiness = Readiness::default();
        let monitor = HealthMonitor {
            db: self.lifecycle.db.clone(),
            vault: self.vault.clone(),
            amqp: self.amqp_url.clone(),
            reporter: health_reporter.clone(),
            readiness: readiness.clone(),
            interval: self.health_interval,
            timeout: self.dependency_timeout,
        };
        spawn_loop(&tasks, "health monitor", monitor.run(loops.clone()));
        if let Some(listener) = self.metrics_listener {
            let router = crate::ops::metrics::router(self.metrics.clone(), readiness, self.lifecycle.db.clone());
            let stop = loops.clone();
            spawn_loop(&tasks, "metrics endpoint", async move {
                axum::serve(listener, router).with_graceful_shutdown(async move { stop.cancelled().await }).await?;
                Ok(())
            });
        }
        let api = Api::new(
            self.lifecycle.clone(),
            self.watchers.clone(),
            loops.clone(),
            self.setup.clone(),
            self.issuer.clone(),
        );
        let routes = server::routes(health_service, api, self.auth.clone(), self.lifecycle.quotas.api_calls)?;

        let stop_serving = {
            let shutdown = shutdown.clone();
            let health = health_reporter.clone();
            let draining = self.lifecycle.draining.clone();
            async move {
                shutdown.cancelled().await;
                // Load balancers stop routing here before the listener closes.
                health.set_not_serving::<ConnectionServiceServer<Api>>().await;
                draining.cancel();
            }
        };
        tracing::info!(address = %self.local_addr, "cloudconn server listening");
        let listening = server::Listening {
            listener: self.listener,
            tls: self.tls,
            cors: self.cors,
            workbench: self.workbench,
            oidc: self.oidc.clone(),
            metrics: self.metrics.clone(),
        };
        server::serve(listening, routes, stop_serving, &shutdown).await?;

        // In-flight RPCs are done; the loops finish the unit in hand (the
        // relay publishes and commits the batch it claimed) and return.
        loops.cancel();
        self.auth_stop.cancel();
        if tokio::time::timeout(SHUTDOWN_GRACE, tasks.wait()).await.is_err() {
            tracing::warn!("background tasks did not stop within the grace period");
        }
        self.lifecycle.db.close_by_ref().await.ok();
        Ok(())
    }
}

/// Runs a background loop on the tracker, logging how it ended.
fn spawn_loop(
    tasks: &TaskTracker,
    name: &'static str,
    work: impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
) {
    tasks.spawn(async move {
        match work.await {
            Ok(()) => tracing::debug!(task = name, "stopped"),
            Err(e) => tracing::error!(task = name, error = format!("{e:#}"), "background task failed"),
        }
    });
}
