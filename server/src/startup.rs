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
use cloudconn_infra::{
    amqp::{
        consumer::{self as amqp_consumer, ConsumerSettings},
        publisher::Publisher,
    },
    secrets::{SecretStore, SecretStoreError},
    vault::VaultStore,
};
use cloudconn_proto::v1::connection_service_server::ConnectionServiceServer;
use cloudconn_worker::{
    config::{ExternalIdCheck, WorkerConfig},
    consumer::JobRunner,
    issue::IssueRunner,
    mint::Minters,
    probe::Probes,
};
use tokio::{net::TcpListener, sync::mpsc};
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use tower::Layer as _;

use crate::{
    api::{admission, service::Api},
    auth::Authenticator,
    config::{Mode, Providers, ServerConfig},
    dev::secret_store::DevSecretStore,
    lifecycle::Lifecycle,
    ops::{
        health::{HealthMonitor, Readiness},
        metrics::Metrics,
    },
    outbox::{
        broker::{AmqpBroker, Broker, InProcessBroker},
        relay::Relay,
    },
    results::{consumer::ResultHandler, deadline::DeadlineSweeper, in_process::InProcessPipeline},
    secrets::purge::PurgeRetrier,
    store,
    watch::{
        Hub,
        feed::{EventFeed, FeedSettings},
    },
};

/// HTTP/2 streams one connection may have open.
const MAX_STREAMS_PER_CONNECTION: u32 = 256;
/// Ping an idle HTTP/2 connection this often; close it if the pong takes
/// longer than the timeout (a peer that vanished holds nothing for long).
const HTTP2_KEEPALIVE: Duration = Duration::from_secs(30);
const HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections are asked to close (GOAWAY) after this long, then given the
/// grace to finish their calls: clients reconnect and load spreads over
/// replicas, and no connection lives forever. The grace outlasts the
/// longest `wait` (5 min).
const MAX_CONNECTION_AGE: Duration = Duration::from_secs(30 * 60);
const MAX_CONNECTION_AGE_GRACE: Duration = Duration::from_secs(6 * 60);
/// A TLS client must finish its handshake within this.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long in-flight work may take to finish after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub struct App {
    listener: TcpListener,
    /// Verifies callers' tokens.
    auth: Authenticator,
    metrics: Arc<Metrics>,
    /// `/metrics`, `/healthz`, `/readyz`, when `CLOUDCONN_METRICS_LISTEN` is set.
    metrics_listener: Option<TcpListener>,
    /// For the health monitor (production only).
    amqp_url: Option<secrecy::SecretString>,
    health_interval: Duration,
    dependency_timeout: Duration,
    /// The Vault store, whose token the renewal loop keeps alive.
    vault: Option<Arc<VaultStore>>,
    /// Whether Vault answered at start (if not, the renewal loop logs in).
    vault_reached: bool,
    /// TLS (and client verification) for the listener, if configured.
    tls: Option<tonic::transport::ServerTlsConfig>,
    /// Stops the JWKS refresher when the app ends.
    auth_stop: CancellationToken,
    /// `--dev`: a ready-to-use token, printed at start.
    pub dev_token: Option<String>,
    local_addr: SocketAddr,
    lifecycle: Lifecycle,
    broker: Arc<dyn Broker>,
    /// Live events for WatchConnections (fed from RabbitMQ, or in process in `--dev`).
    watchers: Hub,
    /// Production: the subscription that feeds `watchers`.
    event_feed: Option<EventFeed>,
    /// Where validation results come from (production only).
    results_consumer: Option<ConsumerSettings>,
    /// `--dev`: the in-process worker.
    dev_pipeline: Option<InProcessPipeline>,
    /// The run step, and the writer of its usage records.
    issuer: crate::credentials::Issuer,
    usage_writer: crate::credentials::usage::UsageWriter,
    /// What the setup kit needs from the deployment.
    setup: crate::setup::SetupConfig,
    /// `CLOUDCONN_WORKBENCH`: serve the Workbench at `/`.
    workbench: bool,
    /// `CLOUDCONN_CORS_ORIGINS` as a layer, if any are configured.
    cors: Option<tower_http::cors::CorsLayer>,
    purge_interval: Duration,
    outbox_retention: Duration,
    outbox_poll: Duration,
    validation_deadline: Duration,
}

