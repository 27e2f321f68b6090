//! Where the relay publishes: RabbitMQ in production, an in-process channel
//! in `--dev`. Either way `publish_all` returns only once every message is
//! accepted, so the relay can mark the rows sent.

use cloudconn_infra::amqp::messages::ValidationJob;
use cloudconn_infra::amqp::publisher::{Outgoing, PublishError, Publisher};
use cloudconn_infra::telemetry::propagation;
use tokio::sync::mpsc;
use tracing::Span;

use super::cloudevents;
use crate::store::entities::outbox::Model;

#[async_trait::async_trait]
pub trait Broker: Send + Sync + 'static {
    async fn publish_all(&self, rows: &[Model]) -> Result<(), PublishError>;
}

/// RabbitMQ, with publisher confirms.
pub struct AmqpBroker {
    pub publisher: Publisher,
}

#[async_trait::async_trait]
impl Broker for AmqpBroker {
    async fn publish_all(&self, rows: &[Model]) -> Result<(), PublishError> {
        let topology = self.publisher.topology();
        // One span per message, children of the change that wrote the row,
        // alive until the broker confirmed them all.
        let spans: Vec<Span> = rows
            .iter()
            .map(|row| {
                let span = tracing::info_span!("outbox publish", message_id = %row.id, routing_key = %row.routing_key);
                propagation::set_parent(&span, row.traceparent.as_deref());
                span
            })
            .collect();
        let messages: Vec<Outgoing> = rows
            .iter()
            .zip(&spans)
            .map(|(row, span)| {
                let is_job = row.kind == crate::store::outbox::Kind::Job.as_str();
                Outgoing {
                    exchange: if is_job { topology.jobs_exchange() } else { topology.events_exchange() },
                    routing_key: row.routing_key.clone(),
                    payload: row.payload.clone().into_bytes(),
                    message_id: row.id.to_string(),
                    content_type: if is_job { "application/json" } else { cloudevents::CONTENT_TYPE },
                    traceparent: propagation::traceparent_of(span).or_else(|| row.traceparent.clone()),
                    // A job nobody would receive is an error; an event
                    // without subscribers is normal.
                    mandatory: is_job,
                }
            })
            .collect();
        self.publisher.publish_all(&messages).await
    }
}

/// `--dev`: events go to in-process subscribers, jobs to the in-process
/// worker (`results::in_process`).
pub struct InProcessBroker {
    pub events: super::cloudevents::Fanout,
    pub jobs: mpsc::UnboundedSender<ValidationJob>,
}

#[async_trait::async_trait]
impl Broker for InProcessBroker {
    async fn publish_all(&self, rows: &[Model]) -> Result<(), PublishError> {
        for row in rows {
            if row.kind == crate::store::outbox::Kind::Job.as_str() {
                let job = serde_json::from_str(&row.payload)
                    .map_err(|_| PublishError::Refused("undecodable job in the outbox".into()))?;
                self.jobs.send(job).map_err(|_| PublishError::Unavailable("in-process worker stopped".into()))?;
            } else {
                // No receiver is fine: nobody is watching.
                self.events.publish(&row.payload);
            }
        }
        Ok(())
    }
}
