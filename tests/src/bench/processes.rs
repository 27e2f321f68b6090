//! The server and the worker as the product's own binaries, each in its own
//! process (so its memory can be read), configured through `CLOUDCONN_*`
//! variables as in a deployment.

use std::{path::PathBuf, process::Stdio, time::Duration};

use tokio::process::{Child, Command};

/// A running `cloudconn-server` or `cloudconn-worker`; killed on drop.
pub struct Service {
    pub name: &'static str,
    child: Child,
}

impl Service {
    /// Starts `binary` (found next to this program: build both with it)
    /// with `env`.
    pub fn start(name: &'static str, env: &[(String, String)]) -> anyhow::Result<Self> {
        let binary = sibling(name)?;
        let child = Command::new(&binary)
            .envs(env.iter().cloned())
            // As deployed (deploy/k8s): info for our crates. The filter
            // also decides which spans exist, and spans and log lines are
            // part of what a call costs.
            .env("RUST_LOG", cloudconn_infra::telemetry::DEFAULT_FILTER)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| anyhow::anyhow!("starting {}: {e}", binary.display()))?;
        Ok(Self { name, child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or_default()
    }

    /// Resident set size now, in MB.
    pub fn rss_mb(&self) -> f64 {
        status_kb(self.pid(), "VmRSS:") / 1024.0
    }

    /// The highest resident set size so far, in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        status_kb(self.pid(), "VmHWM:") / 1024.0
    }

    /// Fails if the process has exited (it logs why on stderr).
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait()? {
            Some(status) => anyhow::bail!("{} exited: {status}", self.name),
            None => Ok(()),
        }
    }
}

/// A binary built into the same target directory as this one.
fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.parent().map(|dir| dir.join(name)).unwrap_or_default();
    anyhow::ensure!(
        path.exists(),
        "{} not built: build it with the benchmark (see docs/benchmarks.md)",
        path.display()
    );
    Ok(path)
}

fn status_kb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

/// Waits until something accepts connections on `addr`.
pub async fn wait_for_port(service: &mut Service, addr: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        service.check_alive()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{} did not listen on {addr} within 60 s", service.name)
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// Creates the database `name` (ours: letters and hex, never input) next to
/// the test stack's, and returns its URL.
pub async fn fresh_database(name: &str) -> anyhow::Result<String> {
    let admin = crate::harness::env::admin_database_url();
    let pool = super::baselines::pg_pool(&admin, 1).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await?;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin);
    Ok(format!("{base}/{name}"))
}

pub async fn drop_database(name: &str) {
    if let Ok(pool) = super::baselines::pg_pool(&crate::harness::env::admin_database_url(), 1).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&pool)
            .await;
    }
}

/// Open file descriptors of `pid` now.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// Client connections the callers share (callers are many services, not
/// one multiplexed connection).
pub const CHANNELS: usize = 8;

impl super::scenarios::Deployment {
    /// [`CHANNELS`] client connections to the server listening on `listen`,
    /// each call carrying `token`; `pids` are the cloudconn processes whose
    /// CPU counts as the service's.
    pub async fn connect(
        listen: &str,
        token: &str,
        database_url: &str,
        pool_size: u32,
        prefix: &str,
        pids: Vec<u32>,
        inspect: sqlx::PgPool,
    ) -> anyhow::Result<Self> {
        use cloudconn_proto::v1::connection_service_client::ConnectionServiceClient;
        use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};

        use crate::harness::env;
        let bearer = super::scenarios::Bearer(format!("Bearer {token}").parse()?);
        let (mut clients, mut channels) = (Vec::new(), Vec::new());
        for _ in 0..CHANNELS {
            let channel = tonic::transport::Channel::from_shared(format!("http://{listen}"))?.connect().await?;
            clients.push(ConnectionServiceClient::with_interceptor(channel.clone(), bearer.clone()));
            channels.push(channel);
        }
        Ok(Self {
            clients: std::sync::Arc::new(clients),
            channels: std::sync::Arc::new(channels),
            database_url: database_url.to_owned(),
            pool_size,
            amqp_url: env::amqp_url(),
            prefix: prefix.to_owned(),
            vault: std::sync::Arc::new(VaultClient::new(
                VaultClientSettingsBuilder::default().address(env::vault_addr()).token(env::vault_token()).build()?,
            )?),
            vault_mount: "secret".into(),
            pids,
            inspect,
            // Set by a caller whose server has a metrics endpoint; without
            // one, statements are not counted.
            metrics_url: String::new(),
        })
    }
}

/// What every process of one benchmark deployment is told: where the stack
/// is, the run's own prefixes, the token secret and its message keys. Each
/// binary adds its own (listen addresses, quotas, endpoints) with [`with`].
///
/// [`with`]: DeploymentEnv::with
pub struct DeploymentEnv<'a> {
    pub database_url: &'a str,
    pub amqp_url: String,
    pub vault_addr: String,
    /// The run's broker and Vault prefix.
    pub run: &'a str,
    /// The HS256 secret tokens are signed with.
    pub secret: &'a str,
}

impl DeploymentEnv<'_> {
    /// The stack's own addresses (no proxy in between).
    pub fn direct<'a>(database_url: &'a str, run: &'a str, secret: &'a str) -> DeploymentEnv<'a> {
        DeploymentEnv {
            database_url,
            amqp_url: crate::harness::env::amqp_url(),
            vault_addr: crate::harness::env::vault_addr(),
            run,
            secret,
        }
    }

    /// The variables of a process holding `keys`, then `extra`.
    pub fn with(
        &self,
        keys: &crate::harness::message_keys::KeyFiles,
        extra: &[(&str, String)],
    ) -> Vec<(String, String)> {
        let common = [
            ("CLOUDCONN_DATABASE_URL", self.database_url.to_owned()),
            ("CLOUDCONN_AMQP_URL", self.amqp_url.clone()),
            ("CLOUDCONN_AMQP_PREFIX", self.run.to_owned()),
            ("CLOUDCONN_AMQP_SIGNING_KEY_FILE", keys.signing_key.display().to_string()),
            ("CLOUDCONN_AMQP_PEER_KEYS_FILE", keys.peer_keys.display().to_string()),
            ("CLOUDCONN_VAULT_ADDR", self.vault_addr.clone()),
            ("CLOUDCONN_VAULT_TOKEN", crate::harness::env::vault_token()),
            ("CLOUDCONN_VAULT_PREFIX", self.run.to_owned()),
            ("CLOUDCONN_AUTH_HS256_SECRET", self.secret.to_owned()),
            // Production requires an audience; `mint` puts this one in.
            ("CLOUDCONN_AUTH_AUDIENCE", crate::harness::auth::AUDIENCE.to_owned()),
        ];
        common.into_iter().chain(extra.iter().cloned()).map(|(k, v)| (k.to_owned(), v)).collect()
    }
}
