//! Feeds this replica's watchers from `<p>.events`, while it has any: an
//! exclusive, auto-deleted queue bound with `#` (live events are
//! best-effort; durable consumers bind their own queues), declared when the
//! first watcher arrives and dropped once none has been left for
//! [`FeedSettings::idle`]. Acked as soon as they are handed to the
//! watchers, with a bounded prefetch, so a slow replica leaves events in
//! its (length-capped) queue instead of in its own memory. Reconnects after
//! broker failures.

use std::time::Duration;

use cloudconn_infra::amqp::{error_kind, topology::Topology};
use futures_lite::StreamExt;
use lapin::{
    options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions},
    types::FieldTable,
};
use secrecy::SecretString;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Events in flight between the broker and this replica.
const PREFETCH: u16 = 256;

pub struct FeedSettings {
    pub url: SecretString,
    pub topology: Topology,
    pub timeout: Duration,
    /// How long the subscription outlives the last watcher (a client that
    /// reconnects finds it still live).
    pub idle: Duration,
}

/// Built by [`super::Hub::with_feed`].
pub struct EventFeed {
    pub(super) settings: FeedSettings,
    pub(super) sender: crate::outbox::cloudevents::Fanout,
    pub(super) watchers: watch::Receiver<usize>,
    pub(super) live: watch::Sender<bool>,
}

/// Why a subscription ended without an error.
enum Ended {
    Shutdown,
    Idle,
}

impl EventFeed {
    pub async fn run(mut self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut failures = 0u32;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                watched = self.watchers.wait_for(|n| *n > 0) => if watched.is_err() { return Ok(()) },
            }
            let ended = self.consume(&shutdown, &mut failures).await;
            self.live.send_replace(false);
            match ended {
                Ok(Ended::Shutdown) => return Ok(()),
                Ok(Ended::Idle) => tracing::debug!("no watchers left; event feed unsubscribed"),
                Err(e) => {
                    failures += 1;
                    let wait = (Duration::from_millis(200) * 2u32.saturating_pow(failures.min(6)))
                        .min(Duration::from_secs(10));
                    tracing::warn!(error = format!("{e:#}"), ?wait, "event feed lost its connection; reconnecting");
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }

    async fn consume(&mut self, shutdown: &CancellationToken, failures: &mut u32) -> anyhow::Result<Ended> {
        let err = |what: &'static str| move |e: lapin::Error| anyhow::anyhow!("{what}: {}", error_kind(&e));
        let FeedSettings { url, topology, timeout, idle } = &self.settings;
        let connection = cloudconn_infra::amqp::connect(url, "cloudconn-server watch feed", *timeout).await?;
        let channel = connection.create_channel().await.map_err(err("channel"))?;
        topology.declare(&channel).await.map_err(err("declare"))?;
        channel.basic_qos(PREFETCH, BasicQosOptions::default()).await.map_err(err("qos"))?;
        let queue = topology.subscribe_events(&channel, "*.connection.*").await.map_err(err("subscribe"))?;
        let mut consumer = channel
            .basic_consume(
                queue.into(),
                "cloudconn-server watch feed".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(err("consume"))?;
        *failures = 0;
        // Bound and consuming: watchers waiting in `Hub::join` may go.
        self.live.send_replace(true);
        let unwatched = unwatched_for(self.watchers.clone(), *idle);
        tokio::pin!(unwatched);
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => return Ok(Ended::Shutdown),
                _ = &mut unwatched => {
                    // Not live first, then count again: a watcher joining
                    // now either waits for the next subscription or is
                    // counted here, and then we stay.
                    self.live.send_replace(false);
                    if *self.watchers.borrow() == 0 {
                        // Closing deletes the exclusive queue at once.
                        let _ = connection.close(200, "no watchers".into()).await;
                        return Ok(Ended::Idle);
                    }
                    self.live.send_replace(true);
                    unwatched.set(unwatched_for(self.watchers.clone(), *idle));
                    continue;
                }
                next = consumer.next() => next,
            };
            match delivery {
                Some(Ok(d)) => {
                    // A watcher that left meanwhile is fine.
                    self.sender.publish(&String::from_utf8_lossy(&d.data));
                    d.ack(BasicAckOptions::default()).await.map_err(err("ack"))?;
                }
                Some(Err(e)) => return Err(err("delivery")(e)),
                None => anyhow::bail!("the broker closed the feed"),
            }
        }
    }
}

/// Resolves once nobody has watched for `idle` on end.
async fn unwatched_for(mut watchers: watch::Receiver<usize>, idle: Duration) {
    loop {
        if watchers.wait_for(|n| *n == 0).await.is_err() {
            return std::future::pending().await;
        }
        tokio::select! {
            _ = tokio::time::sleep(idle) => return,
            // Someone came (and maybe went): start the wait over.
            _ = watchers.changed() => {}
        }
    }
}
