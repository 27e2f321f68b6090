//! Configuration loading, and the sections both binaries use.
//!
//! Sources are layered: compiled-in defaults (serde `default`s on each
//! struct), then an optional TOML file, then `CLOUDCONN_*` environment
//! variables. A variable `CLOUDCONN_VAULT_ADDR` sets the key `vault_addr`; the
//! TOML file uses the same lower-case keys. The variable names are a contract
//! (DESIGN.md §7): rename none.
//!
//! The loader takes the environment as an argument instead of reading the
//! process's own, so tests can load a configuration without `set_var` (unsafe
//! in Rust 2024, and racy between parallel tests).

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, de::DeserializeOwned};

/// Prefix of every environment variable cloudconn reads.
pub const ENV_PREFIX: &str = "CLOUDCONN_";

/// Secret-valued keys that may instead be given as `<KEY>_FILE`, a path read
/// once at start (a mounted Kubernetes secret, a Vault Agent template), so
/// the value never sits in the process environment. One trailing newline is
/// trimmed. Setting both forms is an error naming both.
/// (`CLOUDCONN_VAULT_TOKEN_FILE` is not here: the Vault store re-reads it,
/// see [`VaultConfig::vault_token_file`].)
pub const SECRET_FILE_KEYS: [&str; 4] = ["database_url", "amqp_url", "auth_hs256_secret", "vault_secret_id"];

/// Variables vaultrs would read from the process environment to change whom
/// it trusts. The Vault store sets every one of those settings itself, so
/// they have no effect; `VAULT_SKIP_VERIFY` is refused in production so that
/// nobody believes it took effect (or sets it by accident in one place and
/// relies on it elsewhere).
pub const AMBIENT_VAULT_TLS_VARS: [&str; 5] =
    ["VAULT_SKIP_VERIFY", "VAULT_CACERT", "VAULT_CAPATH", "VAULT_CLIENT_CERT", "VAULT_CLIENT_KEY"];

/// The merged configuration sources. Each binary extracts the sections it
/// needs with [`Source::section`]; sections are separate structs rather than
/// `#[serde(flatten)]`ed into one, because flatten bypasses figment's lenient
/// parsing of environment strings into numbers and booleans.
pub struct Source {
    figment: Figment,
    /// Which of [`AMBIENT_VAULT_TLS_VARS`] the environment set (names only).
    ambient_vault: Vec<String>,
}

impl Source {
    /// Reads `file` (if given) and the `CLOUDCONN_*` entries of `env`, then
    /// the files named by `CLOUDCONN_<SECRET>_FILE` (see [`SECRET_FILE_KEYS`]).
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Invalid(format!("config file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file(path));
        }
        let mut ambient_vault = Vec::new();
        let mut vars = std::collections::BTreeMap::new();
        for (k, v) in env {
            if AMBIENT_VAULT_TLS_VARS.contains(&k.as_str()) {
                // Any value counts, the empty string included: vaultrs reads
                // `VAULT_SKIP_VERIFY=` as "skip".
                ambient_vault.push(k);
            } else if let Some(key) = k.strip_prefix(ENV_PREFIX)
                // An empty variable means "unset", as shells and compose files write it.
                && !v.is_empty()
            {
                vars.insert(key.to_ascii_lowercase(), v);
            }
        }
        let figment = figment.merge(Serialized::globals(vars));
        let mut problems = Findings::default();
        let mut from_files = std::collections::BTreeMap::new();
        for key in SECRET_FILE_KEYS {
            let file_key = format!("{key}_file");
            let Some(path) = figment.find_value(&file_key).ok().and_then(|v| v.into_string()) else { continue };
            let (name, file_name) = (env_name(key), env_name(&file_key));
            if figment.contains(key) {
                problems.problem(format!("set one of {name} and {file_name}, not both"));
                continue;
            }
            match read_secret_file(Path::new(&path)) {
                Ok(value) => {
                    from_files.insert(key.to_owned(), value);
                }
                Err(e) => problems.problem(format!("{file_name} ({path}): {e}")),
            }
        }
        problems.finish()?;
        Ok(Self { figment: figment.merge(Serialized::globals(from_files)), ambient_vault })
    }

    /// Extracts one section. Values from the environment are strings;
    /// numbers and booleans are parsed leniently (`"8"` → 8, `"true"` → true).
    pub fn section<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.figment.extract_lossy().map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// The Vault section, with the ambient `VAULT_*` trust variables noted.
    pub fn vault(&self) -> Result<VaultConfig, ConfigError> {
        let mut vault: VaultConfig = self.section()?;
        vault.ambient_tls_env = self.ambient_vault.clone();
        Ok(vault)
    }
}

