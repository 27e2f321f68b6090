//! The server's configuration: `CLOUDCONN_*` variables (docs/configuration.md), an
//! optional TOML file with the same lower-case keys, compiled-in defaults.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use cloudconn_infra::config::{AmqpConfig, ConfigError, Findings, Source, TimeoutConfig, TransportConfig, VaultConfig};
use secrecy::SecretString;
use serde::Deserialize;

mod database;

#[derive(Debug, Clone, Deserialize)]
pub struct ServerConfig {
    /// `CLOUDCONN_LISTEN`: gRPC address, default `127.0.0.1:50051`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// `CLOUDCONN_DATABASE_URL`: `postgres://…` or `sqlite://…?mode=rwc` (or
    /// `CLOUDCONN_DATABASE_URL_FILE`: a file holding it). Required in
    /// production; `--dev` defaults to a SQLite file in the data dir.
    #[serde(default)]
    pub database_url: Option<SecretString>,
    /// `CLOUDCONN_DATABASE_POOL_SIZE`: connections in the pool, default 16.
    #[serde(default = "default_pool_size")]
    pub database_pool_size: u32,
    /// The `CLOUDCONN_VAULT_*` section (extracted separately, see `Source`).
    #[serde(skip)]
    pub vault: VaultConfig,
    /// The `CLOUDCONN_AMQP_*` section.
    #[serde(skip)]
    pub amqp: AmqpConfig,
    /// The `CLOUDCONN_OIDC_*` section: cloudconn as an OpenID Connect issuer.
    #[serde(skip)]
    pub oidc: cloudconn_infra::config::OidcConfig,
    /// `CLOUDCONN_TLS_CERT`, `CLOUDCONN_TLS_KEY`: PEM certificate chain and
    /// private key; when set, the gRPC listener speaks TLS only.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// `CLOUDCONN_TLS_CLIENT_CA`: PEM CA bundle; when set, every client must
    /// present a certificate it signed (mutual TLS).
    #[serde(default)]
    pub tls_client_ca: Option<PathBuf>,
    /// The `CLOUDCONN_AUTH_*` section.
    #[serde(skip)]
    pub auth: crate::auth::AuthConfig,
    /// `CLOUDCONN_METRICS_LISTEN`: address of `/metrics`, `/healthz` and
    /// `/readyz` (HTTP); unset = not served.
    #[serde(default)]
    pub metrics_listen: Option<String>,
    /// `CLOUDCONN_HEALTH_INTERVAL_MS`: how often dependencies are checked, default 2000.
    #[serde(default = "default_health_interval_ms")]
    pub health_interval_ms: u64,
    /// `CLOUDCONN_AUTH_JWKS_REFRESH_MS`: how often a JWKS is re-read, default 300000.
    #[serde(default = "default_jwks_refresh_ms")]
    pub auth_jwks_refresh_ms: u64,
    /// `CLOUDCONN_AUTH_JWKS_MAX_STALE_MS`: once the JWKS could not be
    /// refreshed for this long, every token is refused until it is, default
    /// 3600000 (1 h: twelve refreshes at the default period). At least twice
    /// the refresh period.
    #[serde(default = "default_jwks_max_stale_ms")]
    pub auth_jwks_max_stale_ms: u64,
    /// The `CLOUDCONN_ALLOW_INSECURE_TRANSPORT` section.
    #[serde(skip)]
    pub transport: TransportConfig,
    /// Provider endpoints for the `--dev` in-process worker (the same
    /// variables the worker reads).
    #[serde(skip)]
    pub endpoints: cloudconn_worker::config::Endpoints,
    /// `--providers sandbox|real`: what the `--dev` in-process worker
    /// validates against; unset = the sandbox in `--dev`. A flag, not a
    /// variable: production refuses the sandbox.
    #[serde(skip)]
    pub providers: Option<Providers>,
    /// `--dev-database`: lets `--dev` use the configured database
    /// (`CLOUDCONN_DATABASE_URL`) instead of its own SQLite file. A flag, not
    /// a variable, so an inherited environment cannot turn it on.
    #[serde(skip)]
    pub dev_database: bool,
    /// The `CLOUDCONN_DEPENDENCY_TIMEOUT_MS` section.
    #[serde(skip)]
    pub timeouts: TimeoutConfig,
    /// `CLOUDCONN_DEV_DATA_DIR`: `--dev` state (SQLite file, encrypted
    /// secrets, key), default `.cloudconn-dev`.
    #[serde(default = "default_dev_data_dir")]
    pub dev_data_dir: PathBuf,
    /// `CLOUDCONN_OUTBOX_POLL_MS`: how often the outbox relay sweeps for rows
    /// it was not woken for (another replica's, or left by a crash), default 1000.
    #[serde(default = "default_outbox_poll_ms")]
    pub outbox_poll_ms: u64,
    /// `CLOUDCONN_VALIDATION_DEADLINE_MS`: a validation still unfinished this
    /// long after it was requested ends as FAILED / TIMEOUT, default 600000.
    #[serde(default = "default_validation_deadline_ms")]
    pub validation_deadline_ms: u64,
    /// `CLOUDCONN_REVALIDATE_INTERVAL_MS`: every ACTIVE connection is
    /// validated again this long (± 10 %) after its last outcome, default
    /// 86400000 (24 h); 0 turns scheduled re-validation off.
    #[serde(default = "default_revalidate_interval_ms")]
    pub revalidate_interval_ms: u64,
    /// `CLOUDCONN_REVALIDATE_RATE`: scheduled validations this replica
    /// starts per provider per second at most, default 10.
    #[serde(default = "default_revalidate_rate")]
    pub revalidate_rate: u32,
    /// `CLOUDCONN_EXPIRY_WARNING_MS`: a credential the provider says expires
    /// within this long gets a warning and an `expiring` event (reminded a
    /// week and a day before), default
    /// 2592000000 (30 days); 0: no warnings.
    #[serde(default = "default_expiry_warning_ms")]
    pub expiry_warning_ms: u64,
    /// `CLOUDCONN_PURGE_INTERVAL_MS`: time between passes of the secret purge
    /// retrier, default 10000.
    #[serde(default = "default_purge_interval_ms")]
    pub purge_interval_ms: u64,
    /// `CLOUDCONN_OUTBOX_RETENTION_MS`: published outbox rows are deleted
    /// this long after they were sent, default 604800000 (7 days, room to
    /// investigate what was published). Unsent rows are never deleted.
    #[serde(default = "default_outbox_retention_ms")]
    pub outbox_retention_ms: u64,
    /// `CLOUDCONN_AUDIT_RETENTION_MS`: audit rows are deleted this long
    /// after they were written, default 34560000000 (400 days: a year's
    /// audits and some room).
    #[serde(default = "default_audit_retention_ms")]
    pub audit_retention_ms: u64,
    /// `CLOUDCONN_WATCH_IDLE_MS`: how long a replica keeps its subscription
    /// to the events exchange after its last WatchConnections stream ended,
    /// default 30000 (it subscribes only while someone watches).
    #[serde(default = "default_watch_idle_ms")]
    pub watch_idle_ms: u64,
    /// `CLOUDCONN_CORS_ORIGINS`: browser origins (`https://host[:port]`,
    /// comma-separated) whose pages may call the API over gRPC-Web; unset =
    /// none (same-origin pages and non-browser clients need no entry).
    #[serde(default)]
    pub cors_origins: Option<String>,
    /// `CLOUDCONN_AWS_PLATFORM_PRINCIPAL`: the AWS principal (ARN) the
    /// workers assume customers' roles as, which the setup kit's trust
    /// policies name; unset = the AWS kit is refused (`SETUP_NOT_CONFIGURED`),
    /// except in `--dev` with the sandbox (its platform user).
    #[serde(default)]
    pub aws_platform_principal: Option<String>,
    /// `CLOUDCONN_EGRESS_ADDRESSES`: the workers' public addresses or CIDR
    /// blocks (comma-separated), for the access lists the kit asks for.
    #[serde(default)]
    pub egress_addresses: Option<String>,
    /// `CLOUDCONN_WORKBENCH`: serve the Workbench (the web page) at `/` on
    /// the gRPC port, default true.
    #[serde(default = "default_true")]
    pub workbench: bool,
    /// `CLOUDCONN_ISSUE_MAX_TTL_MS`: the longest lifetime IssueCredentials
    /// grants, default 3600000 (1 h); longer requests are capped.
    #[serde(default = "default_issue_max_ttl_ms")]
    pub issue_max_ttl_ms: u64,
    /// `CLOUDCONN_ISSUE_TIMEOUT_MS`: how long IssueCredentials waits for a
    /// worker, default 10000; the request carries this deadline.
    #[serde(default = "default_issue_timeout_ms")]
    pub issue_timeout_ms: u64,
    /// `CLOUDCONN_ISSUE_CACHE_ENTRIES`: issued credentials kept per replica,
    /// default 10000.
    #[serde(default = "default_issue_cache_entries")]
    pub issue_cache_entries: usize,
    /// `CLOUDCONN_ISSUE_CACHE_ENTRIES_PER_WORKSPACE`: of those, the most one
    /// workspace may hold, default 1000; a workspace at its share evicts its
    /// own least recently used entry, never another workspace's.
    #[serde(default = "default_issue_cache_entries_per_workspace")]
    pub issue_cache_entries_per_workspace: usize,
    /// `CLOUDCONN_ISSUE_ROW_MAX_AGE_MS`: how old this replica's copy of a
    /// connection row may be when a repeat hit is answered from it, default
    /// 1000; 0 reads the row on every call.
    #[serde(default = "default_issue_row_max_age_ms")]
    pub issue_row_max_age_ms: u64,
    /// The per-workspace quotas (`CLOUDCONN_RATE_*`, `CLOUDCONN_MAX_*`).
    #[serde(skip)]
    pub quotas: crate::quota::QuotaConfig,
}

