//! The outbox relay: publishes committed outbox rows, marked sent in the
//! same transaction.
//!
//! 1. In a transaction, claim a batch of unsent rows and mark them sent
//!    (one statement; `FOR UPDATE SKIP LOCKED`).
//! 2. Publish them all and wait for every confirm.
//! 3. Commit; or roll back if the broker did not take them all.
//!
//! A crash before 3 republishes the batch: delivery is at least once, and
//! each message keeps its id for de-duplication. A full batch
//! loops at once; otherwise the relay sleeps until a local commit wakes it
//! or the poll interval passes (rows from other replicas, or left over).

use std::{pin::Pin, sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{Notify, futures::Notified};
use tokio_util::sync::CancellationToken;

use super::broker::Broker;
use crate::store::outbox;

/// Longest back-off after repeated failures (broker or database down).
const MAX_BACKOFF: Duration = Duration::from_secs(10);

pub struct Relay {
    pub db: DatabaseConnection,
    pub broker: Arc<dyn Broker>,
    /// Poked after every commit that wrote outbox rows.
    pub wake: Arc<Notify>,
    pub poll: Duration,
    /// Rows per transaction.
    pub batch: u64,
}

impl Relay {
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut failures = 0u32;
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            let wait = match self.pass(notified.as_mut()).await {
                Ok(n) if n as u64 == self.batch => {
                    failures = 0;
                    continue;
                }
                Ok(_) => {
                    failures = 0;
                    self.poll
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = format!("{e:#}"), failures, "outbox relay pass failed");
                    (Duration::from_millis(100) * 2u32.saturating_pow(failures.min(8))).min(MAX_BACKOFF)
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = &mut notified, if failures == 0 => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One claim → publish → commit round. Returns the rows published.
    /// `notified` is armed just before the claim (see below).
    pub async fn pass<'a>(&'a self, mut notified: Pin<&mut Notified<'a>>) -> anyhow::Result<usize> {
        let txn = self.db.begin().await?;
        // Listen for commits from here on, just before the claim reads the
        // table: a commit that lands while it runs wakes the next wait. A
        // permit left by an earlier commit is stale, since the claim sees
        // that commit's rows; keeping it woke an empty pass (BEGIN, claim,
        // ROLLBACK) after most busy ones.
        if notified.as_mut().enable() {
            notified.set(self.wake.notified());
            notified.as_mut().enable();
        }
        let rows = outbox::claim(&txn, self.batch).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        // On error the transaction is dropped: rolled back, rows unsent.
        self.broker.publish_all(&rows).await?;
        let n = rows.len();
        txn.commit().await?;
        tracing::debug!(published = n, "outbox rows published");
        Ok(n)
    }
}
