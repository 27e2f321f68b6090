//! CreateConnection: a new PENDING connection, idempotent on `request_id`.

use sea_orm::{Set, SqlErr, TransactionTrait};
use sha2::{Digest, Sha256};

use super::{Lifecycle, new_external_id, new_uid};
use cloudconn_infra::telemetry::propagation::current_traceparent;

use crate::{
    auth::Actor,
    domain::{
        credentials::CredentialsView,
        names::{Tag, Workspace},
        provider::Provider,
        status::ConnectionStatus,
    },
    error::AppError,
    outbox::events::{self, EventKind},
    store::{
        self, audit,
        connections::{self, ConnectionRecord},
        entities::connections::{self as connection_rows, ActiveModel},
        outbox,
    },
};

/// A validated create request.
#[derive(Debug, Clone)]
pub struct CreateCommand {
    pub workspace: Workspace,
    pub provider: Provider,
    pub tag: Tag,
    /// Empty means "use the tag".
    pub display_name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub request_id: Option<String>,
}

impl CreateCommand {
    /// Identifies the request's content, so a retry (same key, same content)
    /// replays and a reused key with other content is refused.
    fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([
            self.provider.as_str(),
            self.tag.as_str(),
            self.display_name,
            self.description,
            self.scopes,
        ]);
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Lifecycle {
    pub async fn create(&self, actor: &Actor, cmd: CreateCommand) -> Result<ConnectionRecord, AppError> {
        let fingerprint = cmd.fingerprint();
        let now = store::now();
        let display_name =
            if cmd.display_name.is_empty() { cmd.tag.as_str().to_owned() } else { cmd.display_name.clone() };
        // No revision yet: nothing saved.
        let (credential_fields, secret_fields_set) = connection_rows::credentials_text(&CredentialsView::default());
        let row = ActiveModel {
            id: Set(new_uid()),
            workspace: Set(cmd.workspace.as_str().to_owned()),
            tag: Set(cmd.tag.as_str().to_owned()),
            provider: Set(cmd.provider.as_str().to_owned()),
            display_name: Set(display_name),
            description: Set(cmd.description.clone()),
            scopes: Set(connection_rows::scopes_text(&cmd.scopes)),
            status: Set(ConnectionStatus::Pending.as_str().to_owned()),
            external_id: Set(cmd.provider.uses_external_id().then(new_external_id)),
            revision: Set(0),
            active_revision: Set(0),
            credential_fields: Set(credential_fields),
            secret_fields_set: Set(secret_fields_set),
            credentials_update_time: Set(None),
            last_validation_id: Set(None),
            version: Set(1),
            request_id: Set(cmd.request_id.clone()),
            request_fingerprint: Set(cmd.request_id.as_ref().map(|_| fingerprint.clone())),
            create_time: Set(now),
            update_time: Set(now),
            next_validation_time: Set(None),
            revalidation_failures: Set(0),
            expiry_warned_time: Set(None),
            expiry_warned_stage: Set(0),
        };

        // No lookup of `request_id` first: a retry's insert hits the unique
        // index (or the full workspace) and is answered from the row then,
        // so the common first call is one statement shorter.
        let txn = self.db.begin().await?;
        let limit = self.quotas.max_connections_per_workspace;
        let inserted = match connections::insert_within(&txn, row, limit).await {
            Ok(Some(row)) => row,
            Ok(None) => {
                drop(txn);
                if let Some(replay) = self.replay(&cmd, &fingerprint).await? {
                    return Ok(replay);
                }
                let held = connections::count_in(&self.db, cmd.workspace.as_str()).await?;
                return Err(AppError::QuotaExceeded {
                    message: format!(
                        "workspace {} already has {held} connections, its limit; delete unused ones first",
                        cmd.workspace.as_str()
                    ),
                });
            }
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                drop(txn);
                // A retry (or two retries racing) finds the first call's row.
                if let Some(replay) = self.replay(&cmd, &fingerprint).await? {
                    return Ok(replay);
                }
                return Err(AppError::TagAlreadyExists);
            }
            Err(err) => return Err(err.into()),
        };
        let mut out = outbox::Pending::default();
        let audit = audit::prepare(
            &mut out,
            audit::AuditEntry {
                workspace: &inserted.workspace,
                actor: &actor.subject,
                action: "CreateConnection",
                tag: &inserted.tag,
                connection_id: Some(inserted.id),
                request_id: cmd.request_id.as_deref(),
                details: serde_json::json!({ "provider": inserted.provider, "scopes": cmd.scopes }),
            },
        );
        let record = ConnectionRecord::new(inserted, None);
        events::record_event(&mut out, EventKind::Created, &record, &current_traceparent());
        self.finish(txn, out, audit).await?;
        Ok(record)
    }
}

impl Lifecycle {
    /// The connection an earlier call with this `request_id` created, if
    /// there is one and the request is the same.
    async fn replay(&self, cmd: &CreateCommand, fingerprint: &str) -> Result<Option<ConnectionRecord>, AppError> {
        let Some(request_id) = &cmd.request_id else { return Ok(None) };
        match connections::find_by_request_id(&self.db, cmd.workspace.as_str(), request_id).await? {
            Some(row) => Ok(Some(self.record(check_replay(row, fingerprint)?).await?)),
            None => Ok(None),
        }
    }
}

/// A replay answers with the connection as it is now (it may have changed
/// since the first call), which is what the caller would see on a Get.
fn check_replay(
    row: crate::store::entities::connections::Model,
    fingerprint: &str,
) -> Result<crate::store::entities::connections::Model, AppError> {
    if row.request_fingerprint.as_deref() != Some(fingerprint) {
        return Err(AppError::FailedPrecondition {
            reason: "REQUEST_ID_REUSED",
            message: "request_id was already used for a different CreateConnection request".into(),
        });
    }
    Ok(row)
}
