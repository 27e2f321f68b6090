//! What lifecycle changes write to the outbox, inside their transaction.

use cloudconn_infra::amqp::messages::ValidationJob;
use uuid::Uuid;

use super::cloudevents;
use crate::store::{self, connections::ConnectionRecord, outbox};

/// The public lifecycle events (docs/api.md, Events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    CredentialsSaved,
    ValidationRequested,
    Activated,
    ValidationFailed,
    /// After `activated`: the connection had lost its working credentials,
    /// or failed scheduled checks, and validates again.
    Recovered,
    /// After a validation found that the credential expires within
    /// `CLOUDCONN_EXPIRY_WARNING_MS`, then a week and a day before; once
    /// each per expiry date.
    Expiring,
    Updated,
    Deleted,
}

impl EventKind {
    /// The name in the routing key and the CloudEvents type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::CredentialsSaved => "credentials_saved",
            Self::ValidationRequested => "validation_requested",
            Self::Activated => "activated",
            Self::ValidationFailed => "validation_failed",
            Self::Recovered => "recovered",
            Self::Expiring => "expiring",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
        }
    }
}

/// Adds the event for `record` (the connection after the change; for a
/// delete, as it was) to the change's outbox rows. The outbox row id is the
/// CloudEvents id, stable across redeliveries so subscribers can
/// de-duplicate.
pub fn record_event(out: &mut outbox::Pending, kind: EventKind, record: &ConnectionRecord, traceparent: &str) {
    let id = Uuid::new_v4();
    let connection = crate::view::connection(record);
    let body = cloudevents::envelope(&id.to_string(), kind.as_str(), store::now(), &connection);
    out.push(
        id,
        outbox::Kind::Event,
        &cloudevents::routing_key(&record.row.workspace, kind.as_str()),
        body.to_string(),
        traceparent,
    );
}

/// Adds a validation job to the change's outbox rows. Its outbox id is the
/// message id.
pub fn record_job(out: &mut outbox::Pending, job: &ValidationJob, traceparent: &str) -> Result<(), sea_orm::DbErr> {
    let payload = serde_json::to_string(job).map_err(|e| sea_orm::DbErr::Custom(format!("encode job: {e}")))?;
    out.push(Uuid::new_v4(), outbox::Kind::Job, cloudconn_infra::amqp::topology::VALIDATE_KEY, payload, traceparent);
    Ok(())
}
