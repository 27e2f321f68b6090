//! Appends to the `audit` table, inside the transaction of the change.

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use super::entities::audit::ActiveModel;

/// Who did what; never a secret value (details are field names and revisions).
pub struct AuditEntry<'a> {
    pub workspace: &'a str,
    pub actor: &'a str,
    pub action: &'static str,
    pub tag: &'a str,
    pub connection_id: Option<Uuid>,
    pub request_id: Option<&'a str>,
    pub details: serde_json::Value,
}

pub async fn record(txn: &impl ConnectionTrait, entry: AuditEntry<'_>) -> Result<(), sea_orm::DbErr> {
    ActiveModel {
        id: Set(Uuid::new_v4()),
        workspace: Set(entry.workspace.to_owned()),
        actor: Set(entry.actor.to_owned()),
        action: Set(entry.action.to_owned()),
        tag: Set(entry.tag.to_owned()),
        connection_id: Set(entry.connection_id),
        request_id: Set(entry.request_id.map(str::to_owned)),
        outcome: Set("ok".to_owned()),
        details: Set(entry.details.to_string()),
        time: Set(super::now()),
    }
    .insert(txn)
    .await
    .map(|_| ())
}
