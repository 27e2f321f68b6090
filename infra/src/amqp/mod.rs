//! RabbitMQ, shared by server and worker: names, message types, trace
//! headers, and a publisher with confirms that reconnects by itself.
//!
//! lapin does not reconnect: every user here holds a connection it can
//! throw away and rebuild (publisher: on the next publish; consumers: in
//! their run loop, with backoff).

pub mod consumer;
pub mod issue;
pub mod messages;
pub mod publisher;
pub mod signing;
pub mod topology;
pub mod trace_context;

use std::{sync::OnceLock, time::Duration};

use lapin::{Connection, ConnectionProperties, tcp::OwnedTLSConfig};
use secrecy::{ExposeSecret, SecretString};

/// The largest AMQP frame we ask for, unless the URL sets `frame_max`.
///
/// lapin keeps a send and a receive buffer of 32 frames per connection,
/// zero-filled up front, and RabbitMQ offers 128 KiB frames: 8 MiB of
/// resident memory per connection, most of the server's idle RSS (it holds
/// three). Our messages are a few KiB; a larger one is simply sent in
/// several frames. 16 KiB frames cost 1 MiB per connection.
pub const FRAME_MAX: u32 = 16 * 1024;

/// The CA bundle trusted for `amqps://` (`CLOUDCONN_AMQP_CA_CERT`), on top
/// of the public web roots lapin is built with (`webpki-roots`): a broker
/// with a certificate from a private CA needs this set.
static TRUSTED_CA: OnceLock<String> = OnceLock::new();

/// Trusts `pem` (one or more CA certificates) for every `amqps://`
/// connection of this process; the first call wins.
pub fn trust_ca(pem: String) {
    let _ = TRUSTED_CA.set(pem);
}

/// Opens a connection, bounded by `timeout`.
pub async fn connect(url: &SecretString, name: &str, timeout: Duration) -> anyhow::Result<Connection> {
    let properties = ConnectionProperties::default().with_connection_name(name.to_owned().into());
    // The parse error would quote the URL, password included: say only what failed.
    let mut uri: lapin::uri::AMQPUri =
        url.expose_secret().parse().map_err(|_| anyhow::anyhow!("CLOUDCONN_AMQP_URL is not a valid AMQP URL"))?;
    uri.query.frame_max.get_or_insert(FRAME_MAX);
    let tls = OwnedTLSConfig { identity: None, cert_chain: TRUSTED_CA.get().cloned() };
    let runtime = lapin::runtime::default_runtime().map_err(|e| anyhow::anyhow!("AMQP runtime: {}", error_kind(&e)))?;
    match tokio::time::timeout(timeout, Connection::connect_uri_with_config(uri, properties, tls, runtime)).await {
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
