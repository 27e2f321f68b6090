//! The outbox relay: publishes committed outbox rows, marked sent in the
//! same transaction.
//!
//! 1. In a transaction, claim a batch of unsent rows and mark them sent
//!    (one statement; `FOR UPDATE SKIP LOCKED`).
//! 2. Publish them all and wait for every confirm.
//! 3. Commit; or roll back if the broker did not take them all.
//!
//! A crash before 3 republishes the batch: delivery is at least once, and
//! each message keeps its id for de-duplication.
//!
//! A row the broker refuses on its own (an unroutable job, a message over a
//! size policy) must not hold every row behind it: when a batch is refused,
//! its rows are published one by one; those refused alone go back unsent
//! with the refusal counted, and one refused at least [`MIN_REFUSALS`]
//! times over more than [`PARK_AFTER`] is parked for an operator (logged,
//! and counted by `cloudconn_outbox_parked`). An unreachable broker is not
//! a refusal: the batch rolls back and nothing is counted. A full batch
//! loops at once; otherwise the relay sleeps until a local commit wakes it
//! or the poll interval passes (rows from other replicas, or left over).

use std::{pin::Pin, sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{Notify, futures::Notified};
use tokio_util::sync::CancellationToken;

use cloudconn_infra::amqp::publisher::PublishError;

use super::broker::Broker;
use crate::store::outbox;

/// Longest back-off after repeated failures (broker or database down).
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A row is parked after this many refusals of its own…
const MIN_REFUSALS: i32 = 5;
/// …spread over at least this long: a queue that is full for a while
/// (reject-publish) refuses everything, and must not get rows parked.
const PARK_AFTER: Duration = Duration::from_secs(600);

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
        let n = match self.broker.publish_all(&rows).await {
            Ok(()) => rows.len(),
            Err(PublishError::Refused(why)) => {
                tracing::warn!(reason = %why, rows = rows.len(), "the broker refused a batch; publishing it row by row");
                let mut refused = Vec::new();
                for row in &rows {
                    match self.broker.publish_all(std::slice::from_ref(row)).await {
                        Ok(()) => {}
                        Err(PublishError::Refused(why)) => {
                            tracing::warn!(message_id = %row.id, routing_key = %row.routing_key, reason = %why, "outbox row refused");
                            refused.push(row.id);
                        }
                        Err(outage) => return Err(outage.into()),
                    }
                }
                let park_after = chrono::Duration::from_std(PARK_AFTER)?;
                for id in outbox::refused(&txn, &refused, MIN_REFUSALS, park_after).await? {
                    tracing::error!(message_id = %id, "outbox row refused for {} min; parked, not retried", PARK_AFTER.as_secs() / 60);
                }
                rows.len() - refused.len()
            }
            Err(outage) => return Err(outage.into()),
        };
        txn.commit().await?;
        tracing::debug!(published = n, "outbox rows published");
        Ok(n)
    }
}
