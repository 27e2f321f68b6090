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

use std::{path::Path, time::Duration};

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, de::DeserializeOwned};

/// Prefix of every environment variable cloudconn reads.
pub const ENV_PREFIX: &str = "CLOUDCONN_";

/// The merged configuration sources. Each binary extracts the sections it
/// needs with [`Source::section`]; sections are separate structs rather than
/// `#[serde(flatten)]`ed into one, because flatten bypasses figment's lenient
/// parsing of environment strings into numbers and booleans.
pub struct Source(Figment);

impl Source {
    /// Reads `file` (if given) and the `CLOUDCONN_*` entries of `env`.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Invalid(format!("config file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file(path));
        }
        let vars: std::collections::BTreeMap<String, String> = env
            .into_iter()
            .filter_map(|(k, v)| k.strip_prefix(ENV_PREFIX).map(|key| (key.to_ascii_lowercase(), v)))
            // An empty variable means "unset", as shells and compose files write it.
            .filter(|(_, v)| !v.is_empty())
            .collect();
        Ok(Self(figment.merge(Serialized::globals(vars))))
    }

    /// Extracts one section. Values from the environment are strings;
    /// numbers and booleans are parsed leniently (`"8"` → 8, `"true"` → true).
    pub fn section<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.0.extract_lossy().map_err(|e| ConfigError::Invalid(e.to_string()))
    }
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
        match (&self.vault_token, &self.vault_role_id, &self.vault_secret_id) {
            (Some(_), None, None) | (None, Some(_), Some(_)) => {}
            (Some(_), _, _) => {
                return Err(ConfigError::Invalid(
                    "set CLOUDCONN_VAULT_TOKEN or CLOUDCONN_VAULT_ROLE_ID + CLOUDCONN_VAULT_SECRET_ID, not both".into(),
                ));
            }
            _ => {
                return Err(ConfigError::Invalid(
                    "CLOUDCONN_VAULT_TOKEN (or CLOUDCONN_VAULT_ROLE_ID + CLOUDCONN_VAULT_SECRET_ID) is required".into(),
                ));
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
}

fn default_amqp_prefix() -> String {
    "cloudconn".into()
}

impl Default for AmqpConfig {
    fn default() -> Self {
        Self { amqp_url: None, amqp_prefix: default_amqp_prefix() }
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

    pub fn topology(&self) -> crate::amqp::topology::Topology {
        crate::amqp::topology::Topology::new(&self.amqp_prefix)
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
    fn vault_validation_names_the_variable() {
        let c = load(None, env(&[("CLOUDCONN_VAULT_ADDR", "not a url")])).unwrap();
        assert!(c.vault.validate().unwrap_err().to_string().contains("CLOUDCONN_VAULT_ADDR"));
        let c = load(None, env(&[("CLOUDCONN_VAULT_ADDR", "http://x:1"), ("CLOUDCONN_VAULT_PREFIX", "../x")])).unwrap();
        assert!(c.vault.validate().unwrap_err().to_string().contains("CLOUDCONN_VAULT_TOKEN"));
    }
}
