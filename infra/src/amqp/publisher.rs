//! Publishing with publisher confirms, over a connection rebuilt on demand.
//!
//! A publish is done only when the broker confirms it (`basic.ack`): it is
//! then stored (for quorum queues, replicated). A `mandatory` message that
//! no queue would take comes back as returned, which we treat as a failure.
//! On any error the connection is dropped; the next call reconnects and
//! re-declares the topology.

use std::time::Duration;

use lapin::{
    BasicProperties, Channel, Connection,
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
    /// The live connection and its confirm-mode channel, if any. A tokio
    /// mutex because it is held across the publish and confirm awaits, which
    /// also keeps one batch's messages in order.
    state: Mutex<Option<(Connection, Channel)>>,
}

impl Publisher {
    pub fn new(url: SecretString, name: &str, topology: Topology, timeout: Duration) -> Self {
        Self { url, name: name.to_owned(), topology, timeout, state: Mutex::new(None) }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Publishes every message, then waits for all confirms. Succeeds only if
    /// each one was confirmed (and, if mandatory, routed).
    pub async fn publish_all(&self, messages: &[Outgoing]) -> Result<(), PublishError> {
        let mut state = self.state.lock().await;
        let result = tokio::time::timeout(self.timeout * 2, self.publish_locked(&mut state, messages))
            .await
            .unwrap_or_else(|_| Err(PublishError::Unavailable("no confirm within the timeout".into())));
        if result.is_err() {
            // Whatever state the channel is in, start clean next time.
            if let Some((connection, _)) = state.take() {
                let _ = connection.close(0, "reset after error".into()).await;
            }
        }
        result
    }

    async fn publish_locked(
        &self,
        state: &mut Option<(Connection, Channel)>,
        messages: &[Outgoing],
    ) -> Result<(), PublishError> {
        if state.as_ref().is_none_or(|(c, ch)| !c.status().connected() || !ch.status().connected()) {
            *state = Some(self.open().await?);
        }
        let Some((_, channel)) = state.as_ref() else { unreachable!("just opened") };
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
