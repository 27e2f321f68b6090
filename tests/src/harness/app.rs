//! `TestApp`: the real server, in process, on a random port, against a fresh
//! PostgreSQL database and a unique Vault prefix, so tests run in parallel.
//! End a test with [`TestApp::finish`]; it checks invariants and cleans up.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use cloudconn_infra::{
    amqp::topology::Topology,
    config::{AmqpConfig, TimeoutConfig, VaultConfig},
};
use cloudconn_proto::v1::connection_service_client::ConnectionServiceClient;
use cloudconn_server::{
    auth::AuthConfig,
    config::{Mode, ServerConfig},
    quota::QuotaConfig,
    startup::App,
};
use cloudconn_worker::config::{Endpoints, WorkerConfig};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};

use super::{
    amqp::EventSubscriber,
    auth::{Bearer, Client, TokenSpec},
    chaos_proxy::ChaosProxy,
    env, logs,
    moto::AccessKey,
    scripted_probe::ScriptedProbe,
};

mod options;
mod spawn;

/// Which database the app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    /// A SQLite file in a temporary directory (the single-node mode).
    Sqlite,
}

/// How to build a test app.
pub struct TestAppBuilder {
    backend: Backend,
    mode: Mode,
    vault_proxy: bool,
    /// Start with the Vault proxy cut (OpenBao unreachable at start).
    vault_down_at_start: bool,
    amqp_proxy: bool,
    worker: bool,
    real_probes: Option<Endpoints>,
    minters: Option<cloudconn_worker::mint::Minters>,
    aws_platform_key: Option<AccessKey>,
    provider_sandbox: bool,
    cors_origins: Option<String>,
    aws_platform_principal: Option<String>,
    workbench: bool,
    /// `CLOUDCONN_OIDC_*`: a transit key of the test's own, this JWKS cache period.
    oidc: Option<Duration>,
    probe_timeout: Duration,
    jwks: Option<String>,
    jwks_refresh: Duration,
    jwks_max_stale: Duration,
    token_files: bool,
    mtls: bool,
    approle: bool,
    validation_deadline: Duration,
    /// `CLOUDCONN_REVALIDATE_INTERVAL_MS` and `CLOUDCONN_REVALIDATE_RATE`.
    revalidation: (Duration, u32),
    issue_timeout: Duration,
    dependency_timeout: Duration,
    outbox_retention: Duration,
    audit_retention: Duration,
    watch_idle: Duration,
    /// An existing PostgreSQL database to use (and leave) instead of a new one.
    database: Option<String>,
    quotas: QuotaConfig,
    amqp_identities: Option<(String, String, String)>,
    /// `CLOUDCONN_ISSUE_CACHE_ENTRIES` and `…_PER_WORKSPACE`.
    issue_cache_entries: (usize, usize),
    /// `CLOUDCONN_ISSUE_ROW_MAX_AGE_MS`.
    issue_row_max_age: Duration,
    /// `CLOUDCONN_AUTH_DISABLED`, and `…_ALLOW_ISSUE`.
    auth_disabled: Option<bool>,
    /// The deployment this app joins as another replica (see `joining`).
    joined: Option<Deployment>,
}

/// What the replicas of one deployment share: the database, the RabbitMQ
/// prefix (and logins), the Vault prefix, the run step's signing keys and
/// the token secret. A [`TestApp`] started with
/// [`TestAppBuilder::joining`] takes them from the app it joins.
/// Not `Debug`: it holds the token secret.
#[derive(Clone)]
pub struct Deployment {
    pub database: String,
    pub amqp_prefix: String,
    amqp_identities: Option<(String, String, String)>,
    pub vault_prefix: String,
    pub message_keys: super::message_keys::KeyPairs,
    auth_secret: String,
}

/// A client straight to OpenBao (never through the proxy), to check what the
/// server stored.
pub fn vault_client() -> VaultClient {
    VaultClient::new(
        VaultClientSettingsBuilder::default()
            .address(env::vault_addr())
            .token(env::vault_token())
            .build()
            .expect("vault settings"),
    )
    .expect("vault client")
}