/// `database_url` → `CLOUDCONN_DATABASE_URL`.
fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// A secret from a file: its content without the trailing newline that
/// editors and `echo` add. An empty file is an error, not an empty secret.
pub fn read_secret_file(path: &Path) -> Result<String, String> {
    let content = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let value = content.strip_suffix('\n').map(|v| v.strip_suffix('\r').unwrap_or(v)).unwrap_or(&content);
    if value.is_empty() {
        return Err("the file is empty".into());
    }
    Ok(value.to_owned())
}

/// Shorthand: load the sources and extract one section.
pub fn load<T: DeserializeOwned>(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    Source::load(file, env)?.section()
}

/// A configuration that cannot be used. The message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// What a validation found: every problem (reported together, so one start
/// shows them all) and the plaintext endpoints allowed only because
/// `CLOUDCONN_ALLOW_INSECURE_TRANSPORT=true`.
#[derive(Debug, Default)]
pub struct Findings {
    problems: Vec<String>,
    /// (variable, `scheme://host:port`): never the credentials or the path.
    plaintext: Vec<(String, String)>,
}

impl Findings {
    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    /// Records the error of a check that stops at its first problem.
    pub fn check(&mut self, result: Result<(), ConfigError>) {
        if let Err(ConfigError::Invalid(message)) = result {
            self.problems.push(message);
        }
    }

    /// Checks that `value` of `variable`, a URL, uses `secure` rather than
    /// `plain` (https/http, amqps/amqp) unless its host is this machine.
    /// Unparsable values and other schemes are left to the section's own check.
    pub fn transport(&mut self, policy: &TransportConfig, variable: &str, value: &str, secure: &str, plain: &str) {
        let Ok(url) = url::Url::parse(value) else { return };
        if url.scheme() != plain || is_loopback(&url) {
            return;
        }
        let host = url.host_str().unwrap_or_default();
        let endpoint = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let problem =
            format!("{variable} uses {plain}:// to {endpoint}, which sends secrets unencrypted: use {secure}://");
        self.insecure(policy, variable, &format!("{plain}://{endpoint}"), problem);
    }

    /// A plaintext `endpoint` that `variable` configures: a problem, unless
    /// the operator allowed plaintext (then a warning at [`Findings::finish`]).
    pub fn insecure(&mut self, policy: &TransportConfig, variable: &str, endpoint: &str, problem: String) {
        if policy.allow_insecure_transport {
            self.plaintext.push((variable.to_owned(), endpoint.to_owned()));
        } else {
            self.problems.push(format!(
                "{problem} (or, for a network that is encrypted underneath, set CLOUDCONN_ALLOW_INSECURE_TRANSPORT=true)"
            ));
        }
    }

    /// Every problem in one error; or, when there is none, a warning for
    /// each plaintext endpoint that was allowed.
    pub fn finish(self) -> Result<(), ConfigError> {
        if !self.problems.is_empty() {
            return Err(ConfigError::Invalid(self.problems.join("; ")));
        }
        for (variable, endpoint) in &self.plaintext {
            tracing::warn!(
                variable = %variable,
                endpoint = %endpoint,
                "INSECURE TRANSPORT ALLOWED (CLOUDCONN_ALLOW_INSECURE_TRANSPORT=true): {variable} talks to {endpoint} \
                 unencrypted; secrets and tokens on this connection can be read by anyone on the network path"
            );
        }
        Ok(())
    }
}

/// Whether `url` points at this machine: `localhost`, 127.0.0.0/8 or ::1.
/// Traffic to it never leaves the host (a sidecar, a Vault Agent).
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        // For schemes the URL standard does not know (`amqp`), the host is
        // left as text, addresses included.
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.eq_ignore_ascii_case("localhost.")
                || d.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether production may talk to its dependencies in plaintext.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TransportConfig {
    /// `CLOUDCONN_ALLOW_INSECURE_TRANSPORT`: `true` lets production use
    /// `http://` (Vault, JWKS) and `amqp://` to hosts other than this
    /// machine, with a warning at start naming each. Default `false`: only
    /// loopback may be plaintext. Only for a network encrypted underneath
    /// (a service mesh with mTLS, WireGuard).
    #[serde(default)]
    pub allow_insecure_transport: bool,
}

