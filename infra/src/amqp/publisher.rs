//! Publishing with publisher confirms, over a connection rebuilt on demand.
//!
//! A publish is done only when the broker confirms it (`basic.ack`): it is
//! then stored (for quorum queues, replicated). A `mandatory` message that
//! no queue would take comes back as returned, which we treat as a failure.
//! On any error the connection is dropped; the next call reconnects and
//! re-declares the topology. Concurrent calls share the channel and wait
//! for their confirms in parallel.

use std::time::Duration;

use lapin::{
    BasicProperties, Channel, Connection, PublisherConfirm,
    options::{BasicPublishOptions, ConfirmSelectOptions},
    types::FieldTable,
};
use secrecy::SecretString;
use tokio::sync::Mutex;

use super::{error_kind, topology::Topology, trace_context};

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub exchange: String,
    pub routing_key: String,
    pub payload: Vec<u8>,
    /// Stable id: the CloudEvents id / outbox row id, for de-duplication.
    pub message_id: String,
    pub content_type: &'static str,
    pub traceparent: Option<String>,
    /// Fail unless a queue takes the message (jobs, results; not events,
    /// which may have no subscriber at all).
    pub mandatory: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("RabbitMQ unavailable: {0}")]
    Unavailable(String),
    #[error("RabbitMQ refused the message: {0}")]
    Refused(String),
}

pub struct Publisher {
    url: SecretString,
    name: String,
    topology: Topology,
    timeout: Duration,
    /// The live connection, if any, and how many have been opened. A tokio
    /// mutex, held while a call hands its messages to the channel (keeping
    /// them in order) but not while it waits for their confirms: concurrent
    /// callers (a worker's results) wait for theirs side by side instead of
    /// one confirm round trip after another.
    state: Mutex<(Option<Live>, u64)>,
}

/// A connection and its confirm-mode channel.
struct Live {
    connection: Connection,
    channel: Channel,
    generation: u64,
}

impl Publisher {
    pub fn new(url: SecretString, name: &str, topology: Topology, timeout: Duration) -> Self {
        Self { url, name: name.to_owned(), topology, timeout, state: Mutex::new((None, 0)) }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Publishes every message, then waits for all confirms. Succeeds only if
    /// each one was confirmed (and, if mandatory, routed).
    pub async fn publish_all(&self, messages: &[Outgoing]) -> Result<(), PublishError> {
        let mut used = None;
        let result = tokio::time::timeout(self.timeout * 2, async {
            let confirms = {
                let mut state = self.state.lock().await;
                let live = self.live(&mut state).await?;
                used = Some(live.generation);
                publish(&live.channel, messages).await?
            };
            confirmed(confirms).await
        })
        .await
        .unwrap_or_else(|_| Err(PublishError::Unavailable("no confirm within the timeout".into())));
        if let (Err(_), Some(generation)) = (&result, used) {
            self.reset(generation).await;
        }
        result
    }

    /// Sends a signed reply to a request's `reply_to` (a server's reply
    /// queue, through the replies exchange) with its `correlation_id`, and
    /// waits for the broker's confirm. Transient and not mandatory: a
    /// requester that has gone away (its deadline passed, its queue with
    /// it) simply never sees it.
    pub async fn publish_reply(
        &self,
        reply_to: &str,
        correlation_id: &str,
        payload: &[u8],
        signature: String,
    ) -> Result<(), PublishError> {
        let mut used = None;
        let result = tokio::time::timeout(self.timeout * 2, async {
            let confirm = {
                let mut state = self.state.lock().await;
                let live = self.live(&mut state).await?;
                used = Some(live.generation);
                let properties = BasicProperties::default()
                    .with_correlation_id(correlation_id.to_owned().into())
                    .with_content_type("application/json".into())
                    .with_delivery_mode(1)
                    .with_headers(super::signing::signature_headers(signature));
                live.channel
                    .basic_publish(
                        self.topology.replies_exchange().into(),
                        reply_to.to_owned().into(),
                        BasicPublishOptions::default(),
                        payload,
                        properties,
                    )
                    .await
                    .map_err(|e| PublishError::Unavailable(error_kind(&e)))?
            };
            confirmed(vec![confirm]).await
        })
        .await
        .unwrap_or_else(|_| Err(PublishError::Unavailable("no confirm within the timeout".into())));
        if let (Err(_), Some(generation)) = (&result, used) {
            self.reset(generation).await;
        }
        result
    }

    /// The open connection, opened now if there is none (or it broke).
    async fn live<'a>(&self, state: &'a mut (Option<Live>, u64)) -> Result<&'a Live, PublishError> {
        let (live, opened) = state;
        if live.as_ref().is_none_or(|l| !l.connection.status().connected() || !l.channel.status().connected()) {
            let (connection, channel) = self.open().await?;
            *opened += 1;
            *live = Some(Live { connection, channel, generation: *opened });
        }
        live.as_ref().ok_or_else(|| PublishError::Unavailable("no connection".into()))
    }

    /// After an error, whatever state the channel is in, start clean next
    /// time: close the connection the failed call used, unless another
    /// call has replaced it already.
    async fn reset(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state.0.as_ref().is_some_and(|l| l.generation == generation) {
            if let Some(live) = state.0.take() {
                let _ = live.connection.close(0, "reset after error".into()).await;
            }
        }
    }

    async fn open(&self) -> Result<(Connection, Channel), PublishError> {
        let connection = super::connect(&self.url, &self.name, self.timeout)
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;
        let channel = connection.create_channel().await.map_err(|e| PublishError::Unavailable(error_kind(&e)))?;
        self.topology.declare(&channel).await.map_err(|e| PublishError::Unavailable(error_kind(&e)))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| PublishError::Unavailable(error_kind(&e)))?;
        Ok((connection, channel))
    }
}

/// Hands `messages` to the channel, in order; returns their confirms.
async fn publish(channel: &Channel, messages: &[Outgoing]) -> Result<Vec<PublisherConfirm>, PublishError> {
    let mut confirms = Vec::with_capacity(messages.len());
    for m in messages {
        let mut headers = FieldTable::default();
        if let Some(tp) = &m.traceparent {
            trace_context::inject(&mut headers, tp);
        }
        let properties = BasicProperties::default()
            .with_message_id(m.message_id.clone().into())
            .with_content_type(m.content_type.into())
            // 2 = persistent: survives a broker restart.
            .with_delivery_mode(2)
            .with_headers(headers);
        let confirm = channel
            .basic_publish(
                m.exchange.clone().into(),
                m.routing_key.clone().into(),
                BasicPublishOptions { mandatory: m.mandatory, ..Default::default() },
                &m.payload,
                properties,
            )
            .await
            .map_err(|e| PublishError::Unavailable(error_kind(&e)))?;
        confirms.push(confirm);
    }
    Ok(confirms)
}

/// Waits for every confirm: each must be an ack, and nothing returned.
async fn confirmed(confirms: Vec<PublisherConfirm>) -> Result<(), PublishError> {
    for confirm in confirms {
        let confirmation = confirm.await.map_err(|e| PublishError::Unavailable(error_kind(&e)))?;
        if confirmation.is_nack() {
            return Err(PublishError::Refused("negative confirm".into()));
        }
        if let Some(returned) = confirmation.take_message() {
            return Err(PublishError::Refused(format!("unroutable ({})", returned.reply_text)));
        }
    }
    Ok(())
}
