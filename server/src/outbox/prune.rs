//! Deletes published outbox rows once they are older than the retention.
//!
//! The relay marks rows sent rather than deleting them, so an operator can
//! still see what was published (and when) while investigating; without
//! this loop the table would grow with every change forever.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::store::outbox;

pub struct Pruner {
    pub db: DatabaseConnection,
    pub retention: Duration,
}

impl Pruner {
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Often enough that the table never holds much more than the
        // retention's worth, rarely enough to cost nothing.
        let every = (self.retention / 4).clamp(Duration::from_millis(50), Duration::from_secs(600));
        cloudconn_infra::shutdown::every(every, &shutdown, "pruning the outbox", || self.pass()).await
    }

    /// Deletes what is past the retention; returns how many rows.
    pub async fn pass(&self) -> Result<u64, sea_orm::DbErr> {
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX);
        let deleted = outbox::prune(&self.db, cutoff).await?;
        if deleted > 0 {
            tracing::debug!(deleted, "published outbox rows pruned");
        }
        Ok(deleted)
    }
}