/// Vault / OpenBao: where credential values live (KV v2).
#[derive(Debug, Clone, Deserialize)]
pub struct VaultConfig {
    /// `CLOUDCONN_VAULT_ADDR`: base URL, e.g. `http://127.0.0.1:8200`.
    #[serde(default)]
    pub vault_addr: Option<String>,
    /// `CLOUDCONN_VAULT_TOKEN`: token with the server (read-write under the
    /// prefix) or worker (read-only) policy.
    #[serde(default)]
    pub vault_token: Option<SecretString>,
    /// `CLOUDCONN_VAULT_ROLE_ID`, `CLOUDCONN_VAULT_SECRET_ID`: AppRole login
    /// instead of a token (the token it yields is renewed, and the login
    /// repeated when renewal is refused).
    #[serde(default)]
    pub vault_role_id: Option<SecretString>,
    #[serde(default)]
    pub vault_secret_id: Option<SecretString>,
    /// `CLOUDCONN_VAULT_APPROLE_MOUNT`: where AppRole is mounted, default `approle`.
    #[serde(default = "default_approle_mount")]
    pub vault_approle_mount: String,
    /// `CLOUDCONN_VAULT_MOUNT`: KV v2 mount, default `secret`.
    #[serde(default = "default_vault_mount")]
    pub vault_mount: String,
    /// `CLOUDCONN_VAULT_PREFIX`: path prefix under the mount, default `cloudconn`.
    #[serde(default = "default_vault_prefix")]
    pub vault_prefix: String,
    /// `CLOUDCONN_VAULT_TOKEN_FILE`: a file holding the token (a Vault Agent
    /// sink), instead of `CLOUDCONN_VAULT_TOKEN`. Read at start, and again
    /// whenever Vault refuses the token (401/403) and before each renewal,
    /// so a token the Agent replaced is picked up without a restart.
    #[serde(default)]
    pub vault_token_file: Option<PathBuf>,
    /// `CLOUDCONN_VAULT_CA_CERT`: PEM bundle of the CAs that may sign the
    /// Vault server's certificate (added to the system roots). The only
    /// source of extra trust: `VAULT_CACERT`, `VAULT_CAPATH` and
    /// `VAULT_CLIENT_CERT`/`KEY` are ignored.
    #[serde(default)]
    pub vault_ca_cert: Option<PathBuf>,
    /// Which of [`AMBIENT_VAULT_TLS_VARS`] the environment set (see
    /// [`Source::vault`]); validation refuses `VAULT_SKIP_VERIFY`.
    #[serde(skip)]
    pub ambient_tls_env: Vec<String>,
}

impl Default for VaultConfig {
    fn default() -> Self {
        Self {
            vault_addr: None,
            vault_token: None,
            vault_role_id: None,
            vault_secret_id: None,
            vault_approle_mount: default_approle_mount(),
            vault_mount: default_vault_mount(),
            vault_prefix: default_vault_prefix(),
            vault_token_file: None,
            vault_ca_cert: None,
            ambient_tls_env: Vec::new(),
        }
    }
}

fn default_approle_mount() -> String {
    "approle".into()
}
fn default_vault_mount() -> String {
    "secret".into()
}
fn default_vault_prefix() -> String {
    "cloudconn".into()
}

