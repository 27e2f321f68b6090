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

impl TestAppBuilder {
    pub fn sqlite(mut self) -> Self {
        self.backend = Backend::Sqlite;
        self
    }

    /// `--dev`: SQLite and the encrypted file secret store, no Vault at all.
    /// `--dev` as a user runs it: the real probes aimed at the provider
    /// sandbox (`--providers sandbox`, the default), not a scripted probe.
    pub fn with_provider_sandbox(mut self) -> Self {
        self.mode = Mode::Dev;
        self.provider_sandbox = true;
        self
    }

    /// `CLOUDCONN_AWS_PLATFORM_PRINCIPAL` (the setup kit's trust policies).
    pub fn with_aws_platform_principal(mut self, principal: &str) -> Self {
        self.aws_platform_principal = Some(principal.to_owned());
        self
    }

    /// `CLOUDCONN_WORKBENCH=false`.
    pub fn without_workbench(mut self) -> Self {
        self.workbench = false;
        self
    }

    /// `CLOUDCONN_CORS_ORIGINS`.
    pub fn with_cors_origins(mut self, origins: &str) -> Self {
        self.cors_origins = Some(origins.to_owned());
        self
    }

    pub fn dev(mut self) -> Self {
        self.mode = Mode::Dev;
        self.backend = Backend::Sqlite;
        self
    }

    /// Puts a chaos proxy between the server and Vault.
    /// Starts the server while OpenBao is unreachable (through a proxy
    /// that is down; `vault_proxy.up()` brings it back).
    pub fn with_vault_down_at_start(mut self) -> Self {
        self.vault_down_at_start = true;
        self.with_vault_proxy()
    }

    pub fn with_vault_proxy(mut self) -> Self {
        self.vault_proxy = true;
        self
    }

    /// No worker: jobs stay queued until the test starts one
    /// ([`TestApp::start_worker`]).
    pub fn without_worker(mut self) -> Self {
        self.worker = false;
        self
    }

    /// The worker runs the product's provider probes against `endpoints`
    /// (emulators, moto) instead of the scripted probe.
    pub fn with_real_probes(mut self, endpoints: Endpoints) -> Self {
        self.real_probes = Some(endpoints);
        self
    }

    /// The AWS probe signs as this key (one a private moto issued) instead
    /// of the standard credential chain. That moto evaluates trust
    /// policies, so the confused-deputy check runs as in production (`fail`).
    pub fn with_aws_platform_key(mut self, key: AccessKey) -> Self {
        self.aws_platform_key = Some(key);
        self
    }

    /// Verify tokens with the JWKS in this file (re-read every 200 ms)
    /// instead of the HS256 secret; `client` then has no valid token.
    pub fn with_jwks(mut self, path: PathBuf) -> Self {
        self.jwks = Some(path.display().to_string());
        self
    }

    /// As [`TestAppBuilder::with_jwks`], fetching the JWKS from `url`.
    pub fn with_jwks_url(mut self, url: String) -> Self {
        self.jwks = Some(url);
        self
    }

    /// How often the JWKS is re-read (default 200 ms), and how long keys
    /// that could not be refreshed stay trusted (default 1 h).
    pub fn with_jwks_timing(mut self, refresh: Duration, max_stale: Duration) -> Self {
        self.jwks_refresh = refresh;
        self.jwks_max_stale = max_stale;
        self
    }

    /// The server and the worker read their Vault tokens from files
    /// (`CLOUDCONN_VAULT_TOKEN_FILE`), as with a Vault Agent sink; the
    /// paths are `TestApp::server_token_file` / `worker_token_file`.
    pub fn with_vault_token_files(mut self) -> Self {
        self.token_files = true;
        self
    }

    /// Serve TLS only, requiring client certificates from a test CA; the
    /// harness client presents one (see `TestApp::tls`).
    pub fn with_mtls(mut self) -> Self {
        self.mtls = true;
        self
    }

    /// The server logs in with AppRole (server policy, tokens living 2 s,
    /// renewable to 4 s) instead of the root token.
    pub fn with_approle(mut self) -> Self {
        self.approle = true;
        self
    }

