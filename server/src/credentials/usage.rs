//! Recording every issue (cache hits included): an audit row and its event,
//! and the consumer's `last_used_time` on the connection — before the caller
//! gets the credentials, so nothing is handed out unrecorded.
//!
//! Group commit: callers queue their record and wait; one writer takes
//! whatever is queued (up to [`BATCH`]) and writes it in one transaction.
//! Under load many callers share a commit instead of each paying for one,
//! and alone a caller waits for just its own. The queue is bounded: when
//! the database falls behind, callers wait for room for a while, then are
//! told UNAVAILABLE.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    error::AppError,
    store::{audit, consumers, outbox},
};

/// Records one transaction holds at most.
const BATCH: usize = 256;
/// Records waiting for the writer at most.
const QUEUE: usize = 4096;
/// How long a caller waits for room in the queue.
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// How often rows past the 30-day window are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// One issue, as recorded. Never the credentials.
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
    /// Served from the cache (no provider call).
    pub cached: bool,
}

type Done = oneshot::Sender<Result<(), &'static str>>;

#[derive(Clone)]
pub struct UsageLog {
    queue: mpsc::Sender<(Usage, Done)>,
}

pub struct UsageWriter {
    queue: mpsc::Receiver<(Usage, Done)>,
    db: DatabaseConnection,
    /// The outbox relay's wake-up, poked after each commit.
    wake: Arc<Notify>,
}

impl UsageLog {
    pub fn new(db: DatabaseConnection, wake: Arc<Notify>) -> (Self, UsageWriter) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Self { queue: tx }, UsageWriter { queue: rx, db, wake })
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
        loop {
            let first = tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = prune.tick() => {
                    if let Err(e) = consumers::prune(&self.db).await {
                        tracing::warn!(error = %e, "pruning old consumer records failed");
                    }
                    continue;
                }
                next = self.queue.recv() => match next { Some(next) => next, None => break },
            };
            self.write_batch(first).await;
        }
        // Callers already queued are answered: written if the database lets us.
        self.queue.close();
        while let Some(next) = self.queue.recv().await {
            self.write_batch(next).await;
        }
        Ok(())
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
                "cached": usage.cached,
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
