//! Retention: deletes published outbox rows once they are older than the
//! retention, validations beyond the newest [`VALIDATIONS_KEPT`] of each
//! connection, and audit rows older than the audit retention (the trail is
//! kept long, but not forever: its rows come from every change and every
//! first receipt of credentials).
//!
//! The relay marks rows sent rather than deleting them, so an operator can
//! still see what was published (and when) while investigating; without
//! this loop the table would grow with every change forever. Each delete is
//! a bounded batch ([`BATCH`]), repeated until nothing is left, so a pass
//! after a long pause never holds one huge delete.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::store::{audit, outbox, validations};

/// Rows one statement deletes at most.
const BATCH: u64 = 1000;
/// Validations kept per connection: its recent history (the current one is
/// always the newest).
pub const VALIDATIONS_KEPT: u64 = 20;

pub struct Pruner {
    pub db: DatabaseConnection,
    pub retention: Duration,
    pub audit_retention: Duration,
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
        let sent = in_batches(|| outbox::prune(&self.db, cutoff, BATCH)).await?;
        let history = in_batches(|| validations::prune_history(&self.db, VALIDATIONS_KEPT, BATCH)).await?;
        let audit_cutoff =
            chrono::Utc::now() - chrono::Duration::from_std(self.audit_retention).unwrap_or(chrono::Duration::MAX);
        let audited = in_batches(|| audit::prune(&self.db, audit_cutoff, BATCH)).await?;
        if sent + history + audited > 0 {
            tracing::debug!(sent, history, audited, "published outbox rows, old validations and audit rows pruned");
        }
        Ok(sent + history + audited)
    }
}

/// Runs a bounded delete until it deletes less than a full batch.
async fn in_batches<F, Fut>(mut delete: F) -> Result<u64, sea_orm::DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, sea_orm::DbErr>>,
{
    let mut total = 0;
    loop {
        let deleted = delete().await?;
        total += deleted;
        if deleted < BATCH {
            return Ok(total);
        }
    }
}