    /// Bound on one probe attempt (default 1 s: emulators answer at once).
    pub fn with_probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// Validations unfinished for this long end as TIMEOUT.
    /// Workers (and `--dev`) mint with these instead of the product's
    /// minters (a scripted one that counts calls, say).
    pub fn with_minters(mut self, minters: cloudconn_worker::mint::Minters) -> Self {
        self.minters = Some(minters);
        self
    }

    /// How long IssueCredentials waits for a worker.
    pub fn with_issue_timeout(mut self, timeout: Duration) -> Self {
        self.issue_timeout = timeout;
        self
    }

    /// `CLOUDCONN_ISSUE_CACHE_ENTRIES` (default 10,000): a small cache
    /// makes repeat issues mint again.
    pub fn with_issue_cache_entries(mut self, entries: usize) -> Self {
        self.issue_cache_entries.0 = entries;
        self
    }

    /// Scheduled re-validation every `interval` (± 10 %; zero: off), at
    /// most `rate` started per provider per second (default: production's,
    /// 24 h and 10).
    pub fn with_revalidation(mut self, interval: Duration, rate: u32) -> Self {
        self.revalidation = (interval, rate);
        self
    }

    pub fn with_validation_deadline(mut self, deadline: Duration) -> Self {
        self.validation_deadline = deadline;
        self
    }

    /// Published outbox rows are deleted this long after they were sent.
    /// `CLOUDCONN_AUDIT_RETENTION_MS`.
    pub fn with_audit_retention(mut self, retention: Duration) -> Self {
        self.audit_retention = retention;
        self
    }

    pub fn with_outbox_retention(mut self, retention: Duration) -> Self {
        self.outbox_retention = retention;
        self
    }

    /// The event subscription ends this long after the last watcher left.
    pub fn with_watch_idle(mut self, idle: Duration) -> Self {
        self.watch_idle = idle;
        self
    }

    /// RabbitMQ as deployed: the server connects with `server_url`, workers
    /// with `worker_url`, both on `prefix` (see `harness::rabbitmq`).
    pub fn with_amqp_identities(mut self, prefix: &str, server_url: &str, worker_url: &str) -> Self {
        self.amqp_identities = Some((prefix.to_owned(), server_url.to_owned(), worker_url.to_owned()));
        self
    }

    /// Uses the existing PostgreSQL database `name` (the test creates and
    /// drops it), so several apps can share one, as replicas do.
    pub fn on_database(mut self, name: &str) -> Self {
        self.database = Some(name.to_owned());
        self
    }

    pub fn with_quotas(mut self, quotas: QuotaConfig) -> Self {
        self.quotas = quotas;
        self
    }

    /// How old a replica's copy of a connection row may be when a repeat is
    /// answered from it (default 1 s, production's).
    pub fn with_issue_row_max_age(mut self, max_age: Duration) -> Self {
        self.issue_row_max_age = max_age;
        self
    }

    /// The issue cache's bounds: in all, and for one workspace.
    pub fn with_issue_cache(mut self, entries: usize, per_workspace: usize) -> Self {
        self.issue_cache_entries = (entries, per_workspace);
        self
    }

    /// Serves without authentication (`CLOUDCONN_AUTH_DISABLED=true`);
    /// `allow_issue` is `CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE`.
    pub fn with_auth_disabled(mut self, allow_issue: bool) -> Self {
        self.auth_disabled = Some(allow_issue);
        self
    }

    pub fn with_amqp_proxy(mut self) -> Self {
        self.amqp_proxy = true;
        self
    }

    /// Another replica of `first`'s deployment, as one more pod of the same
    /// Deployment would be: the same PostgreSQL database, RabbitMQ prefix
    /// (and logins, with `with_amqp_identities`), Vault prefix and
    /// policies, message signing keys (every server and worker of the
    /// deployment trusts every other's signatures) and token secret (a token
    /// of one replica works on all). What is per process stays its own: the
    /// listeners, the workers (`without_worker` for a replica without one),
    /// the scripted probe and its count, the metrics, the tuning set on this
    /// builder. `finish` on a joined app stops it and leaves the shared
    /// database, queues and Vault prefix alone; `first` must be finished
    /// last, since finishing it removes them.
    pub fn joining(mut self, first: &TestApp) -> Self {
        self.joined = Some(first.deployment());
        self
    }