fn default_issue_max_ttl_ms() -> u64 {
    3_600_000
}
fn default_issue_timeout_ms() -> u64 {
    10_000
}
fn default_issue_cache_entries() -> usize {
    10_000
}
fn default_issue_cache_entries_per_workspace() -> usize {
    1_000
}
fn default_issue_row_max_age_ms() -> u64 {
    1_000
}
fn default_listen() -> String {
    "127.0.0.1:50051".into()
}
fn default_pool_size() -> u32 {
    16
}
fn default_dev_data_dir() -> PathBuf {
    PathBuf::from(".cloudconn-dev")
}
fn default_health_interval_ms() -> u64 {
    2_000
}
fn default_jwks_refresh_ms() -> u64 {
    300_000
}
fn default_jwks_max_stale_ms() -> u64 {
    3_600_000
}
fn default_validation_deadline_ms() -> u64 {
    600_000
}
fn default_revalidate_interval_ms() -> u64 {
    86_400_000
}
fn default_revalidate_rate() -> u32 {
    10
}
fn default_expiry_warning_ms() -> u64 {
    2_592_000_000
}
fn default_outbox_poll_ms() -> u64 {
    1_000
}
fn default_outbox_retention_ms() -> u64 {
    7 * 24 * 3_600_000
}
fn default_audit_retention_ms() -> u64 {
    400 * 24 * 3_600_000
}
fn default_watch_idle_ms() -> u64 {
    30_000
}
fn default_true() -> bool {
    true
}
fn default_purge_interval_ms() -> u64 {
    10_000
}