impl VaultConfig {
    /// Checks what can be checked without connecting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let addr = self
            .vault_addr
            .as_deref()
            .ok_or_else(|| ConfigError::Invalid("CLOUDCONN_VAULT_ADDR is required".into()))?;
        let url = url::Url::parse(addr)
            .map_err(|e| ConfigError::Invalid(format!("CLOUDCONN_VAULT_ADDR is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid("CLOUDCONN_VAULT_ADDR must be http:// or https://".into()));
        }
        if self.vault_token.is_some() && self.vault_token_file.is_some() {
            return Err(ConfigError::Invalid(
                "set one of CLOUDCONN_VAULT_TOKEN and CLOUDCONN_VAULT_TOKEN_FILE, not both".into(),
            ));
        }
        let token = self.vault_token.is_some() || self.vault_token_file.is_some();
        match (token, &self.vault_role_id, &self.vault_secret_id) {
            (true, None, None) | (false, Some(_), Some(_)) => {}
            (true, _, _) => {
                return Err(ConfigError::Invalid(
                    "set CLOUDCONN_VAULT_TOKEN (or CLOUDCONN_VAULT_TOKEN_FILE) or CLOUDCONN_VAULT_ROLE_ID + \
                     CLOUDCONN_VAULT_SECRET_ID, not both"
                        .into(),
                ));
            }
            _ => {
                return Err(ConfigError::Invalid(
                    "CLOUDCONN_VAULT_TOKEN or CLOUDCONN_VAULT_TOKEN_FILE (or CLOUDCONN_VAULT_ROLE_ID + \
                     CLOUDCONN_VAULT_SECRET_ID) is required"
                        .into(),
                ));
            }
        }
        if let Some(path) = &self.vault_ca_cert {
            match std::fs::read_to_string(path) {
                Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {}
                Ok(_) => {
                    return Err(ConfigError::Invalid(format!(
                        "CLOUDCONN_VAULT_CA_CERT ({}) holds no PEM certificate",
                        path.display()
                    )));
                }
                Err(e) => {
                    return Err(ConfigError::Invalid(format!("CLOUDCONN_VAULT_CA_CERT ({}): {e}", path.display())));
                }
            }
        }
        for (name, value) in
            [("CLOUDCONN_VAULT_MOUNT", &self.vault_mount), ("CLOUDCONN_VAULT_PREFIX", &self.vault_prefix)]
        {
            let ok = !value.is_empty()
                && value.split('/').all(|seg| {
                    !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                });
            if !ok {
                return Err(ConfigError::Invalid(format!("{name} must be path segments of [A-Za-z0-9._-]")));
            }
        }
        Ok(())
    }

    /// What production adds to [`VaultConfig::validate`]: TLS to Vault
    /// (unless loopback or allowed), and no ambient `VAULT_SKIP_VERIFY`.
    pub fn validate_transport(&self, policy: &TransportConfig, found: &mut Findings) {
        if let Some(addr) = &self.vault_addr {
            found.transport(policy, "CLOUDCONN_VAULT_ADDR", addr, "https", "http");
        }
        if self.ambient_tls_env.iter().any(|v| v == "VAULT_SKIP_VERIFY") {
            found.problem(
                "VAULT_SKIP_VERIFY is set in the environment: cloudconn always verifies Vault's certificate and \
                 refuses to start while it is set; unset it (for a private CA, set CLOUDCONN_VAULT_CA_CERT)",
            );
        }
        for ignored in self.ambient_tls_env.iter().filter(|v| *v != "VAULT_SKIP_VERIFY") {
            tracing::warn!(variable = %ignored, "{ignored} is set but ignored: Vault trust comes only from CLOUDCONN_VAULT_CA_CERT");
        }
    }
}

/// RabbitMQ: jobs, results and public events.
#[derive(Debug, Clone, Deserialize)]
pub struct AmqpConfig {
    /// `CLOUDCONN_AMQP_URL`, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    #[serde(default)]
    pub amqp_url: Option<SecretString>,
    /// `CLOUDCONN_AMQP_PREFIX`: prefix of every exchange and queue, default `cloudconn`.
    #[serde(default = "default_amqp_prefix")]
    pub amqp_prefix: String,
    /// `CLOUDCONN_AMQP_CA_CERT`: PEM CA bundle that signs the broker's
    /// certificate for `amqps://`, trusted besides the public web roots.
    #[serde(default)]
    pub amqp_ca_cert: Option<std::path::PathBuf>,
}

fn default_amqp_prefix() -> String {
    "cloudconn".into()
}

impl Default for AmqpConfig {
    fn default() -> Self {
        Self { amqp_url: None, amqp_prefix: default_amqp_prefix(), amqp_ca_cert: None }
    }
}

impl AmqpConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.amqp_url.is_none() {
            return Err(ConfigError::Invalid("CLOUDCONN_AMQP_URL is required".into()));
        }
        let ok = !self.amqp_prefix.is_empty()
            && self.amqp_prefix.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(ConfigError::Invalid("CLOUDCONN_AMQP_PREFIX must be [A-Za-z0-9._-]+".into()));
        }
        Ok(())
    }

    /// What production adds to [`AmqpConfig::validate`]: `amqps://` unless
    /// the broker is on this machine or plaintext is allowed.
    pub fn validate_transport(&self, policy: &TransportConfig, found: &mut Findings) {
        use secrecy::ExposeSecret;
        if let Some(url) = &self.amqp_url {
            found.transport(policy, "CLOUDCONN_AMQP_URL", url.expose_secret(), "amqps", "amqp");
        }
    }

    pub fn topology(&self) -> crate::amqp::topology::Topology {
        crate::amqp::topology::Topology::new(&self.amqp_prefix)
    }

    /// Reads `CLOUDCONN_AMQP_CA_CERT`, if set, and trusts it for every
    /// `amqps://` connection this process opens. Call once at start.
    pub fn install_trust(&self) -> Result<(), ConfigError> {
        let Some(path) = &self.amqp_ca_cert else { return Ok(()) };
        let pem = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Invalid(format!("CLOUDCONN_AMQP_CA_CERT {}: {e}", path.display())))?;
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(ConfigError::Invalid(format!(
                "CLOUDCONN_AMQP_CA_CERT {} holds no PEM certificate",
                path.display()
            )));
        }
        crate::amqp::trust_ca(pem);
        Ok(())
    }
}

