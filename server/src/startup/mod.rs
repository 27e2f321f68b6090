//! Builds the app from configuration and runs it until shutdown: the
//! composition root, the one module that may import every other (and that
//! none imports).
//!
//! `build` and `run` are separate (as in zero2prod): `build` takes an already
//! bound listener, so tests bind port 0, read the port and connect at once,
//! with no sleep and no race.
//!
//! Each backend (the secret store, the messaging, the minter, the token
//! issuer) is chosen by mode in one function below, which hands over to
//! `production.rs` or `dev.rs`; the database is the same code in both (its
//! URL says PostgreSQL or SQLite). `run.rs` starts the background loops and
//! `server.rs` serves the gRPC API.
//!
//! Shutdown order: health NOT_SERVING → stop accepting and let in-flight RPCs
//! finish → stop the background loops → return.

mod dev;
mod production;
mod run;
mod server;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use cloudconn_infra::{
    amqp::consumer::ConsumerSettings,
    oidc::{Issuer, SigningKeys, transit::TransitKeys},
    secrets::SecretStore,
    vault::VaultStore,
};
use cloudconn_worker::{mint::Minters, probe::Probes};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    auth::{AuthConfig, Authenticator},
    config::{Mode, ServerConfig},
    credentials::minter::Minter,
    lifecycle::Lifecycle,
    ops::metrics::Metrics,
    outbox::broker::Broker,
    results::in_process::InProcessPipeline,
    store,
    watch::{Hub, feed::EventFeed},
};

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
    /// `CLOUDCONN_OIDC_ISSUER`: the OpenID Connect issuer whose documents
    /// are served (and whose key list is kept fresh for them).
    oidc: Option<Arc<cloudconn_infra::oidc::Issuer>>,
    usage_writer: crate::credentials::usage::UsageWriter,
    /// What the setup kit needs from the deployment.
    setup: crate::setup::SetupConfig,
    /// `CLOUDCONN_WORKBENCH`: serve the Workbench at `/`.
    workbench: bool,
    /// `CLOUDCONN_CORS_ORIGINS` as a layer, if any are configured.
    cors: Option<tower_http::cors::CorsLayer>,
    purge_interval: Duration,
    outbox_retention: Duration,
    audit_retention: Duration,
    outbox_poll: Duration,
    validation_deadline: Duration,
}

/// Where the credential values are kept.
struct Secrets {
    store: Arc<dyn SecretStore>,
    /// Production: the Vault store behind `store`.
    vault: Option<Arc<VaultStore>>,
    /// Whether the store answered at start.
    reached: bool,
}

/// Where the relay publishes, and where the watchers' events and the
/// validation results come from.
struct Messaging {
    broker: Arc<dyn Broker>,
    watchers: Hub,
    /// Production: the subscription that feeds `watchers`.
    event_feed: Option<EventFeed>,
    /// Production: the results queue's consumer settings.
    results: Option<ConsumerSettings>,
    /// `--dev`: the relay's jobs, for the in-process pipeline.
    jobs: Option<dev::Jobs>,
}

/// Vault in production; `--dev`'s encrypted file store.
async fn secrets(config: &ServerConfig, mode: Mode, timeout: Duration) -> anyhow::Result<Secrets> {
    match mode {
        Mode::Production => production::secrets(config, timeout).await,
        Mode::Dev => dev::secrets(config),
    }
}

/// The database, connected and migrated.
async fn database(config: &ServerConfig, mode: Mode, timeout: Duration) -> anyhow::Result<DatabaseConnection> {
    let url = config.database_url(mode).context("no database configured")?;
    let db = store::connect(&url, config.database_pool_size, timeout).await.context("connecting to the database")?;
    store::migrate(&db).await.context("migrating the database")?;
    Ok(db)
}

/// RabbitMQ in production; in-process channels in `--dev`.
fn messaging(config: &ServerConfig, mode: Mode, timeout: Duration) -> anyhow::Result<Messaging> {
    match mode {
        Mode::Production => production::messaging(config, timeout),
        Mode::Dev => Ok(dev::messaging()),
    }
}

/// Who mints for IssueCredentials: a worker over RabbitMQ in production,
/// the worker's code in process otherwise.
fn minter(
    config: &ServerConfig,
    mode: Mode,
    timeout: Duration,
    secrets: &Arc<dyn SecretStore>,
    minters: Minters,
) -> anyhow::Result<Arc<dyn Minter>> {
    match (mode, &config.amqp.amqp_url) {
        (Mode::Production, Some(url)) => production::minter(config, url, timeout),
        _ => Ok(dev::minter(secrets.clone(), minters)),
    }
}

/// The OpenID Connect issuer for keyless connections, when one is
/// configured: its key in Vault's transit engine in production, a local key
/// in the dev secret store in `--dev` (whose issuer is, unless configured,
/// this server's own loopback address: only the provider sandbox can fetch
/// it there).
fn oidc(config: &ServerConfig, mode: Mode, secrets: &Secrets, local_addr: SocketAddr) -> Option<Arc<Issuer>> {
    let mut oidc = config.oidc.clone();
    let keys: Arc<dyn SigningKeys> = match (&secrets.vault, mode) {
        (Some(vault), _) => Arc::new(TransitKeys {
            vault: vault.clone(),
            mount: oidc.oidc_transit_mount.clone(),
            name: oidc.oidc_key.clone(),
        }),
        (None, Mode::Dev) => {
            oidc.oidc_issuer.get_or_insert_with(|| format!("http://127.0.0.1:{}", local_addr.port()));
            Arc::new(crate::dev::oidc_key::DevKeys::new(secrets.store.clone()))
        }
        (None, Mode::Production) => return None,
    };
    Issuer::from_config(&oidc, keys)
}

