//! Configuration loading, and the sections both binaries use.
//!
//! Sources are layered: compiled-in defaults (serde `default`s on each
//! struct), then an optional TOML file, then `CLOUDCONN_*` environment
//! variables. A variable `CLOUDCONN_VAULT_ADDR` sets the key `vault_addr`; the
//! TOML file uses the same lower-case keys. The variable names are a contract
//! (docs/configuration.md): rename none.
//!
//! The loader takes the environment as an argument instead of reading the
//! process's own, so tests can load a configuration without `set_var` (unsafe
//! in Rust 2024, and racy between parallel tests).

use std::{path::Path, time::Duration};

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use serde::{Deserialize, de::DeserializeOwned};

mod amqp;
mod oidc;
mod transport;
mod vault;

pub use amqp::AmqpConfig;
pub use oidc::OidcConfig;
pub use transport::{Findings, TransportConfig, is_loopback};
pub use vault::VaultConfig;

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

/// Whether `value` is a Vault path cloudconn may name in a policy or a
/// URL: `/`-separated segments of `[A-Za-z0-9._-]`, none empty.
fn is_vault_path(value: &str) -> bool {
    !value.is_empty()
        && value.split('/').all(|seg| {
            !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
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

/// How long any single call to PostgreSQL, Vault or RabbitMQ may take before
/// the caller gets `UNAVAILABLE` (well under a caller's deadline; docs/api.md).
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
