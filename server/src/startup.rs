//! Builds the app from configuration and runs it until shutdown.
//!
//! `build` and `run` are separate (as in zero2prod): `build` takes an already
//! bound listener, so tests bind port 0, read the port and connect at once,
//! with no sleep and no race.
//!
//! Shutdown order: health NOT_SERVING → stop accepting and let in-flight RPCs
//! finish → stop the background loops → return.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use cloudconn_infra::{secrets::SecretStore, vault::VaultStore};
use cloudconn_proto::v1::connection_service_server::ConnectionServiceServer;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    api::service::Api,
    config::{Mode, ServerConfig},
    dev::secret_store::DevSecretStore,
    lifecycle::Lifecycle,
    secrets::purge::PurgeRetrier,
    store,
};

/// Largest request message the API decodes (DESIGN.md §2).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// How long in-flight work may take to finish after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub struct App {
    listener: TcpListener,
    local_addr: SocketAddr,
    lifecycle: Lifecycle,
    purge_interval: Duration,
}

impl App {
    /// Connects to the dependencies, migrates the schema, and prepares the
    /// services. Nothing is served until [`App::run`].
    pub async fn build(config: &ServerConfig, mode: Mode, listener: TcpListener) -> anyhow::Result<Self> {
        config.validate(mode)?;
        cloudconn_infra::tls::install_crypto_provider();
        let timeout = config.timeouts.dependency_timeout();

        let secrets: Arc<dyn SecretStore> = match mode {
            Mode::Production => Arc::new(VaultStore::new(&config.vault, timeout)?),
            Mode::Dev => Arc::new(DevSecretStore::open(&config.dev_data_dir).context("opening the dev secret store")?),
        };
        let url = config.database_url(mode).context("no database configured")?;
        let db =
            store::connect(&url, config.database_pool_size, timeout).await.context("connecting to the database")?;
        store::migrate(&db).await.context("migrating the database")?;

        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            local_addr,
            lifecycle: Lifecycle::new(db, secrets),
            purge_interval: config.purge_interval(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` is cancelled, then drains.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let tasks = TaskTracker::new();
        let loops = shutdown.child_token();
        let purge = PurgeRetrier {
            db: self.lifecycle.db.clone(),
            secrets: self.lifecycle.secrets.clone(),
            interval: self.purge_interval,
        };
        let purge_token = loops.clone();
        tasks.spawn(async move {
            if let Err(e) = purge.run(purge_token).await {
                tracing::error!(error = format!("{e:#}"), "secret purge loop ended");
            }
        });
        tasks.close();

        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter.set_serving::<ConnectionServiceServer<Api>>().await;
        // Both reflection versions: grpcurl before 1.9 and many GUI clients
        // still speak only v1alpha.
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(cloudconn_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                // google.rpc.ErrorInfo / BadRequest, so clients can decode error details.
                .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection().build_v1()?;
        let reflection_v1alpha = reflection().build_v1alpha()?;
        let api =
            ConnectionServiceServer::new(Api::new(self.lifecycle.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES);

        let stop_serving = {
            let shutdown = shutdown.clone();
            let health = health_reporter.clone();
            async move {
                shutdown.cancelled().await;
                // Load balancers stop routing here before the listener closes.
                health.set_not_serving::<ConnectionServiceServer<Api>>().await;
            }
        };
        tracing::info!(address = %self.local_addr, "cloudconn server listening");
        tonic::transport::Server::builder()
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(api)
            .serve_with_incoming_shutdown(TcpListenerStream::new(self.listener), stop_serving)
            .await
            .context("gRPC server")?;

        loops.cancel();
        if tokio::time::timeout(SHUTDOWN_GRACE, tasks.wait()).await.is_err() {
            tracing::warn!("background tasks did not stop within the grace period");
        }
        self.lifecycle.db.close_by_ref().await.ok();
        Ok(())
    }
}
