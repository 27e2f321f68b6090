//! Retries the destruction of deleted connections' secrets until it succeeds.
//!
//! `DeleteConnection` queues a purge in its transaction and tries the destroy
//! at once; this loop handles whatever that attempt could not (Vault down,
//! the server stopped in between). Destroy is idempotent, so two replicas
//! working the same row only repeat harmless work.

use std::{sync::Arc, time::Duration};

use cloudconn_infra::secrets::{SecretPath, SecretStore};
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::store::{self, purges};

/// Rows handled per pass.
const BATCH: u64 = 100;
/// Longest wait between attempts for one path.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

pub struct PurgeRetrier {
    pub db: DatabaseConnection,
    pub secrets: Arc<dyn SecretStore>,
    /// Time between passes over the queue.
    pub interval: Duration,
}

impl PurgeRetrier {
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        cloudconn_infra::shutdown::every(self.interval, &shutdown, "secret purge pass", || self.pass()).await
    }

    /// One pass over the due purges. Public so tests can drive it.
    pub async fn pass(&self) -> Result<usize, sea_orm::DbErr> {
        let due = purges::due(&self.db, store::now(), BATCH).await?;
        let mut done = 0;
        for purge in due {
            let path = SecretPath { workspace: purge.workspace.clone(), uid: purge.connection_id.to_string() };
            match self.secrets.destroy(&path).await {
                Ok(()) => {
                    purges::complete(&self.db, purge.connection_id).await?;
                    done += 1;
                    tracing::info!(connection = %purge.connection_id, "deleted connection's secrets destroyed");
                }
                Err(e) => {
                    let wait = backoff(purge.attempts);
                    let next = store::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
                    purges::failed(&self.db, purge.connection_id, &e.to_string(), next).await?;
                    tracing::warn!(connection = %purge.connection_id, attempts = purge.attempts + 1, error = %e, "secret purge failed; will retry");
                }
            }
        }
        Ok(done)
    }
}

/// 1 s, 2 s, 4 s, … capped at [`MAX_BACKOFF`].
fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(1u64 << exp).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(50), MAX_BACKOFF);
        assert_eq!(backoff(-1), Duration::from_secs(1));
    }
}