    pub async fn spawn(self) -> TestApp {
        logs::init();
        cloudconn_infra::tls::install_crypto_provider();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let scratch = std::env::temp_dir().join(format!("cc_test_{id}"));
        std::fs::create_dir_all(&scratch).expect("scratch dir");

        if self.joined.is_some() {
            assert!(
                self.backend == Backend::Postgres && self.mode == Mode::Production,
                "only PostgreSQL production apps run as replicas"
            );
        }
        let database = self.joined.as_ref().map(|d| d.database.clone()).or(self.database.clone());
        let (database_url, pg_database) = match self.backend {
            Backend::Postgres if database.is_some() => {
                (with_database(&env::admin_database_url(), database.as_deref().unwrap_or_default()), None)
            }
            Backend::Postgres => {
                let name = format!("cc_test_{id}");
                let admin = Database::connect(env::admin_database_url())
                    .await
                    .expect("connect to PostgreSQL (is the test stack up? deploy/stack.sh up)");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.ok();
                (with_database(&env::admin_database_url(), &name), Some(name))
            }
            Backend::Sqlite => (format!("sqlite://{}?mode=rwc", scratch.join("cloudconn.db").display()), None),
        };

        let vault_upstream: SocketAddr = env::vault_addr()
            .trim_start_matches("http://")
            .parse()
            .expect("CLOUDCONN_TEST_VAULT_ADDR is http://host:port");
        let vault_proxy =
            if self.vault_proxy { Some(ChaosProxy::start(vault_upstream).await.expect("proxy")) } else { None };
        if self.vault_down_at_start {
            vault_proxy.as_ref().expect("proxy").down();
        }
        let vault_addr = match &vault_proxy {
            Some(p) => format!("http://{}", p.addr()),
            None => env::vault_addr(),
        };
        let vault_prefix = self.joined.as_ref().map_or_else(|| format!("cc_test_{id}"), |d| d.vault_prefix.clone());
        let amqp_proxy = if self.amqp_proxy {
            let upstream: SocketAddr = "127.0.0.1:5672".parse().expect("addr");
            Some(ChaosProxy::start(upstream).await.expect("proxy"))
        } else {
            None
        };
        let amqp_url = match &amqp_proxy {
            Some(p) => env::amqp_url().replace("127.0.0.1:5672", &p.addr().to_string()),
            None => env::amqp_url(),
        };
        let message_keys =
            self.joined.as_ref().map_or_else(super::message_keys::KeyPairs::generate, |d| d.message_keys.clone());
        let amqp_identities =
            self.amqp_identities.clone().or_else(|| self.joined.as_ref().and_then(|d| d.amqp_identities.clone()));
        let amqp_prefix = self.joined.as_ref().map_or_else(|| format!("cc_test_{id}"), |d| d.amqp_prefix.clone());
        let amqp = match &amqp_identities {
            Some((prefix, server_url, _)) => AmqpConfig {
                amqp_url: Some(SecretString::from(server_url.clone())),
                amqp_prefix: prefix.clone(),
                keys: Some(message_keys.server_keys()),
                ..AmqpConfig::default()
            },
            None => AmqpConfig {
                amqp_url: Some(SecretString::from(amqp_url)),
                amqp_prefix,
                keys: Some(message_keys.server_keys()),
                ..AmqpConfig::default()
            },
        };
        let topology = amqp.topology();

        let auth_secret = self.joined.as_ref().map_or_else(
            || format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()),
            |d| d.auth_secret.clone(),
        );
        let auth = match (self.mode, self.auth_disabled) {
            (_, Some(allow_issue)) => {
                AuthConfig { auth_disabled: true, auth_disabled_allow_issue: allow_issue, ..AuthConfig::default() }
            }
            // --dev generates its own key and token.
            (Mode::Dev, None) => AuthConfig::default(),
            // Production requires an audience (and an issuer with a JWKS).
            (Mode::Production, None) => match &self.jwks {
                Some(source) => AuthConfig {
                    auth_jwks: Some(source.clone()),
                    auth_issuer: Some(super::auth::ISSUER.into()),
                    auth_audience: Some(super::auth::AUDIENCE.into()),
                    ..AuthConfig::default()
                },
                None => AuthConfig {
                    auth_hs256_secret: Some(SecretString::from(auth_secret.clone())),
                    auth_audience: Some(super::auth::AUDIENCE.into()),
                    ..AuthConfig::default()
                },
            },
        };
        let tls = self.mtls.then(super::tls::generate);
        let tls_file = |name: &str, content: &str| {
            let path = scratch.join(name);
            std::fs::write(&path, content).expect("write tls file");
            Some(path)
        };
        let (tls_cert, tls_key, tls_client_ca) = match &tls {
            Some(t) => (
                tls_file("server.crt", &t.server.cert),
                tls_file("server.key", &t.server.key),
                tls_file("ca.crt", &t.ca),
            ),
            None => (None, None, None),
        };
        let config = ServerConfig {
            tls_cert,
            tls_key,
            tls_client_ca,
            auth,
            auth_jwks_refresh_ms: self.jwks_refresh.as_millis() as u64,
            auth_jwks_max_stale_ms: self.jwks_max_stale.as_millis() as u64,
            transport: Default::default(),
            listen: "127.0.0.1:0".into(),
            database_url: Some(SecretString::from(database_url.clone())),
            database_pool_size: 8,
            vault: VaultConfig {
                vault_addr: Some(vault_addr),
                vault_token: Some(SecretString::from(env::vault_token())),
                vault_mount: "secret".into(),
                vault_prefix: vault_prefix.clone(),
                ..VaultConfig::default()
            },
            amqp,
            endpoints: Default::default(),
            providers: self.provider_sandbox.then_some(cloudconn_server::config::Providers::Sandbox),
            // The tests' --dev runs on their own fresh database, on purpose.
            dev_database: self.mode == Mode::Dev,
            timeouts: TimeoutConfig { dependency_timeout_ms: self.dependency_timeout.as_millis() as u64 },
            dev_data_dir: scratch.join("dev"),
            purge_interval_ms: 200,
            outbox_poll_ms: 200,
            cors_origins: self.cors_origins.clone(),
            aws_platform_principal: self.aws_platform_principal.clone(),
            egress_addresses: None,
            workbench: self.workbench,
            issue_max_ttl_ms: 3_600_000,
            issue_timeout_ms: self.issue_timeout.as_millis() as u64,
            issue_cache_entries: self.issue_cache_entries.0,
            issue_cache_entries_per_workspace: self.issue_cache_entries.1,
            issue_row_max_age_ms: self.issue_row_max_age.as_millis() as u64,
            metrics_listen: Some("127.0.0.1:0".into()),
            health_interval_ms: 200,
            validation_deadline_ms: self.validation_deadline.as_millis() as u64,
            revalidate_interval_ms: self.revalidation.0.as_millis() as u64,
            revalidate_rate: self.revalidation.1,
            expiry_warning_ms: 2_592_000_000,
            outbox_retention_ms: self.outbox_retention.as_millis() as u64,
            audit_retention_ms: self.audit_retention.as_millis() as u64,
            watch_idle_ms: self.watch_idle.as_millis() as u64,
            quotas: self.quotas.clone(),
        };
        // Least privilege, as deployed: the project's own policies on this
        // test's prefix. The worker always runs with the read-only one.
        let root = vault_client();
        let (server_policy, worker_policy) = (format!("{vault_prefix}-server"), format!("{vault_prefix}-worker"));
        super::vault::write_policy(&root, &server_policy, super::vault::SERVER_POLICY, &vault_prefix).await;
        super::vault::write_policy(&root, &worker_policy, super::vault::WORKER_POLICY, &vault_prefix).await;
        let mut config = config;
        if self.approle {
            let (role_id, secret_id) = super::vault::approle(&root, &vault_prefix, &server_policy, "2s", "4s").await;
            config.vault.vault_token = None;
            config.vault.vault_role_id = Some(SecretString::from(role_id));
            config.vault.vault_secret_id = Some(SecretString::from(secret_id));
        }
        let mut server_token_file = None;
        if self.token_files && !self.approle {
            let path = scratch.join("server-token");
            std::fs::write(&path, format!("{}\n", super::vault::token_with(&root, &server_policy).await))
                .expect("write token file");
            config.vault.vault_token = None;
            config.vault.vault_token_file = Some(path.clone());
            server_token_file = Some(path);
        }
        let mut worker_config = super::workers::worker_config(&config);
        let worker_token = super::vault::token_with(&root, &worker_policy).await;
        let mut worker_token_file = None;
        if self.token_files {
            let path = scratch.join("worker-token");
            std::fs::write(&path, format!("{worker_token}\n")).expect("write token file");
            worker_config.vault.vault_token = None;
            worker_config.vault.vault_token_file = Some(path.clone());
            worker_token_file = Some(path);
        } else {
            worker_config.vault.vault_token = Some(SecretString::from(worker_token));
            worker_config.vault.vault_token_file = None;
        }
        worker_config.vault.vault_role_id = None;
        worker_config.vault.vault_secret_id = None;
        if let Some((_, _, worker_url)) = &amqp_identities {
            worker_config.amqp.amqp_url = Some(SecretString::from(worker_url.clone()));
        }
        worker_config.amqp.keys = Some(message_keys.worker_keys());
        worker_config.probe_timeout_ms = self.probe_timeout.as_millis() as u64;
        if let Some(endpoints) = &self.real_probes {
            worker_config.endpoints = endpoints.clone();
        }
        if self.aws_platform_key.is_some() {
            worker_config.aws_external_id_check = cloudconn_worker::config::ExternalIdCheck::Fail;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (probe, probes) = ScriptedProbe::everywhere();
        let app = if self.provider_sandbox {
            App::build(&config, self.mode, listener).await.expect("build app")
        } else {
            // `--dev` mints in process with the worker's minters, aimed where
            // the probes are (production workers build their own).
            let minters =
                self.minters.clone().unwrap_or_else(|| cloudconn_worker::mint::Minters::production(&worker_config));
            App::build_with_probes(&config, self.mode, listener, probes, minters).await.expect("build app")
        };
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr().expect("metrics endpoint");
        let admin_token =
            app.dev_token.clone().unwrap_or_else(|| super::auth::mint(&auth_secret, &TokenSpec::default()));
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(app.run(shutdown.clone()));

        // The socket is already bound: connecting needs no retry or sleep.
        let channel = match &tls {
            Some(t) => super::tls::channel(addr.port(), &t.ca, Some(&t.client)).await.expect("TLS connect"),
            None => Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect"),
        };
        let db = Database::connect(database_url).await.expect("inspect database");
        let mut app = TestApp {
            client: ConnectionServiceClient::with_interceptor(channel.clone(), Bearer::new(&admin_token)),
            auth_secret,
            metrics_addr,
            worker_metrics_addr: None,
            server_token_file,
            worker_token_file,
            tls,
            channel,
            addr,
            db,
            vault: vault_client(),
            vault_prefix,
            vault_proxy,
            amqp_proxy,
            pg_database,
            database,
            amqp_identities,
            joined: self.joined.is_some(),
            scratch,
            message_keys,
            shutdown,
            server: Some(server),
            mode: self.mode,
            topology,
            worker_config,
            probe,
            real_probes: self.real_probes.is_some(),
            minters: self.minters,
            aws_platform_key: self.aws_platform_key,
            workers: Vec::new(),
        };
        if self.worker && self.mode == Mode::Production {
            app.start_worker();
        }
        app
    }
}

fn with_database(url: &str, name: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{name}")
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
