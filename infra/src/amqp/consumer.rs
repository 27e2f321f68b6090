//! A consumer loop that survives broker restarts, with bounded concurrency.
//!
//! lapin does not reconnect, so [`run`] owns the connection: it connects,
//! declares the topology, consumes with manual acks, and on any connection
//! error starts over after a back-off. Each delivery runs in its own task
//! and acks or nacks itself ([`Handler`]).
//!
//! Concurrency: a semaphore permit is taken *before* the next delivery is
//! pulled (mini-redis's pattern), and the channel's prefetch equals the
//! permits, so the broker never pushes more than we will work on.
//!
//! Shutdown: stop taking deliveries, let the tasks in flight finish (they
//! ack what they completed), then close the channel; prefetched deliveries
//! never handed to a task are unacked and go back to the queue. Nothing
//! unfinished is ever acked.

use std::{sync::Arc, time::Duration};

use futures_lite::StreamExt;
use lapin::{
    message::Delivery,
    options::{BasicConsumeOptions, BasicQosOptions},
    types::FieldTable,
};
use secrecy::SecretString;
use tokio::sync::Semaphore;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{error_kind, topology::Topology};

/// Largest message a consumer reads; larger ones are rejected unread.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Handles one delivery, acking or nacking it. `shutdown` lets long work
/// (retry back-offs) give the delivery back instead of holding shutdown up.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, delivery: Delivery, shutdown: CancellationToken);
}

pub struct ConsumerSettings {
    pub url: SecretString,
    /// Connection and consumer name, visible in the management UI.
    pub name: String,
    pub topology: Topology,
    pub queue: String,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// Bound on connecting and declaring.
    pub timeout: Duration,
}

/// Consumes until `shutdown`, reconnecting after failures.
pub async fn run(
    settings: ConsumerSettings,
    handler: Arc<dyn Handler>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut failures = 0u32;
    loop {
        match consume_once(&settings, &handler, &shutdown, &mut failures).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                failures += 1;
                let wait =
                    (Duration::from_millis(200) * 2u32.saturating_pow(failures.min(6))).min(Duration::from_secs(10));
                tracing::warn!(consumer = %settings.name, error = format!("{e:#}"), ?wait, "consumer lost its connection; reconnecting");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

async fn consume_once(
    settings: &ConsumerSettings,
    handler: &Arc<dyn Handler>,
    shutdown: &CancellationToken,
    failures: &mut u32,
) -> anyhow::Result<()> {
    let connection = super::connect(&settings.url, &settings.name, settings.timeout).await?;
    let channel = connection.create_channel().await.map_err(|e| anyhow::anyhow!("channel: {}", error_kind(&e)))?;
    settings.topology.declare(&channel).await.map_err(|e| anyhow::anyhow!("declare: {}", error_kind(&e)))?;
    let prefetch = u16::try_from(settings.concurrency).unwrap_or(u16::MAX);
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await
        .map_err(|e| anyhow::anyhow!("qos: {}", error_kind(&e)))?;
    let mut consumer = channel
        .basic_consume(
            settings.queue.clone().into(),
            settings.name.clone().into(),
            // no_ack = false: the handler acks once the effect is durable.
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("consume: {}", error_kind(&e)))?;
    *failures = 0;
    tracing::info!(consumer = %settings.name, queue = %settings.queue, "consuming");

    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let tasks = TaskTracker::new();
    let outcome = loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break Ok(()),
            permit = permits.clone().acquire_owned() => permit?,
        };
        let delivery = tokio::select! {
            _ = shutdown.cancelled() => break Ok(()),
            next = consumer.next() => match next {
                Some(Ok(delivery)) => delivery,
                Some(Err(e)) => break Err(anyhow::anyhow!("delivery: {}", error_kind(&e))),
                None => break Err(anyhow::anyhow!("the broker closed the consumer")),
            },
        };
        if delivery.data.len() > MAX_MESSAGE_BYTES {
            // Jobs and results are a few KiB; a huge one is not ours.
            // Rejected unread: dead-lettered where the queue has a DLX.
            tracing::warn!(consumer = %settings.name, bytes = delivery.data.len(), "oversized message rejected unread");
            let _ = delivery.reject(lapin::options::BasicRejectOptions { requeue: false }).await;
            continue;
        }
        let handler = handler.clone();
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            handler.handle(delivery, shutdown).await;
            drop(permit);
        });
    };
    // Let in-flight deliveries finish on this channel before closing it.
    tasks.close();
    tasks.wait().await;
    let _ = channel.close(200, "consumer stopping".into()).await;
    let _ = connection.close(200, "consumer stopping".into()).await;
    outcome
}
