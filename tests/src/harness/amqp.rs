//! RabbitMQ from the test's side: subscribe to the public events like a
//! real subscriber, inspect and clean up a test's prefixed topology.

use std::time::Duration;

use cloudconn_infra::amqp::topology::Topology;
use futures_lite::StreamExt;
use lapin::{
    Channel, Connection, Consumer,
    options::{BasicAckOptions, BasicConsumeOptions, ExchangeDeleteOptions, QueueDeclareOptions, QueueDeleteOptions},
    types::FieldTable,
};
use secrecy::SecretString;

use super::env;

pub async fn connect() -> Connection {
    cloudconn_infra::amqp::connect(&SecretString::from(env::amqp_url()), "cloudconn-tests", Duration::from_secs(5))
        .await
        .expect("RabbitMQ (is the test stack up? deploy/stack.sh up)")
}

/// A subscriber bound to `<prefix>.events` with `#`: sees every event.
pub struct EventSubscriber {
    _connection: Connection,
    consumer: Consumer,
}

/// One received event: the routing key, AMQP properties and parsed body.
#[derive(Debug, Clone)]
pub struct ReceivedEvent {
    pub routing_key: String,
    pub content_type: String,
    pub message_id: String,
    pub traceparent: Option<String>,
    pub body: serde_json::Value,
    pub raw: String,
}

impl EventSubscriber {
    pub async fn bind(topology: &Topology, binding: &str) -> Self {
        let connection = connect().await;
        let channel = connection.create_channel().await.expect("channel");
        topology.declare(&channel).await.expect("declare topology");
        let queue = topology.subscribe_events(&channel, binding).await.expect("subscribe");
        let consumer = channel
            .basic_consume(
                queue.into(),
                "test-subscriber".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume");
        Self { _connection: connection, consumer }
    }

    /// The next event, or panics after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> ReceivedEvent {
        let delivery = tokio::time::timeout(timeout, self.consumer.next())
            .await
            .expect("an event within the timeout")
            .expect("consumer open")
            .expect("delivery");
        delivery.ack(BasicAckOptions::default()).await.expect("ack");
        let raw = String::from_utf8(delivery.data.clone()).expect("utf-8 body");
        let props = &delivery.properties;
        ReceivedEvent {
            routing_key: delivery.routing_key.as_str().to_owned(),
            content_type: props.content_type().as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            message_id: props.message_id().as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            traceparent: cloudconn_infra::amqp::trace_context::extract(props.headers().as_ref()),
            body: serde_json::from_str(&raw).expect("JSON body"),
            raw,
        }
    }

    /// Collects `n` events.
    pub async fn take(&mut self, n: usize, timeout: Duration) -> Vec<ReceivedEvent> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.next(timeout).await);
        }
        out
    }
}

/// Messages waiting in a queue (0 if it does not exist).
pub async fn depth(channel: &Channel, queue: &str) -> u32 {
    match channel
        .queue_declare(queue.into(), QueueDeclareOptions { passive: true, ..Default::default() }, FieldTable::default())
        .await
    {
        Ok(q) => q.message_count(),
        Err(_) => 0,
    }
}

/// Deletes a test's queues and exchanges.
pub async fn delete_topology(topology: &Topology) {
    let connection = connect().await;
    for queue in topology.queues() {
        // A failed passive/delete closes the channel: one channel per call.
        if let Ok(channel) = connection.create_channel().await {
            let _ = channel.queue_delete(queue.into(), QueueDeleteOptions::default()).await;
        }
    }
    for exchange in topology.exchanges() {
        if let Ok(channel) = connection.create_channel().await {
            let _ = channel.exchange_delete(exchange.into(), ExchangeDeleteOptions::default()).await;
        }
    }
    let _ = connection.close(0, "done".into()).await;
}