/// How long any single call to PostgreSQL, Vault or RabbitMQ may take before
/// the caller gets `UNAVAILABLE` (DESIGN.md §5: well under a caller's deadline).
#[derive(Debug, Clone, Deserialize)]
pub struct TimeoutConfig {
    /// `CLOUDCONN_DEPENDENCY_TIMEOUT_MS`, default 5000.
    #[serde(default = "default_dependency_timeout_ms")]
    pub dependency_timeout_ms: u64,
}

fn default_dependency_timeout_ms() -> u64 {
    5_000
}

impl TimeoutConfig {
    pub fn dependency_timeout(&self) -> Duration {
        Duration::from_millis(self.dependency_timeout_ms.max(1))
    }
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        Self { dependency_timeout_ms: default_dependency_timeout_ms() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Both {
        vault: VaultConfig,
        timeouts: TimeoutConfig,
    }

    fn load(file: Option<&Path>, env: Vec<(String, String)>) -> Result<Both, ConfigError> {
        let source = Source::load(file, env)?;
        Ok(Both { vault: source.section()?, timeouts: source.section()? })
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn environment_overrides_defaults_and_ignores_other_prefixes() {
        let c = load(
            None,
            env(&[
                ("CLOUDCONN_VAULT_ADDR", "http://127.0.0.1:8200"),
                ("CLOUDCONN_VAULT_MOUNT", "kv"),
                ("CLOUDCONN_DEPENDENCY_TIMEOUT_MS", "1500"),
                ("VAULT_ADDR", "http://elsewhere:1"),
            ]),
        )
        .unwrap();
        assert_eq!(c.vault.vault_addr.as_deref(), Some("http://127.0.0.1:8200"));
        assert_eq!(c.vault.vault_mount, "kv");
        assert_eq!(c.vault.vault_prefix, "cloudconn");
        assert_eq!(c.timeouts.dependency_timeout(), Duration::from_millis(1500));
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = std::env::temp_dir().join(format!("cc-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "vault_mount = \"fromfile\"\nvault_prefix = \"p\"\n").unwrap();
        let c = load(Some(&file), env(&[("CLOUDCONN_VAULT_PREFIX", "q")])).unwrap();
        assert_eq!(c.vault.vault_mount, "fromfile");
        assert_eq!(c.vault.vault_prefix, "q");
    }

    #[test]
    fn a_bad_number_names_the_key() {
        let err = load(None, env(&[("CLOUDCONN_DEPENDENCY_TIMEOUT_MS", "soon")])).unwrap_err();
        assert!(err.to_string().contains("dependency_timeout_ms"), "{err}");
    }

    #[test]
    fn loopback_hosts_whatever_the_scheme() {
        for url in [
            "http://127.0.0.1:8200",
            "http://127.9.9.9",
            "http://localhost:8200",
            "http://[::1]:8200",
            "amqp://u:p@127.0.0.1:5672/%2f",
            "amqp://LOCALHOST:5672",
            "amqp://[::1]:5672",
        ] {
            assert!(is_loopback(&url::Url::parse(url).unwrap()), "{url}");
        }
        for url in [
            "http://10.0.0.1",
            "http://vault.vault.svc:8200",
            "amqp://mq:5672",
            "amqp://128.0.0.1",
            "http://localhost.evil",
        ] {
            assert!(!is_loopback(&url::Url::parse(url).unwrap()), "{url}");
        }
    }

    #[test]
    fn vault_validation_names_the_variable() {
        let c = load(None, env(&[("CLOUDCONN_VAULT_ADDR", "not a url")])).unwrap();
        assert!(c.vault.validate().unwrap_err().to_string().contains("CLOUDCONN_VAULT_ADDR"));
        let c = load(None, env(&[("CLOUDCONN_VAULT_ADDR", "http://x:1"), ("CLOUDCONN_VAULT_PREFIX", "../x")])).unwrap();
        assert!(c.vault.validate().unwrap_err().to_string().contains("CLOUDCONN_VAULT_TOKEN"));
    }
}
