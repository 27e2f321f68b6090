//! The API view of stored rows: `Connection` and `Validation` messages.
//! Used by the RPC responses and by the events (same shape, docs/api.md).
//! Rows hold no secret values, so nothing here can leak one.

use chrono::{DateTime, Utc};
use cloudconn_proto::v1 as pb;
use prost_types::Timestamp;

use crate::{
    domain::{
        provider::Provider,
        status::{ConnectionStatus, Trigger, ValidationState},
    },
    store::{connections::ConnectionRecord, entities::validations},
};

pub fn provider_to_proto(p: Provider) -> pb::Provider {
    match p {
        Provider::Aws => pb::Provider::Aws,
        Provider::Gcp => pb::Provider::Gcp,
        Provider::Azure => pb::Provider::Azure,
        Provider::MongodbAtlas => pb::Provider::MongodbAtlas,
        Provider::Neo4jAura => pb::Provider::Neo4jAura,
    }
}

pub fn status_to_proto(s: Option<ConnectionStatus>) -> pb::ConnectionStatus {
    match s {
        None => pb::ConnectionStatus::Unspecified,
        Some(ConnectionStatus::Pending) => pb::ConnectionStatus::Pending,
        Some(ConnectionStatus::Active) => pb::ConnectionStatus::Active,
        Some(ConnectionStatus::Failed) => pb::ConnectionStatus::Failed,
    }
}

pub fn validation_state_to_proto(s: Option<ValidationState>) -> pb::ValidationState {
    match s {
        None => pb::ValidationState::Unspecified,
        Some(ValidationState::Queued) => pb::ValidationState::Queued,
        Some(ValidationState::Running) => pb::ValidationState::Running,
        Some(ValidationState::Succeeded) => pb::ValidationState::Succeeded,
        Some(ValidationState::Failed) => pb::ValidationState::Failed,
        Some(ValidationState::Superseded) => pb::ValidationState::Superseded,
    }
}

pub fn trigger_to_proto(t: Option<Trigger>) -> pb::ValidationTrigger {
    match t {
        None => pb::ValidationTrigger::Unspecified,
        Some(Trigger::Manual) => pb::ValidationTrigger::Manual,
        Some(Trigger::Complete) => pb::ValidationTrigger::Complete,
        Some(Trigger::Scheduled) => pb::ValidationTrigger::Scheduled,
    }
}

pub fn timestamp(t: DateTime<Utc>) -> Timestamp {
    Timestamp { seconds: t.timestamp(), nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0) }
}

/// A connection as a response shows it: with the recent consumers its
/// read brought along (events leave them out; see [`connection`]).
pub fn shown(record: &ConnectionRecord) -> pb::Connection {
    let mut connection = connection(record);
    connection.last_used_time = record.consumers.first().map(|c| timestamp(c.last_used_time));
    connection.consumers = record
        .consumers
        .iter()
        .map(|c| pb::Consumer { consumer: c.consumer.clone(), last_used_time: Some(timestamp(c.last_used_time)) })
        .collect();
    connection
}

/// The API view of a connection.
pub fn connection(record: &ConnectionRecord) -> pb::Connection {
    let row = &record.row;
    let provider = Provider::from_db(&row.provider);
    pb::Connection {
        workspace: row.workspace.clone(),
        tag: row.tag.clone(),
        uid: row.id.to_string(),
        provider: provider.map_or(pb::Provider::Unspecified, provider_to_proto).into(),
        display_name: row.display_name.clone(),
        description: row.description.clone(),
        scopes: row.scopes(),
        status: status_to_proto(ConnectionStatus::from_db(&row.status)).into(),
        external_id: row.external_id.clone().unwrap_or_default(),
        credentials: Some(pb::CredentialsView {
            fields: row.credential_fields().into_iter().collect(),
            secret_fields_set: row.secret_fields_set(),
            revision: row.revision,
            active_revision: row.active_revision,
            update_time: row.credentials_update_time.map(timestamp),
        }),
        last_validation: record.last_validation.as_ref().map(validation),
        etag: crate::domain::etag::etag(row.id, row.version),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        // Recorded by the run step (IssueCredentials); see [`shown`].
        consumers: Vec::new(),
        last_used_time: None,
        next_validation_time: row.next_validation_time.map(timestamp),
    }
}

pub fn validation(v: &validations::Model) -> pb::Validation {
    pb::Validation {
        id: v.id.to_string(),
        state: validation_state_to_proto(ValidationState::from_db(&v.state)).into(),
        revision: v.revision,
        attempts: v.attempts,
        create_time: Some(timestamp(v.create_time)),
        start_time: v.start_time.map(timestamp),
        end_time: v.end_time.map(timestamp),
        error: v.error().map(|e| pb::ValidationError {
            code: e.code,
            message: e.message,
            hint: e.hint,
            retryable: e.retryable,
            missing_permissions: e.missing_permissions,
        }),
        scope_checks: v
            .scope_checks()
            .into_iter()
            .map(|c| pb::ScopeCheck { scope: c.scope, granted: c.granted, missing_permissions: c.missing_permissions })
            .collect(),
        identity: v.identity().into_iter().collect(),
        warnings: v.warnings(),
        trigger: trigger_to_proto(Trigger::from_db(&v.trigger)).into(),
    }
}

/// The API view of an audit row.
pub fn audit_event(row: &crate::store::entities::audit::Model) -> pb::AuditEvent {
    pb::AuditEvent {
        id: row.id.to_string(),
        workspace: row.workspace.clone(),
        actor: row.actor.clone(),
        action: row.action.clone(),
        tag: row.tag.clone(),
        request_id: row.request_id.clone().unwrap_or_default(),
        outcome: row.outcome.clone(),
        time: Some(timestamp(row.time)),
        details_json: row.details.clone(),
    }
}