impl App {
    /// Connects to the dependencies, migrates the schema, and prepares the
    /// services. Nothing is served until [`App::run`].
    pub async fn build(config: &ServerConfig, mode: Mode, listener: TcpListener) -> anyhow::Result<Self> {
        // Before anything builds an HTTP client (the probes' does, here).
        cloudconn_infra::tls::install_crypto_provider();
        let mut dev = dev_worker_config(config);
        // Only --dev runs the sandbox; production's `providers` is always real.
        let sandbox = match config.providers(mode) {
            Providers::Sandbox => Some(cloudconn_sandbox::sandbox::Sandbox::start().await),
            Providers::Real => None,
        };
        if let Some(sandbox) = &sandbox {
            crate::dev::sandbox::aim(&mut dev, sandbox);
        }
        let probes = Probes::production(&dev);
        let minters = Minters::production(&dev);
        let mut app = Self::build_with_probes(config, mode, listener, probes, minters).await?;
        if let Some(pipeline) = app.dev_pipeline.as_mut() {
            pipeline.sandbox = sandbox;
        }
        Ok(app)
    }

    /// As [`App::build`], with the probes and minters the `--dev` in-process
    /// worker uses (tests pass scripted ones; production workers are
    /// separate processes and these go unused).
    pub async fn build_with_probes(
        config: &ServerConfig,
        mode: Mode,
        listener: TcpListener,
        probes: Probes,
        minters: Minters,
    ) -> anyhow::Result<Self> {
        config.validate(mode)?;
        cloudconn_infra::tls::install_crypto_provider();
        let timeout = config.timeouts.dependency_timeout();

        let mut vault = None;
        let mut vault_reached = true;
        let secrets: Arc<dyn SecretStore> = match mode {
            Mode::Production => {
                let store = Arc::new(VaultStore::new(&config.vault, timeout).context("Vault configuration")?);
                // Like the broker, an unreachable Vault does not stop the
                // start: what needs no Vault is served, health says
                // NOT_SERVING, and the renewal loop logs in once it answers.
                // A credential Vault refuses is an operator's mistake: said
                // at once, unless a token file may bring a new one.
                match store.establish().await {
                    Ok(()) => {}
                    Err(SecretStoreError::Unavailable(e)) => {
                        tracing::warn!(error = %e, "Vault is unreachable; starting without it (NOT_SERVING until it answers)");
                        vault_reached = false;
                    }
                    Err(e) if config.vault.vault_token_file.is_some() => {
                        tracing::warn!(error = %e, "Vault refused the token; waiting for a new one in the token file");
                        vault_reached = false;
                    }
                    Err(e) => return Err(e).context("logging in to Vault"),
                }
                vault = Some(store.clone());
                store
            }
            Mode::Dev => Arc::new(DevSecretStore::open(&config.dev_data_dir).context("opening the dev secret store")?),
        };
        let url = config.database_url(mode).context("no database configured")?;
        let db =
            store::connect(&url, config.database_pool_size, timeout).await.context("connecting to the database")?;
        store::migrate(&db).await.context("migrating the database")?;

        let mut dev_jobs = None;
        let (broker, results_consumer, watchers, event_feed): (Arc<dyn Broker>, _, _, _) = match mode {
            Mode::Production => {
                let url = config.amqp.amqp_url.clone().context("CLOUDCONN_AMQP_URL is required")?;
                config.amqp.install_trust()?;
                let topology = config.amqp.topology();
                let publisher = Publisher::new(url.clone(), "cloudconn-server relay", topology.clone(), timeout);
                let (watchers, feed) = Hub::with_feed(FeedSettings {
                    url: url.clone(),
                    topology: topology.clone(),
                    timeout,
                    idle: config.watch_idle(),
                });
                let results = ConsumerSettings {
                    url,
                    name: "cloudconn-server results".into(),
                    queue: topology.results_queue(),
                    topology,
                    concurrency: 16,
                    timeout,
                };
                (Arc::new(AmqpBroker { publisher }), Some(results), watchers, Some(feed))
            }
            Mode::Dev => {
                let (jobs, jobs_rx) = mpsc::unbounded_channel();
                dev_jobs = Some((jobs.clone(), jobs_rx));
                let watchers = Hub::in_process();
                (Arc::new(InProcessBroker { events: watchers.sender(), jobs }), None, watchers, None)
            }
        };
        let metrics = Metrics::new();
        let metrics_listener = match &config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr).await.with_context(|| format!("binding CLOUDCONN_METRICS_LISTEN {addr}"))?,
            ),
            None => None,
        };
        let mut lifecycle =
            Lifecycle::new(db, secrets.clone(), metrics.clone(), crate::quota::Quotas::new(&config.quotas));
        let minter: Arc<dyn crate::credentials::minter::Minter> = match (mode, &config.amqp.amqp_url) {
            (Mode::Production, Some(url)) => {
                Arc::new(crate::credentials::minter::AmqpMinter::new(url.clone(), config.amqp.topology(), timeout))
            }
            _ => Arc::new(crate::credentials::minter::InProcessMinter {
                runner: Arc::new(IssueRunner { secrets: secrets.clone(), minters }),
            }),
        };
        lifecycle.revoker = Some(crate::credentials::revoke::Revoker::new(minter.clone(), config.issue().timeout));
        let (usage, usage_writer) =
            crate::credentials::usage::UsageLog::new(lifecycle.db.clone(), lifecycle.outbox_wake.clone());
        let issuer = crate::credentials::Issuer::new(
            lifecycle.db.clone(),
            minter,
            usage,
            lifecycle.quotas.clone(),
            config.issue(),
        );
        let dev_pipeline = dev_jobs.map(|(resend, jobs)| InProcessPipeline {
            runner: Arc::new(JobRunner { config: dev_worker_config(config), secrets, probes, metrics: None }),
            lifecycle: lifecycle.clone(),
            jobs,
            resend,
            concurrency: 8,
            sandbox: None,
        });

        let (auth_config, dev_token) = match mode {
            Mode::Dev if config.auth.auth_hs256_secret.is_none() && config.auth.auth_jwks.is_none() => {
                let (auth, token) = crate::dev::auth::dev_auth(&config.dev_data_dir)?;
                (auth, Some(token))
            }
            _ => (config.auth.clone(), None),
        };
        let tls = config.tls()?;
        let auth_stop = CancellationToken::new();
        let auth =
            Authenticator::new(&auth_config, config.jwks_refresh(), config.jwks_max_stale(), auth_stop.clone()).await?;

        let local_addr = listener.local_addr()?;
        if let Some(token) = &dev_token {
            crate::dev::auth::write_client_file(&config.dev_data_dir, local_addr, token)
                .context("writing the dev client file")?;
        }
        if mode == Mode::Dev && !local_addr.ip().is_loopback() {
            // The dev token printed at start can do anything, in any workspace.
            tracing::warn!(address = %local_addr, "--dev is listening beyond this machine: anyone who can reach it and \
                 sees the dev token can change every workspace; use 127.0.0.1");
        }
        Ok(Self {
            listener,
            auth,
            tls,
            vault,
            vault_reached,
            metrics,
            metrics_listener,
            amqp_url: config.amqp.amqp_url.clone().filter(|_| mode == Mode::Production),
            health_interval: Duration::from_millis(config.health_interval_ms.max(50)),
            dependency_timeout: timeout,
            auth_stop,
            dev_token,
            local_addr,
            lifecycle,
            broker,
            results_consumer,
            dev_pipeline,
            issuer,
            usage_writer,
            watchers,
            event_feed,
            purge_interval: config.purge_interval(),
            outbox_retention: config.outbox_retention(),
            cors: crate::api::web::cors(&config.cors_origins()?),
            setup: config.setup(mode),
            workbench: config.workbench,
            outbox_poll: config.outbox_poll(),
            validation_deadline: config.validation_deadline(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics` is served, if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
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
        let relay = Relay {
            db: self.lifecycle.db.clone(),
            broker: self.broker.clone(),
            wake: self.lifecycle.outbox_wake.clone(),
            poll: self.outbox_poll,
            batch: 100,
        };
        spawn_loop(&tasks, "secret purge", purge.run(loops.clone()));
        let pruner = crate::outbox::prune::Pruner { db: self.lifecycle.db.clone(), retention: self.outbox_retention };
        spawn_loop(&tasks, "outbox pruning", pruner.run(loops.clone()));
        if let Some(vault) = self.vault.clone() {
            spawn_loop(&tasks, "vault token renewal", vault.run_renewal(loops.clone()));
        }
        let sweeper = DeadlineSweeper { lifecycle: self.lifecycle.clone(), deadline: self.validation_deadline };
        spawn_loop(&tasks, "validation deadline", sweeper.run(loops.clone()));
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
        let api = crate::auth::Authenticated::new(
            // Inside the token check: only verified callers take a slot.
            admission::ApiCalls::layer().layer(
                ConnectionServiceServer::new(Api::new(
                    self.lifecycle.clone(),
                    self.watchers.clone(),
                    loops.clone(),
                    self.setup.clone(),
                    self.issuer.clone(),
                ))
                .max_decoding_message_size(crate::api::limits::MAX_MESSAGE_BYTES),
            ),
            // Health and reflection are mounted without it: they need no token.
            self.auth.clone(),
        );

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
        let mut server = tonic::transport::Server::builder();
        if let Some(tls) = self.tls {
            server = server.tls_config(tls.timeout(TLS_HANDSHAKE_TIMEOUT)).context("TLS configuration")?;
        }
        let serving = server
            // gRPC-Web from browsers speaks HTTP/1.1 too (api::web).
            .accept_http1(true)
            // Bounds on what callers can make the server hold: streams per
            // HTTP/2 connection, how long a connection lives and stays
            // silent, and (api::admission) calls in progress.
            .max_concurrent_streams(Some(MAX_STREAMS_PER_CONNECTION))
            .http2_keepalive_interval(Some(HTTP2_KEEPALIVE))
            .http2_keepalive_timeout(Some(HTTP2_KEEPALIVE_TIMEOUT))
            .tcp_keepalive(Some(HTTP2_KEEPALIVE))
            .max_connection_age(MAX_CONNECTION_AGE)
            .max_connection_age_grace(MAX_CONNECTION_AGE_GRACE)
            .trace_fn(crate::api::trace::rpc_span)
            // Outermost: preflights are answered before anything else, and
            // gRPC-Web is gRPC by the time the other layers see it.
            .layer(tower::util::option_layer(self.cors))
            .layer(tower::util::option_layer(self.workbench.then_some(crate::workbench::WorkbenchLayer)))
            .layer(tonic_web::GrpcWebLayer::new())
            .layer(admission::BodyDeadlineLayer)
            .layer(crate::api::web::ReadBodyFirstLayer)
            .layer(admission::PublicCalls::layer())
            .layer(tower::util::MapResponseLayer::new(crate::api::limits::message_too_large))
            .layer(crate::api::metrics::RpcMetricsLayer(self.metrics.clone()))
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(api)
            .serve_with_incoming_shutdown(incoming(self.listener), stop_serving);
        // tonic waits for every in-flight RPC with no bound of its own; a
        // stuck one must not keep the process from stopping.
        let grace = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            served = serving => served.context("gRPC server")?,
            _ = grace => tracing::warn!("RPCs still in flight after the grace period; stopping anyway"),
        }

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

/// The `--dev` in-process worker: the worker's defaults, the server's timeouts.
fn dev_worker_config(config: &ServerConfig) -> WorkerConfig {
    WorkerConfig {
        worker_concurrency: 8,
        probe_concurrency_per_provider: 64,
        metrics_listen: None,
        probe_timeout_ms: 20_000,
        probe_attempts: 3,
        probe_retry_base_ms: 1_000,
        // `--dev` talks to real AWS (or what CLOUDCONN_AWS_ENDPOINT names):
        // an unenforced external id fails, as in production.
        aws_external_id_check: ExternalIdCheck::Fail,
        endpoints: config.endpoints.clone(),
        aws_platform_key: None,
        amqp: Default::default(),
        vault: Default::default(),
        timeouts: config.timeouts.clone(),
        transport: Default::default(),
        vault_denied_requeue_ms: 120_000,
        vault_liveness_ms: 300_000,
    }
}

/// Accepted connections with Nagle's algorithm off. A gRPC answer is
/// several small HTTP/2 frames (headers, data, trailers); with Nagle on,
/// the last one waits for the client's delayed ACK, ~40 ms per call.
fn incoming(
    listener: tokio::net::TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt as _;
    TcpListenerStream::new(listener).map(|accepted| {
        accepted.inspect(|stream| {
            let _ = stream.set_nodelay(true);
        })
    })
}
