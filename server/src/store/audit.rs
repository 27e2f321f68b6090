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

/// One page of a workspace's audit trail, newest first, after the
/// `(time, id)` cursor of the previous page.
pub async fn list(
    db: &impl ConnectionTrait,
    workspace: &str,
    before: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<super::entities::audit::Model>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

    use super::entities::audit::{Column, Entity};
    let mut query = Entity::find().filter(Column::Workspace.eq(workspace));
    if let Some((time, id)) = before {
        query = query.filter(
            Condition::any()
                .add(Column::Time.lt(time))
                .add(Condition::all().add(Column::Time.eq(time)).add(Column::Id.lt(id))),
        );
    }
    query.order_by_desc(Column::Time).order_by_desc(Column::Id).limit(limit).all(db).await
}
