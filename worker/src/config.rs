//! The worker's configuration (DESIGN.md §7).

use std::time::Duration;

use cloudconn_infra::config::{AmqpConfig, ConfigError, Source, TimeoutConfig, VaultConfig};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct WorkerConfig {
    /// `CLOUDCONN_WORKER_CONCURRENCY`: probes in flight at once, default 32.
    #[serde(default = "default_concurrency")]
    pub worker_concurrency: usize,
    /// `CLOUDCONN_PROBE_TIMEOUT_MS`: bound on one probe attempt, default 20000.
    #[serde(default = "default_probe_timeout_ms")]
    pub probe_timeout_ms: u64,
    /// `CLOUDCONN_PROBE_ATTEMPTS`: attempts for retryable failures, default 3.
    #[serde(default = "default_probe_attempts")]
    pub probe_attempts: u32,
    /// `CLOUDCONN_PROBE_RETRY_BASE_MS`: first back-off between attempts
    /// (doubling), default 1000.
    #[serde(default = "default_retry_base_ms")]
    pub probe_retry_base_ms: u64,
    /// The `CLOUDCONN_AMQP_*` section.
    #[serde(skip)]
    pub amqp: AmqpConfig,
    /// The `CLOUDCONN_VAULT_*` section (read-only token).
    #[serde(skip)]
    pub vault: VaultConfig,
    #[serde(skip)]
    pub timeouts: TimeoutConfig,
}

fn default_concurrency() -> usize {
    32
}
fn default_probe_timeout_ms() -> u64 {
    20_000
}
fn default_probe_attempts() -> u32 {
    3
}
fn default_retry_base_ms() -> u64 {
    1_000
}

impl WorkerConfig {
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        Self::from_source(&Source::load(file, std::env::vars())?)
    }

    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let mut config: Self = source.section()?;
        config.amqp = source.section()?;
        config.vault = source.section()?;
        config.timeouts = source.section()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.worker_concurrency == 0 {
            return Err(ConfigError::Invalid("CLOUDCONN_WORKER_CONCURRENCY must be at least 1".into()));
        }
        if self.probe_attempts == 0 {
            return Err(ConfigError::Invalid("CLOUDCONN_PROBE_ATTEMPTS must be at least 1".into()));
        }
        self.amqp.validate()?;
        self.vault.validate()
    }

    pub fn probe_timeout(&self) -> Duration {
        Duration::from_millis(self.probe_timeout_ms.max(1))
    }

    /// Back-off before attempt `attempt + 1`.
    pub fn retry_backoff(&self, attempt: u32) -> Duration {
        Duration::from_millis(self.probe_retry_base_ms) * 2u32.saturating_pow(attempt.saturating_sub(1).min(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_every_documented_variable() {
        let env = [
            ("CLOUDCONN_WORKER_CONCURRENCY", "7"),
            ("CLOUDCONN_PROBE_TIMEOUT_MS", "1500"),
            ("CLOUDCONN_PROBE_ATTEMPTS", "4"),
            ("CLOUDCONN_PROBE_RETRY_BASE_MS", "10"),
            ("CLOUDCONN_AMQP_URL", "amqp://127.0.0.1:5672/%2f"),
            ("CLOUDCONN_AMQP_PREFIX", "w"),
            ("CLOUDCONN_VAULT_ADDR", "http://127.0.0.1:8200"),
            ("CLOUDCONN_VAULT_TOKEN", "t"),
        ];
        let source = Source::load(None, env.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap();
        let c = WorkerConfig::from_source(&source).unwrap();
        c.validate().unwrap();
        assert_eq!(c.worker_concurrency, 7);
        assert_eq!(c.probe_timeout(), Duration::from_millis(1500));
        assert_eq!(c.probe_attempts, 4);
        assert_eq!(c.retry_backoff(1), Duration::from_millis(10));
        assert_eq!(c.retry_backoff(3), Duration::from_millis(40));
        assert_eq!(c.amqp.amqp_prefix, "w");
    }
}