/// How the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// PostgreSQL (or SQLite), Vault: the only mode for real credentials.
    Production,
    /// One process, no outside services: SQLite and the encrypted file store
    /// in `dev_data_dir`. For trying cloudconn, never for production.
    Dev,
}

/// What validations reach (`--providers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Providers {
    /// `--dev`'s in-process stand-ins for the five providers' protocols
    /// (the `cloudconn-sandbox` crate), steered by documented credential
    /// values. Nothing leaves the machine.
    Sandbox,
    /// The real clouds, at the configured endpoints.
    Real,
}

impl std::str::FromStr for Providers {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "sandbox" => Ok(Self::Sandbox),
            "real" => Ok(Self::Real),
            other => Err(format!("--providers must be sandbox or real, not {other:?}")),
        }
    }
}

impl ServerConfig {
    /// What validations reach in `mode`: the sandbox by default in `--dev`,
    /// the real providers always in production.
    pub fn providers(&self, mode: Mode) -> Providers {
        match mode {
            Mode::Dev => self.providers.unwrap_or(Providers::Sandbox),
            Mode::Production => Providers::Real,
        }
    }

    /// What the setup kit needs from the deployment, for `mode`.
    pub fn setup(&self, mode: Mode) -> crate::setup::SetupConfig {
        let sandbox = self.providers(mode) == Providers::Sandbox;
        crate::setup::SetupConfig {
            // The issuer in use is known once startup has built it (`--dev`'s
            // is its own address): startup sets it.
            oidc_issuer: None,
            aws_audience: self.oidc.oidc_aws_audience.clone(),
            aws_platform_principal: self
                .aws_platform_principal
                .clone()
                .or_else(|| sandbox.then(|| cloudconn_sandbox::aws::PLATFORM_PRINCIPAL.to_owned())),
            egress_addresses: self
                .egress_addresses
                .iter()
                .flat_map(|list| list.split(','))
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// `CLOUDCONN_CORS_ORIGINS`, parsed: each an origin exactly as a browser
    /// sends it (scheme, host, optional port; no path, no `*`).
    pub fn cors_origins(&self) -> Result<Vec<String>, ConfigError> {
        let Some(list) = &self.cors_origins else { return Ok(Vec::new()) };
        let mut origins = Vec::new();
        for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let parsed = url::Url::parse(origin).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.path() == "/"
                    && !origin.ends_with('/')
                    && u.query().is_none()
                    && u.username().is_empty()
            });
            if parsed.is_none() {
                return Err(ConfigError::Invalid(format!(
                    "CLOUDCONN_CORS_ORIGINS: {origin:?} is not an origin like https://workbench.example.com or \
                     http://localhost:5173 (scheme, host and port only; `*` is not accepted: list the origins)"
                )));
            }
            origins.push(origin.to_owned());
        }
        Ok(origins)
    }

    /// Loads from the process environment and an optional file.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        Self::from_source(&Source::load(file, std::env::vars())?)
    }

    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let mut config: Self = source.section()?;
        config.vault = source.vault()?;
        config.amqp = source.section()?;
        config.amqp.read_keys()?;
        config.transport = source.section()?;
        config.endpoints = source.section()?;
        config.auth = source.section()?;
        config.timeouts = source.section()?;
        config.quotas = source.section()?;
        config.oidc = source.section()?;
        Ok(config)
    }

    /// Checks the whole configuration for `mode`, naming the variable at fault.
    pub fn validate(&self, mode: Mode) -> Result<(), ConfigError> {
        self.listen_addr()?;
        match (&self.tls_cert, &self.tls_key, &self.tls_client_ca) {
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err(ConfigError::Invalid("CLOUDCONN_TLS_CERT and CLOUDCONN_TLS_KEY go together".into()));
            }
            (None, None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "CLOUDCONN_TLS_CLIENT_CA needs CLOUDCONN_TLS_CERT and CLOUDCONN_TLS_KEY".into(),
                ));
            }
            _ => {}
        }
        self.quotas.validate()?;
        self.oidc.validate(mode == Mode::Dev)?;
        self.cors_origins()?;
        if let Some(principal) = &self.aws_platform_principal {
            let arn =
                regex::Regex::new(r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(root|user/[\w+=,.@/-]+|role/[\w+=,.@/-]+)$")
                    .map_err(|e| ConfigError::Invalid(e.to_string()))?;
            if !arn.is_match(principal) {
                return Err(ConfigError::Invalid(
                    "CLOUDCONN_AWS_PLATFORM_PRINCIPAL must be an IAM ARN: arn:aws:iam::<12 digits>:root, :user/<name> or :role/<name>"
                        .into(),
                ));
            }
        }
        if self.database_pool_size == 0 {
            return Err(ConfigError::Invalid("CLOUDCONN_DATABASE_POOL_SIZE must be at least 1".into()));
        }
        if mode == Mode::Production {
            // Everything wrong at once, so one failed start shows it all.
            let mut found = Findings::default();
            if self.providers == Some(Providers::Sandbox) {
                found.problem(
                    "--providers sandbox is for --dev only: a production server validates against the real providers",
                );
            }
            if self.database_url.is_none() {
                found.problem(
                    "CLOUDCONN_DATABASE_URL is required (or run with --dev to try cloudconn without outside services)",
                );
            }
            if self.dev_database {
                found.problem("--dev-database goes with --dev only: production always uses CLOUDCONN_DATABASE_URL");
            }
            found.check(self.vault.validate());
            self.vault.validate_transport(&self.transport, &mut found);
            found.check(self.amqp.validate());
            self.amqp.validate_transport(&self.transport, &mut found);
            self.auth.validate(&self.transport, &mut found);
            // Callers send bearer tokens: plaintext gRPC only on this machine.
            let listen = self.listen_addr()?;
            if self.tls_cert.is_none() && !listen.ip().is_loopback() {
                found.insecure(
                    &self.transport,
                    "CLOUDCONN_LISTEN",
                    &format!("h2c://{listen}"),
                    format!(
                        "CLOUDCONN_LISTEN {listen} serves gRPC without TLS beyond this machine, so callers' bearer \
                         tokens cross the network in clear: set CLOUDCONN_TLS_CERT and CLOUDCONN_TLS_KEY"
                    ),
                );
            }
            if self.auth.auth_jwks.is_some() && self.auth_jwks_max_stale_ms < 2 * self.auth_jwks_refresh_ms {
                found.problem(
                    "CLOUDCONN_AUTH_JWKS_MAX_STALE_MS must be at least twice CLOUDCONN_AUTH_JWKS_REFRESH_MS \
                     (one failed refresh must not lock every caller out)",
                );
            }
            found.finish()?;
        } else {
            self.check_dev_database()?;
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen
            .parse()
            .map_err(|_| ConfigError::Invalid(format!("CLOUDCONN_LISTEN must be host:port, got {:?}", self.listen)))
    }

    pub fn outbox_poll(&self) -> Duration {
        Duration::from_millis(self.outbox_poll_ms.max(10))
    }

    /// The listener's TLS settings, read from the configured files.
    pub fn tls(&self) -> Result<Option<tonic::transport::ServerTlsConfig>, ConfigError> {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else { return Ok(None) };
        let read = |name: &str, path: &PathBuf| {
            std::fs::read(path).map_err(|e| ConfigError::Invalid(format!("{name} ({}): {e}", path.display())))
        };
        let mut tls = ServerTlsConfig::new()
            .identity(Identity::from_pem(read("CLOUDCONN_TLS_CERT", cert)?, read("CLOUDCONN_TLS_KEY", key)?));
        if let Some(ca) = &self.tls_client_ca {
            // Client certificates become required (client_auth_optional is false).
            tls = tls.client_ca_root(Certificate::from_pem(read("CLOUDCONN_TLS_CLIENT_CA", ca)?));
        }
        Ok(Some(tls))
    }

    pub fn jwks_refresh(&self) -> Duration {
        Duration::from_millis(self.auth_jwks_refresh_ms.max(100))
    }

    pub fn jwks_max_stale(&self) -> Duration {
        Duration::from_millis(self.auth_jwks_max_stale_ms.max(1))
    }

    /// What IssueCredentials needs from the deployment.
    pub fn issue(&self) -> crate::credentials::IssueSettings {
        crate::credentials::IssueSettings {
            // At least the providers' floor (15 min), so a mistaken tiny
            // value cannot make every request fail.
            max_ttl: Duration::from_millis(self.issue_max_ttl_ms.max(900_000)),
            timeout: Duration::from_millis(self.issue_timeout_ms.clamp(100, 120_000)),
            cache_entries: self.issue_cache_entries.max(1),
            cache_entries_per_workspace: self.issue_cache_entries_per_workspace.max(1),
            // A minute at most: beyond, another replica's delete would go
            // unnoticed by repeats for longer than anyone would expect.
            row_max_age: Duration::from_millis(self.issue_row_max_age_ms.min(60_000)),
        }
    }

    pub fn validation_deadline(&self) -> Duration {
        Duration::from_millis(self.validation_deadline_ms.max(100))
    }

    /// Scheduled re-validation: off at 0; otherwise at least a second
    /// apart (a pass runs every second), and at least one a second.
    pub fn revalidation(&self) -> crate::domain::schedule::Revalidation {
        let interval = match self.revalidate_interval_ms {
            0 => Duration::ZERO,
            ms => Duration::from_millis(ms.max(1_000)),
        };
        crate::domain::schedule::Revalidation { interval, rate: self.revalidate_rate.max(1) }
    }

    pub fn expiry_warning(&self) -> Duration {
        Duration::from_millis(self.expiry_warning_ms)
    }

    pub fn outbox_retention(&self) -> Duration {
        Duration::from_millis(self.outbox_retention_ms.max(1))
    }

    pub fn audit_retention(&self) -> Duration {
        Duration::from_millis(self.audit_retention_ms.max(1))
    }

    pub fn purge_interval(&self) -> Duration {
        Duration::from_millis(self.purge_interval_ms.max(10))
    }

    pub fn watch_idle(&self) -> Duration {
        Duration::from_millis(self.watch_idle_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    /// Every documented variable the server reads loads into its field.
    #[test]
    fn loads_every_documented_variable() {
        let (signing, peers) = key_files();
        let env = [
            ("CLOUDCONN_LISTEN", "0.0.0.0:6000"),
            ("CLOUDCONN_DATABASE_URL", "postgres://u:p@db/cc"),
            ("CLOUDCONN_DATABASE_POOL_SIZE", "4"),
            ("CLOUDCONN_VAULT_ADDR", "https://vault:8200"),
            ("CLOUDCONN_VAULT_TOKEN", "t"),
            ("CLOUDCONN_VAULT_MOUNT", "kv"),
            ("CLOUDCONN_VAULT_PREFIX", "cc"),
            ("CLOUDCONN_DEPENDENCY_TIMEOUT_MS", "2500"),
            ("CLOUDCONN_DEV_DATA_DIR", "/tmp/ccdev"),
            ("CLOUDCONN_PURGE_INTERVAL_MS", "250"),
            ("CLOUDCONN_OUTBOX_POLL_MS", "300"),
            ("CLOUDCONN_VALIDATION_DEADLINE_MS", "90000"),
            ("CLOUDCONN_REVALIDATE_INTERVAL_MS", "3600000"),
            ("CLOUDCONN_REVALIDATE_RATE", "25"),
            ("CLOUDCONN_EXPIRY_WARNING_MS", "86400000"),
            ("CLOUDCONN_AUTH_HS256_SECRET", "0123456789abcdef0123456789abcdef"),
            ("CLOUDCONN_AUTH_ISSUER", "https://issuer.example"),
            ("CLOUDCONN_AUTH_AUDIENCE", "cloudconn"),
            ("CLOUDCONN_AUTH_JWKS_REFRESH_MS", "1000"),
            ("CLOUDCONN_AUTH_JWKS_MAX_STALE_MS", "7000"),
            ("CLOUDCONN_ALLOW_INSECURE_TRANSPORT", "false"),
            ("CLOUDCONN_METRICS_LISTEN", "0.0.0.0:9090"),
            ("CLOUDCONN_HEALTH_INTERVAL_MS", "500"),
            ("CLOUDCONN_TLS_CERT", "/etc/cc/tls.crt"),
            ("CLOUDCONN_TLS_KEY", "/etc/cc/tls.key"),
            ("CLOUDCONN_TLS_CLIENT_CA", "/etc/cc/ca.crt"),
            ("CLOUDCONN_AMQP_URL", "amqps://guest:guest@mq:5671/%2f"),
            ("CLOUDCONN_AMQP_PREFIX", "ccx"),
            ("CLOUDCONN_AMQP_SIGNING_KEY_FILE", signing.as_str()),
            ("CLOUDCONN_AMQP_PEER_KEYS_FILE", peers.as_str()),
            ("CLOUDCONN_OUTBOX_RETENTION_MS", "5000"),
            ("CLOUDCONN_WATCH_IDLE_MS", "750"),
        ];
        let source = Source::load(None, env.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap();
        let c = ServerConfig::from_source(&source).unwrap();
        assert_eq!(c.listen_addr().unwrap().port(), 6000);
        assert_eq!(c.database_url.as_ref().unwrap().expose_secret(), "postgres://u:p@db/cc");
        assert_eq!(c.database_pool_size, 4);
        assert_eq!(c.vault.vault_addr.as_deref(), Some("https://vault:8200"));
        assert_eq!(c.vault.vault_token.as_ref().unwrap().expose_secret(), "t");
        assert_eq!((c.vault.vault_mount.as_str(), c.vault.vault_prefix.as_str()), ("kv", "cc"));
        assert_eq!(c.timeouts.dependency_timeout(), Duration::from_millis(2500));
        assert_eq!(c.dev_data_dir, PathBuf::from("/tmp/ccdev"));
        assert_eq!(c.purge_interval(), Duration::from_millis(250));
        assert_eq!(c.outbox_poll(), Duration::from_millis(300));
        assert_eq!(c.validation_deadline(), Duration::from_secs(90));
        assert_eq!(c.revalidation().interval, Duration::from_secs(3600));
        assert_eq!(c.revalidation().rate, 25);
        assert_eq!(c.expiry_warning(), Duration::from_secs(86_400));
        assert_eq!(c.outbox_retention(), Duration::from_secs(5));
        assert_eq!(c.watch_idle(), Duration::from_millis(750));
        assert_eq!(c.auth.auth_hs256_secret.as_ref().unwrap().expose_secret(), "0123456789abcdef0123456789abcdef");
        assert_eq!(c.auth.auth_issuer.as_deref(), Some("https://issuer.example"));
        assert_eq!(c.auth.auth_audience.as_deref(), Some("cloudconn"));
        assert_eq!(c.jwks_refresh(), Duration::from_secs(1));
        assert_eq!(c.jwks_max_stale(), Duration::from_secs(7));
        assert!(!c.transport.allow_insecure_transport);
        assert!(!c.auth.auth_disabled);
        assert_eq!(c.metrics_listen.as_deref(), Some("0.0.0.0:9090"));
        assert_eq!(c.health_interval_ms, 500);
        assert_eq!(c.tls_cert.as_deref(), Some(std::path::Path::new("/etc/cc/tls.crt")));
        assert_eq!(c.tls_key.as_deref(), Some(std::path::Path::new("/etc/cc/tls.key")));
        assert_eq!(c.tls_client_ca.as_deref(), Some(std::path::Path::new("/etc/cc/ca.crt")));
        assert!(c.tls().unwrap_err().to_string().contains("CLOUDCONN_TLS_CERT"), "missing files are named");
        assert_eq!(c.amqp.amqp_url.as_ref().unwrap().expose_secret(), "amqps://guest:guest@mq:5671/%2f");
        assert_eq!(c.amqp.topology().events_exchange(), "ccx.events");
        assert!(c.amqp.keys.is_some(), "the key files are read");
        c.validate(Mode::Production).unwrap();
        // The URL carries a password: it must not show in Debug output.
        assert!(!format!("{c:?}").contains("u:p@"));
        assert!(!format!("{c:?}").contains("guest:guest"));
    }

    /// A signing key and a peer key file, as `openssl` would write them.
    fn key_files() -> (String, String) {
        use cloudconn_infra::amqp::signing::MessageSigner;
        let dir = std::env::temp_dir().join(format!("cc-config-keys-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let (own, peer) = (MessageSigner::generate(), MessageSigner::generate());
        let (signing, peers) = (dir.join("signing.pem"), dir.join("peers.pem"));
        std::fs::write(&signing, own.to_pem()).unwrap();
        std::fs::write(&peers, peer.public_pem()).unwrap();
        (signing.display().to_string(), peers.display().to_string())
    }

    #[test]
    fn production_needs_a_database_and_vault_dev_needs_neither() {
        let c = ServerConfig::from_source(&Source::load(None, Vec::new()).unwrap()).unwrap();
        assert!(c.validate(Mode::Production).unwrap_err().to_string().contains("CLOUDCONN_DATABASE_URL"));
        // Production refuses to run without authentication unless told to.
        let (signing, peers) = key_files();
        let env = [
            ("CLOUDCONN_DATABASE_URL", "postgres://db/cc"),
            ("CLOUDCONN_VAULT_ADDR", "https://vault:8200"),
            ("CLOUDCONN_VAULT_TOKEN", "t"),
            ("CLOUDCONN_AMQP_URL", "amqps://mq:5671/%2f"),
        ];
        let keys = [("CLOUDCONN_AMQP_SIGNING_KEY_FILE", signing.as_str()), ("CLOUDCONN_AMQP_PEER_KEYS_FILE", &peers)];
        let load = |extra: &[(&str, &str)]| {
            let vars = env.iter().chain(extra).map(|(k, v)| (k.to_string(), v.to_string()));
            ServerConfig::from_source(&Source::load(None, vars).unwrap()).unwrap()
        };
        // The run step's messages are signed: production needs the keys.
        let without_keys = load(&[("CLOUDCONN_AUTH_DISABLED", "true")]).validate(Mode::Production).unwrap_err();
        assert!(without_keys.to_string().contains("CLOUDCONN_AMQP_SIGNING_KEY_FILE"), "{without_keys}");
        let load = |extra: &[(&str, &str)]| load(&[&keys[..], extra].concat());
        assert!(load(&[]).validate(Mode::Production).unwrap_err().to_string().contains("CLOUDCONN_AUTH_DISABLED"));
        load(&[("CLOUDCONN_AUTH_DISABLED", "true")]).validate(Mode::Production).unwrap();
        load(&[("CLOUDCONN_AUTH_DISABLED", "true"), ("CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE", "true")])
            .validate(Mode::Production)
            .unwrap();
        let alone = load(&[
            ("CLOUDCONN_AUTH_HS256_SECRET", "0123456789abcdef0123456789abcdef"),
            ("CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE", "true"),
        ]);
        let refused = alone.validate(Mode::Production).unwrap_err().to_string();
        assert!(
            refused.contains("CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE=true needs CLOUDCONN_AUTH_DISABLED=true"),
            "{refused}"
        );
        assert!(load(&[("CLOUDCONN_AUTH_HS256_SECRET", "short")]).validate(Mode::Production).is_err());
        c.validate(Mode::Dev).unwrap();
        assert!(c.database_url(Mode::Dev).unwrap().expose_secret().starts_with("sqlite://"));
        assert!(c.database_url(Mode::Production).is_none());
    }
}