pub struct TestApp {
    /// A platform-wide, read-write client.
    pub client: Client,
    /// The HS256 secret tokens for this app are signed with.
    pub auth_secret: String,
    /// `/metrics`, `/healthz`, `/readyz`.
    pub metrics_addr: SocketAddr,
    /// The same endpoint of the last in-process worker started.
    pub worker_metrics_addr: Option<SocketAddr>,
    /// With `with_vault_token_files`: the files the server and the workers
    /// read their Vault tokens from.
    pub server_token_file: Option<PathBuf>,
    pub worker_token_file: Option<PathBuf>,
    /// With `with_mtls`: the CA and certificates in use.
    pub tls: Option<super::tls::TlsMaterial>,
    pub channel: Channel,
    pub addr: SocketAddr,
    /// A separate connection to the app's database, for inspection.
    pub db: DatabaseConnection,
    pub vault: VaultClient,
    pub vault_prefix: String,
    pub vault_proxy: Option<ChaosProxy>,
    pub amqp_proxy: Option<ChaosProxy>,
    pub mode: Mode,
    /// This test's exchanges and queues (unique prefix).
    pub topology: Topology,
    pub worker_config: WorkerConfig,
    /// The scripted probe every in-process worker uses (counts calls).
    pub probe: Arc<ScriptedProbe>,
    /// Whether workers run the product's probes (see the builder).
    pub(crate) real_probes: bool,
    /// The minters workers use instead of the product's (see the builder).
    pub(crate) minters: Option<cloudconn_worker::mint::Minters>,
    pub(crate) aws_platform_key: Option<AccessKey>,
    pub(crate) workers: Vec<(CancellationToken, JoinHandle<anyhow::Result<()>>)>,
    /// The database this app created (and drops in `finish`).
    pg_database: Option<String>,
    /// The existing database it was told to use (`on_database`, `joining`).
    database: Option<String>,
    amqp_identities: Option<(String, String, String)>,
    /// Joined another app's deployment: `finish` leaves what is shared.
    joined: bool,
    pub(crate) scratch: PathBuf,
    /// The run step's signing keys of this app's server and workers.
    pub message_keys: super::message_keys::KeyPairs,
    shutdown: CancellationToken,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            backend: Backend::Postgres,
            mode: Mode::Production,
            vault_proxy: false,
            vault_down_at_start: false,
            amqp_proxy: false,
            worker: true,
            real_probes: None,
            minters: None,
            aws_platform_key: None,
            provider_sandbox: false,
            cors_origins: None,
            aws_platform_principal: None,
            workbench: true,
            oidc: None,
            probe_timeout: Duration::from_secs(1),
            jwks: None,
            jwks_refresh: Duration::from_millis(200),
            jwks_max_stale: Duration::from_secs(3600),
            token_files: false,
            mtls: false,
            approle: false,
            validation_deadline: Duration::from_secs(120),
            revalidation: (Duration::from_secs(86_400), 10),
            issue_timeout: Duration::from_secs(10),
            dependency_timeout: Duration::from_secs(2),
            // Tests count published rows: keep them for the test's life.
            outbox_retention: Duration::from_secs(3600),
            audit_retention: Duration::from_secs(3600),
            watch_idle: Duration::from_secs(30),
            database: None,
            // Tests validate and save many times a second in one workspace;
            // the quota tests set their own.
            quotas: QuotaConfig {
                rate_validate_per_minute: 1_000_000,
                rate_complete_per_minute: 1_000_000,
                max_connections_per_workspace: 1_000_000,
                ..QuotaConfig::default()
            },
            amqp_identities: None,
            issue_cache_entries: (10_000, 1_000),
            issue_row_max_age: Duration::from_secs(1),
            auth_disabled: None,
            joined: None,
        }
    }

    /// What another replica needs to join this app's deployment.
    pub fn deployment(&self) -> Deployment {
        let database = self.pg_database.clone().or_else(|| self.database.clone());
        Deployment {
            database: database.expect("only an app on PostgreSQL can be joined"),
            amqp_prefix: self.worker_config.amqp.amqp_prefix.clone(),
            amqp_identities: self.amqp_identities.clone(),
            vault_prefix: self.vault_prefix.clone(),
            message_keys: self.message_keys.clone(),
            auth_secret: self.auth_secret.clone(),
        }
    }

    /// The default: PostgreSQL and OpenBao.
    pub async fn spawn() -> TestApp {
        Self::builder().spawn().await
    }

    /// A client sending `token` (or no token at all).
    pub fn client_with(&self, bearer: Bearer) -> Client {
        ConnectionServiceClient::with_interceptor(self.channel.clone(), bearer)
    }

    /// A token signed with this app's secret.
    pub fn token(&self, spec: &TokenSpec<'_>) -> String {
        super::auth::mint(&self.auth_secret, spec)
    }

    /// Subscribes to this app's public events (binding `#` sees all).
    pub async fn subscribe_events(&self, binding: &str) -> EventSubscriber {
        EventSubscriber::bind(&self.topology, binding).await
    }

    /// Checks the invariants every test must leave true (every outbox row
    /// published, nothing dead-lettered), stops the server, and drops the
    /// database, the Vault prefix and the queues — unless the app joined
    /// another's deployment, which keeps them for the replicas still running.
    pub async fn finish(mut self) {
        if self.mode == Mode::Production {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while self.unsent_outbox().await > 0 {
                assert!(tokio::time::Instant::now() < deadline, "outbox rows left unpublished");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let connection = super::amqp::connect().await;
            let channel = connection.create_channel().await.expect("channel");
            assert_eq!(super::amqp::depth(&channel, &self.topology.dead_letter_queue()).await, 0, "dead-lettered jobs");
            let _ = connection.close(0, "done".into()).await;
        }
        self.stop_workers().await;
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let result = tokio::time::timeout(Duration::from_secs(15), server).await;
            result.expect("server stops within 15 s").expect("server task").expect("server ran cleanly");
        }
        self.db.close_by_ref().await.ok();
        if let Some(name) = &self.pg_database {
            if let Ok(admin) = Database::connect(env::admin_database_url()).await {
                let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                admin.close().await.ok();
            }
        }
        if !self.joined {
            if self.mode == Mode::Production {
                destroy_prefix(&self.vault, &self.vault_prefix).await;
                super::amqp::delete_topology(&self.topology).await;
            }
            let policies = [format!("{}-server", self.vault_prefix), format!("{}-worker", self.vault_prefix)];
            super::vault::forget(&self.vault, &policies, Some(&self.vault_prefix)).await;
        }
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // A test that panicked before `finish` still stops its server.
        self.shutdown.cancel();
        for (stop, _) in &self.workers {
            stop.cancel();
        }
    }
}

/// Destroys everything under `prefix` (two levels: workspace / uid).
async fn destroy_prefix(vault: &VaultClient, prefix: &str) {
    let Ok(workspaces) = vaultrs::kv2::list(vault, "secret", prefix).await else { return };
    for ws in workspaces {
        let ws_path = format!("{prefix}/{}", ws.trim_end_matches('/'));
        if let Ok(uids) = vaultrs::kv2::list(vault, "secret", &ws_path).await {
            for uid in uids {
                let _ = vaultrs::kv2::delete_metadata(vault, "secret", &format!("{ws_path}/{uid}")).await;
            }
        }
    }
}