/// Whose tokens are accepted: the configured issuer's; in `--dev` with none
/// configured, a dev key's, with a token it signed.
fn auth(config: &ServerConfig, mode: Mode) -> anyhow::Result<(AuthConfig, Option<String>)> {
    match mode {
        Mode::Dev if config.auth.auth_hs256_secret.is_none() && config.auth.auth_jwks.is_none() => {
            let (auth, token) = dev::auth(config)?;
            Ok((auth, Some(token)))
        }
        _ => Ok((config.auth.clone(), None)),
    }
}

impl App {
    /// Connects to the dependencies, migrates the schema, and prepares the
    /// services. Nothing is served until [`App::run`].
    pub async fn build(config: &ServerConfig, mode: Mode, listener: TcpListener) -> anyhow::Result<Self> {
        // Before anything builds an HTTP client (the probes' does, here).
        cloudconn_infra::tls::install_crypto_provider();
        let (worker, sandbox) = dev::worker(config, mode).await;
        let probes = Probes::production(&worker);
        let minters = Minters::production(&worker);
        Self::build_inner(config, mode, listener, probes, minters, sandbox).await
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
        Self::build_inner(config, mode, listener, probes, minters, None).await
    }

    async fn build_inner(
        config: &ServerConfig,
        mode: Mode,
        listener: TcpListener,
        probes: Probes,
        minters: Minters,
        sandbox: Option<cloudconn_sandbox::sandbox::Sandbox>,
    ) -> anyhow::Result<Self> {
        config.validate(mode)?;
        cloudconn_infra::tls::install_crypto_provider();
        let timeout = config.timeouts.dependency_timeout();

        let secrets = secrets(config, mode, timeout).await?;
        let db = database(config, mode, timeout).await?;
        let messaging = messaging(config, mode, timeout)?;
        let metrics = Metrics::new();
        let metrics_listener = match &config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr).await.with_context(|| format!("binding CLOUDCONN_METRICS_LISTEN {addr}"))?,
            ),
            None => None,
        };
        let mut lifecycle =
            Lifecycle::new(db, secrets.store.clone(), metrics.clone(), crate::quota::Quotas::new(&config.quotas));
        lifecycle.revalidation = config.revalidation();
        lifecycle.expiry_warning = config.expiry_warning();
        let local_addr = listener.local_addr()?;
        let oidc = oidc(config, mode, &secrets, local_addr);
        lifecycle.oidc_issuer = oidc.as_ref().map(|o| o.issuer().to_owned());
        let lifecycle_issuer = lifecycle.oidc_issuer.clone();
        // The --dev in-process worker signs keyless tokens with this
        // server's own issuer (production workers build their own).
        let (probes, minters) = (probes.keyless(oidc.clone()), minters.keyless(oidc.clone()));
        if let (Some(sandbox), Some(oidc)) = (&sandbox, &oidc) {
            sandbox.trust_issuer(oidc.issuer(), &format!("http://127.0.0.1:{}", local_addr.port()));
        }
        let minter = minter(config, mode, timeout, &secrets.store, minters)?;
        // The revoker sees the issuer's mints, to revoke again after those in flight.
        let (revoker, minter) = crate::credentials::revoke::Revoker::watching(minter, config.issue().timeout);
        lifecycle.revoker = Some(revoker);
        let issue_rows = crate::credentials::Issuer::row_copies(&config.issue());
        lifecycle.issue_rows = Some(issue_rows.clone());
        let (usage, usage_writer) =
            crate::credentials::usage::UsageLog::new(lifecycle.db.clone(), lifecycle.outbox_wake.clone());
        let issuer = crate::credentials::Issuer::new(
            lifecycle.db.clone(),
            minter,
            usage,
            lifecycle.quotas.clone(),
            config.issue(),
            issue_rows,
        );
        let mut dev_pipeline =
            messaging.jobs.map(|jobs| dev::pipeline(config, jobs, secrets.store.clone(), probes, &lifecycle));

        let (auth_config, dev_token) = auth(config, mode)?;
        let tls = config.tls()?;
        let auth_stop = CancellationToken::new();
        let auth =
            Authenticator::new(&auth_config, config.jwks_refresh(), config.jwks_max_stale(), auth_stop.clone()).await?;

        if mode == Mode::Dev {
            dev::listening(config, local_addr, dev_token.as_deref(), sandbox.as_ref())?;
        }
        // The sandbox runs as long as the pipeline that validates against it.
        if let Some(pipeline) = dev_pipeline.as_mut() {
            pipeline.sandbox = sandbox;
        }
        Ok(Self {
            listener,
            auth,
            tls,
            vault: secrets.vault,
            vault_reached: secrets.reached,
            metrics,
            metrics_listener,
            amqp_url: config.amqp.amqp_url.clone().filter(|_| mode == Mode::Production),
            health_interval: Duration::from_millis(config.health_interval_ms.max(50)),
            dependency_timeout: timeout,
            auth_stop,
            dev_token,
            local_addr,
            lifecycle,
            broker: messaging.broker,
            results_consumer: messaging.results,
            dev_pipeline,
            issuer,
            oidc,
            usage_writer,
            watchers: messaging.watchers,
            event_feed: messaging.event_feed,
            purge_interval: config.purge_interval(),
            outbox_retention: config.outbox_retention(),
            audit_retention: config.audit_retention(),
            cors: crate::api::web::cors(&config.cors_origins()?),
            setup: crate::setup::SetupConfig { oidc_issuer: lifecycle_issuer, ..config.setup(mode) },
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
}
