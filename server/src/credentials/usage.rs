//! Recording issues (docs/run.md).
//!
//! - **First receipts** (a credential minted for a token subject: the cache
//!   is keyed by subject, so nobody else is ever served it) get an audit
//!   row and its event, and the consumer's `last_used_time` on the
//!   connection, committed before the credentials leave ([`UsageLog::record`]).
//!   Group commit: callers queue their record and wait; one writer takes
//!   whatever is queued (up to [`BATCH`]) and writes it in one transaction.
//!   Under load many callers share a commit instead of each paying for one,
//!   and alone a caller waits for just its own. The queue is bounded: when
//!   the database falls behind, callers wait for room for a while, then are
//!   told UNAVAILABLE.
//! - **Repeat hits** are counted in memory ([`UsageLog::count_hit`],
//!   [`super::hits`]) and the same writer flushes the counts at least every
//!   [`super::hits::FLUSH_EVERY`]: no row, event or wait per hit.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::hits::{FLUSH_EVERY, HitCounts};
use crate::{
    error::AppError,
    store::{
        audit, consumers,
        hits::{self, HitCount, HitKey},
        outbox,
    },
};

/// Records one transaction holds at most.
const BATCH: usize = 256;
/// Records waiting for the writer at most.
const QUEUE: usize = 4096;
/// How long a caller waits for room in the queue.
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// How often rows past the 30-day window are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// One first receipt, as audited. Never the credentials.
#[derive(Debug, Clone)]
pub struct Usage {
    pub workspace: String,
    pub tag: String,
    pub connection_id: Uuid,
    pub actor: String,
    pub consumer: String,
    pub scope: String,
    pub revision: i64,
    pub expire_time: DateTime<Utc>,
}

type Done = oneshot::Sender<Result<(), &'static str>>;

#[derive(Clone)]
pub struct UsageLog {
    queue: mpsc::Sender<(Usage, Done)>,
    hits: Arc<HitCounts>,
}

pub struct UsageWriter {
    queue: mpsc::Receiver<(Usage, Done)>,
    hits: Arc<HitCounts>,
    db: DatabaseConnection,
    /// The outbox relay's wake-up, poked after each commit.
    wake: Arc<Notify>,
}

impl UsageLog {
    pub fn new(db: DatabaseConnection, wake: Arc<Notify>) -> (Self, UsageWriter) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let hits = Arc::new(HitCounts::default());
        (Self { queue: tx, hits: hits.clone() }, UsageWriter { queue: rx, hits, db, wake })
    }

    /// Counts a repeat hit (flushed within [`FLUSH_EVERY`]); never waits.
    pub fn count_hit(&self, key: HitKey) {
        self.hits.count(key);
    }

    /// Records `usage`; returns once it is committed.
    pub async fn record(&self, usage: Usage) -> Result<(), AppError> {
        let (done, committed) = oneshot::channel();
        match tokio::time::timeout(QUEUE_WAIT, self.queue.send((usage, done))).await {
            Ok(Ok(())) => {}
            // Full for too long, or the writer stopped (shutting down).
            _ => return Err(AppError::Unavailable { dependency: "database" }),
        }
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(dependency)) => Err(AppError::Unavailable { dependency }),
            Err(_) => Err(AppError::Unavailable { dependency: "database" }),
        }
    }
}

impl UsageWriter {
    pub async fn run(mut self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let hits = self.hits.clone();
        loop {
            let first = tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = prune.tick() => {
                    self.prune().await;
                    continue;
                }
                _ = flush.tick() => {
                    self.flush_hits().await;
                    continue;
                }
                _ = hits.full.notified() => {
                    self.flush_hits().await;
                    continue;
                }
                next = self.queue.recv() => match next { Some(next) => next, None => break },
            };
            self.write_batch(first).await;
        }
        // Callers already queued are answered: written if the database lets
        // us; and the last counts go with them.
        self.queue.close();
        while let Some(next) = self.queue.recv().await {
            self.write_batch(next).await;
        }
        self.flush_hits().await;
        Ok(())
    }

    async fn prune(&self) {
        if let Err(e) = consumers::prune(&self.db).await {
            tracing::warn!(error = %e, "pruning old consumer records failed");
        }
        if let Err(e) = hits::prune(&self.db).await {
            tracing::warn!(error = %e, "pruning old hit counts failed");
        }
    }

    /// Writes the counts of the hits since the last flush; on failure they
    /// are kept for the next one.
    async fn flush_hits(&self) {
        let (counts, dropped) = self.hits.take();
        if dropped > 0 {
            tracing::warn!(dropped, "credential hits went uncounted: too many keys waited for a flush");
        }
        if counts.is_empty() {
            return;
        }
        if let Err(e) = write_hits(&self.db, &counts).await {
            tracing::warn!(error = %e, keys = counts.len(), "recording credential hit counts failed; kept for the next flush");
            self.hits.restore(counts);
        }
    }

    async fn write_batch(&mut self, first: (Usage, Done)) {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match self.queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let result = write(&self.db, batch.iter().map(|(u, _)| u)).await;
        match &result {
            Ok(()) => self.wake.notify_one(),
            Err(e) => tracing::warn!(error = %e, records = batch.len(), "recording credential issues failed"),
        }
        for (_, done) in batch {
            let _ = done.send(result.as_ref().map(drop).map_err(|_| "database"));
        }
    }
}

async fn write<'a>(db: &DatabaseConnection, batch: impl Iterator<Item = &'a Usage>) -> Result<(), sea_orm::DbErr> {
    let txn = db.begin().await?;
    let mut out = outbox::Pending::default();
    let mut uses: HashMap<(Uuid, String), DateTime<Utc>> = HashMap::new();
    let now = crate::store::now();
    let mut entries = Vec::new();
    for usage in batch {
        entries.push(audit::AuditEntry {
            workspace: &usage.workspace,
            actor: &usage.actor,
            action: "IssueCredentials",
            tag: &usage.tag,
            connection_id: Some(usage.connection_id),
            request_id: None,
            details: serde_json::json!({
                "consumer": usage.consumer,
                "scope": usage.scope,
                "revision": usage.revision,
                "expire_time": usage.expire_time.to_rfc3339_opts(SecondsFormat::Secs, true),
                // Kept for readers of older rows: a first receipt is never
                // served from another subject's entry.
                "cached": false,
            }),
        });
        uses.insert((usage.connection_id, usage.consumer.clone()), now);
    }
    // One statement each for the audit rows, the consumers and (at commit)
    // the events, whatever the batch's size.
    audit::record_many(&txn, &mut out, entries).await?;
    consumers::touch(&txn, &uses).await?;
    outbox::commit(txn, out).await
}

/// One flush: the hit counts, and each consumer's latest use.
async fn write_hits(db: &DatabaseConnection, counts: &HashMap<HitKey, HitCount>) -> Result<(), sea_orm::DbErr> {
    let mut uses: HashMap<(Uuid, String), DateTime<Utc>> = HashMap::new();
    for (key, count) in counts {
        let last = uses.entry((key.connection_id, key.consumer.clone())).or_insert(count.last);
        *last = (*last).max(count.last);
    }
    let txn = db.begin().await?;
    consumers::touch(&txn, &uses).await?;
    hits::add(&txn, counts).await?;
    txn.commit().await
}
