//! The public event envelope: CloudEvents 1.0, structured JSON mode
//! (`application/cloudevents+json`), with the connection as proto3 JSON in
//! `data` — the same shape gRPC clients see, field names in lowerCamelCase.
//!
//! proto3 JSON comes from `prost-reflect` over the descriptor set the proto
//! crate already builds for reflection, so the generated types stay plain
//! prost and the mapping (enum names, int64 as strings, RFC 3339 timestamps)
//! is the standard one, not hand-written.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, SecondsFormat, Utc};
use cloudconn_proto::v1 as pb;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use tokio::sync::broadcast;

/// The content type of a structured-mode CloudEvent.
pub const CONTENT_TYPE: &str = "application/cloudevents+json";

static CONNECTION: LazyLock<MessageDescriptor> = LazyLock::new(|| {
    DescriptorPool::decode(cloudconn_proto::FILE_DESCRIPTOR_SET)
        .expect("the proto crate's descriptor set decodes")
        .get_message_by_name("cloudconn.v1.Connection")
        .expect("cloudconn.v1.Connection is in the descriptor set")
});

/// The proto3 JSON of a connection.
pub fn connection_json(connection: &pb::Connection) -> serde_json::Value {
    let bytes = connection.encode_to_vec();
    match DynamicMessage::decode(CONNECTION.clone(), bytes.as_slice()) {
        Ok(message) => serde_json::to_value(&message).unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    }
}

/// Reads an event body back into the gRPC message (`WatchConnections`).
/// `None` for anything that is not one of our events.
pub fn parse(body: &str) -> Option<pb::ConnectionEvent> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let kind = value.get("type")?.as_str()?.to_owned();
    // Only connection events carry a connection (audit events do not).
    if !kind.starts_with("cloudconn.connection.") {
        return None;
    }
    let time = DateTime::parse_from_rfc3339(value.get("time")?.as_str()?).ok()?.with_timezone(&Utc);
    let data = value.get("data")?;
    let message = DynamicMessage::deserialize(CONNECTION.clone(), data).ok()?;
    Some(pb::ConnectionEvent {
        id: value.get("id")?.as_str()?.to_owned(),
        r#type: kind,
        time: Some(crate::view::timestamp(time)),
        connection: Some(message.transcode_to::<pb::Connection>().ok()?),
    })
}

/// A full event body.
pub fn envelope(id: &str, event: &str, time: DateTime<Utc>, connection: &pb::Connection) -> serde_json::Value {
    serde_json::json!({
        "specversion": "1.0",
        "id": id,
        "source": format!("/workspaces/{}/connections/{}", connection.workspace, connection.tag),
        "type": format!("cloudconn.connection.{event}.v1"),
        "subject": connection.tag,
        "time": time.to_rfc3339_opts(SecondsFormat::Micros, true),
        "datacontenttype": "application/json",
        "data": connection_json(connection),
    })
}

/// The routing key on the events exchange: `<workspace>.connection.<event>`.
pub fn routing_key(workspace: &str, event: &str) -> String {
    format!("{workspace}.connection.{event}")
}

/// Where events enter a replica's watch hub (from its RabbitMQ feed, or in
/// process in `--dev`): each is parsed here, once, for every watcher (audit
/// events and anything unreadable are dropped).
#[derive(Clone)]
pub struct Fanout(broadcast::Sender<Arc<pb::ConnectionEvent>>);

impl Fanout {
    pub fn new(sender: broadcast::Sender<Arc<pb::ConnectionEvent>>) -> Self {
        Self(sender)
    }

    pub fn publish(&self, body: &str) {
        if let Some(event) = parse(body).filter(|e| e.connection.is_some()) {
            // No watcher at the moment is fine.
            let _ = self.0.send(Arc::new(event));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_uses_proto3_json_names() {
        let connection = pb::Connection {
            workspace: "acme".into(),
            tag: "prod_aws".into(),
            external_id: "x".repeat(32),
            display_name: "Prod".into(),
            provider: pb::Provider::Aws.into(),
            credentials: Some(pb::CredentialsView { revision: 3, ..Default::default() }),
            ..Default::default()
        };
        let time = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let e = envelope("id-1", "created", time, &connection);
        assert_eq!(e["type"], "cloudconn.connection.created.v1");
        assert_eq!(e["source"], "/workspaces/acme/connections/prod_aws");
        assert_eq!(e["subject"], "prod_aws");
        assert_eq!(e["time"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(e["data"]["externalId"], "x".repeat(32));
        assert_eq!(e["data"]["displayName"], "Prod");
        assert_eq!(e["data"]["provider"], "PROVIDER_AWS");
        assert_eq!(e["data"]["credentials"]["revision"], "3", "int64 is a string in proto3 JSON");
        assert_eq!(routing_key("acme", "created"), "acme.connection.created");

        let back = parse(&e.to_string()).unwrap();
        assert_eq!(back.id, "id-1");
        assert_eq!(back.r#type, "cloudconn.connection.created.v1");
        assert_eq!(back.connection.unwrap(), connection, "proto3 JSON round-trips");
        assert!(parse("{}").is_none());
    }
}
