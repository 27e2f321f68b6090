//! The worker's configuration (DESIGN.md §7).

use cloudconn_infra::config::{ConfigError, Source, TimeoutConfig, VaultConfig};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct WorkerConfig {
    /// `CLOUDCONN_WORKER_CONCURRENCY`: probes in flight at once, default 32.
    #[serde(default = "default_concurrency")]
    pub worker_concurrency: usize,
    /// The `CLOUDCONN_VAULT_*` section (read-only token).
    #[serde(skip)]
    pub vault: VaultConfig,
    #[serde(skip)]
    pub timeouts: TimeoutConfig,
}

fn default_concurrency() -> usize {
    32
}

impl WorkerConfig {
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let source = Source::load(file, std::env::vars())?;
        let mut config: Self = source.section()?;
        config.vault = source.section()?;
        config.timeouts = source.section()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.worker_concurrency == 0 {
            return Err(ConfigError::Invalid("CLOUDCONN_WORKER_CONCURRENCY must be at least 1".into()));
        }
        self.vault.validate()
    }
}
