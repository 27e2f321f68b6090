//! UpdateConnection: display name, description and scopes (AIP-134).

use sea_orm::TransactionTrait;

use super::{Lifecycle, lock_for_change};
use cloudconn_infra::telemetry::propagation::current_traceparent;

use crate::{
    auth::Actor,
    domain::{
        Violations,
        names::{Tag, Workspace},
        provider::{Provider, check_scopes},
    },
    error::AppError,
    outbox::events::{self, EventKind},
    store::{
        audit,
        connections::{self, ConnectionRecord},
        outbox,
    },
};

/// An update request resolved against its mask: `Some` fields change.
#[derive(Debug, Clone)]
pub struct UpdateCommand {
    pub workspace: Workspace,
    pub tag: Tag,
    /// `Some("")` reverts to the tag.
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub etag: String,
}

impl Lifecycle {
    pub async fn update(&self, actor: &Actor, cmd: UpdateCommand) -> Result<ConnectionRecord, AppError> {
        let txn = self.db.begin().await?;
        let mut record = lock_for_change(&txn, &cmd.workspace, &cmd.tag, &cmd.etag, true).await?;
        let row = record.row.clone();
        if let Some(scopes) = &cmd.scopes {
            let provider = Provider::from_db(&row.provider)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown provider in row {}", row.id)))?;
            let mut violations = Violations::default();
            check_scopes(provider, "scopes", scopes, &mut violations);
            if !violations.is_empty() {
                return Err(AppError::InvalidArgument(violations.into_vec()));
            }
        }

        let mut changed = Vec::new();
        let mut details = connections::Details::default();
        if let Some(name) = cmd.display_name {
            let name = if name.is_empty() { row.tag.clone() } else { name };
            if name != row.display_name {
                details.display_name = Some(name);
                changed.push("display_name");
            }
        }
        if let Some(description) = cmd.description {
            if description != row.description {
                details.description = Some(description);
                changed.push("description");
            }
        }
        if let Some(scopes) = cmd.scopes {
            if scopes != row.scopes() {
                details.scopes = Some(scopes);
                changed.push("scopes");
            }
        }
        // Nothing to change: no new etag and no audit row for a no-op.
        if changed.is_empty() {
            drop(txn);
            return Ok(record);
        }
        let saved = connections::update_details(&txn, row, details).await?;
        let mut out = outbox::Pending::default();
        let audit = audit::prepare(
            &mut out,
            audit::AuditEntry {
                workspace: &saved.workspace,
                actor: &actor.subject,
                action: "UpdateConnection",
                tag: &saved.tag,
                connection_id: Some(saved.id),
                request_id: None,
                details: serde_json::json!({ "changed": changed }),
            },
        );
        // The last validation read with the lock still holds: only a change
        // of this connection, which waits for the lock, could replace it.
        record.row = saved;
        events::record_event(&mut out, EventKind::Updated, &record, &current_traceparent());
        self.finish(txn, out, audit).await?;
        self.changed(&record.row.workspace, &record.row.tag);
        Ok(record)
    }
}
