//! RabbitMQ, shared by server and worker: names, message types, trace
//! headers, and a publisher with confirms that reconnects by itself.
//!
//! lapin does not reconnect: every user here holds a connection it can
//! throw away and rebuild (publisher: on the next publish; consumers: in
//! their run loop, with backoff).

pub mod consumer;
pub mod messages;
pub mod publisher;
pub mod topology;
pub mod trace_context;

use std::time::Duration;

use lapin::{Connection, ConnectionProperties};
use secrecy::{ExposeSecret, SecretString};

/// Opens a connection, bounded by `timeout`.
pub async fn connect(url: &SecretString, name: &str, timeout: Duration) -> anyhow::Result<Connection> {
    let properties = ConnectionProperties::default().with_connection_name(name.to_owned().into());
    match tokio::time::timeout(timeout, Connection::connect(url.expose_secret(), properties)).await {
        Ok(Ok(connection)) => Ok(connection),
        // lapin's error text can include the URL; keep only what it is.
        Ok(Err(e)) => Err(anyhow::anyhow!("cannot connect to RabbitMQ: {}", error_kind(&e))),
        Err(_) => Err(anyhow::anyhow!("cannot connect to RabbitMQ: no answer within {timeout:?}")),
    }
}

/// A description of a lapin error that never carries connection details.
pub fn error_kind(e: &lapin::Error) -> String {
    format!("{:?}", e.kind()).chars().take(200).collect()
}
