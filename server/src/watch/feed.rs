//! Feeds this replica's watchers from `<p>.events`: an exclusive,
//! auto-deleted queue bound with `#` (live events are best-effort; durable
//! consumers bind their own queues). Acked as soon as they are handed to
//! the watchers, with a bounded prefetch, so a slow replica leaves events
//! in its (length-capped) queue instead of in its own memory. Reconnects
//! after broker failures.

use std::time::Duration;

use cloudconn_infra::amqp::{error_kind, topology::Topology};
use futures_lite::StreamExt;
use lapin::{
    options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions},
    types::FieldTable,
};
use secrecy::SecretString;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Events in flight between the broker and this replica.
const PREFETCH: u16 = 256;

pub struct EventFeed {
    pub url: SecretString,
    pub topology: Topology,
    pub timeout: Duration,
    pub sender: broadcast::Sender<String>,
}

impl EventFeed {
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut failures = 0u32;
        loop {
            match self.consume(&shutdown, &mut failures).await {
                Ok(()) => return Ok(()),
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

    async fn consume(&self, shutdown: &CancellationToken, failures: &mut u32) -> anyhow::Result<()> {
        let err = |what: &'static str| move |e: lapin::Error| anyhow::anyhow!("{what}: {}", error_kind(&e));
        let connection = cloudconn_infra::amqp::connect(&self.url, "cloudconn-server watch feed", self.timeout).await?;
        let channel = connection.create_channel().await.map_err(err("channel"))?;
        self.topology.declare(&channel).await.map_err(err("declare"))?;
        channel.basic_qos(PREFETCH, BasicQosOptions::default()).await.map_err(err("qos"))?;
        let queue = self.topology.subscribe_events(&channel, "#").await.map_err(err("subscribe"))?;
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
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                next = consumer.next() => next,
            };
            match delivery {
                Some(Ok(d)) => {
                    // No watcher is fine.
                    let _ = self.sender.send(String::from_utf8_lossy(&d.data).into_owned());
                    d.ack(BasicAckOptions::default()).await.map_err(err("ack"))?;
                }
                Some(Err(e)) => return Err(err("delivery")(e)),
                None => anyhow::bail!("the broker closed the feed"),
            }
        }
    }
}
