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

/// An audit row whose `audit` event is already among the change's outbox
/// rows (so the row and the event commit together), to be inserted in the
/// change's transaction before it commits.
#[must_use = "the audit row is written only by `insert`"]
pub struct Prepared(ActiveModel);

impl Prepared {
    pub async fn insert(self, txn: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
        self.0.insert(txn).await.map(|_| ())
    }
}

/// Adds the `audit` event of `entry` to the change's outbox rows, at this
/// point of their order, and returns its row for [`Prepared::insert`].
pub fn prepare(out: &mut super::outbox::Pending, entry: AuditEntry<'_>) -> Prepared {
    Prepared(row(out, entry))
}

/// [`prepare`] and insert many entries in one statement (the run step records a
/// batch of issues per transaction; a row each would be a round trip each).
pub async fn record_many<'a>(
    txn: &impl ConnectionTrait,
    out: &mut super::outbox::Pending,
    entries: impl IntoIterator<Item = AuditEntry<'a>>,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::EntityTrait;
    let rows: Vec<ActiveModel> = entries.into_iter().map(|entry| row(out, entry)).collect();
    if rows.is_empty() {
        return Ok(());
    }
    super::entities::audit::Entity::insert_many(rows).exec_without_returning(txn).await.map(drop)
}

/// The audit row for `entry`, its event pushed onto `out`.
fn row(out: &mut super::outbox::Pending, entry: AuditEntry<'_>) -> ActiveModel {
    let id = Uuid::new_v4();
    let time = super::now();
    let event = serde_json::json!({
        "specversion": "1.0",
        "id": id.to_string(),
        "source": format!("/workspaces/{}/audit", entry.workspace),
        "type": "cloudconn.audit.v1",
        "subject": entry.tag,
        "time": time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "datacontenttype": "application/json",
        "data": {
            "id": id.to_string(),
            "workspace": entry.workspace,
            "actor": entry.actor,
            "action": entry.action,
            "tag": entry.tag,
            "requestId": entry.request_id.unwrap_or_default(),
            "outcome": "ok",
            "details": entry.details,
        },
    });
    // The event id is the audit row's id: stable, and the same everywhere.
    out.push(
        id,
        super::outbox::Kind::Event,
        &format!("{}.audit.{}", entry.workspace, snake(entry.action)),
        event.to_string(),
        &cloudconn_infra::telemetry::propagation::current_traceparent(),
    );
    ActiveModel {
        id: Set(id),
        workspace: Set(entry.workspace.to_owned()),
        actor: Set(entry.actor.to_owned()),
        action: Set(entry.action.to_owned()),
        tag: Set(entry.tag.to_owned()),
        connection_id: Set(entry.connection_id),
        request_id: Set(entry.request_id.map(str::to_owned)),
        outcome: Set("ok".to_owned()),
        details: Set(entry.details.to_string()),
        time: Set(time),
    }
}

/// `CreateConnection` → `create_connection`, for routing keys.
fn snake(action: &str) -> String {
    let mut out = String::with_capacity(action.len() + 4);
    for (i, c) in action.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Deletes at most `batch` audit rows written before `cutoff`; returns how many.
pub async fn prune(
    db: &impl ConnectionTrait,
    cutoff: chrono::DateTime<chrono::Utc>,
    batch: u64,
) -> Result<u64, sea_orm::DbErr> {
    use super::entities::audit::{Column, Entity};
    super::delete_before::<Entity>(db, Column::Id, Column::Time, cutoff, batch).await
}

/// One page of a workspace's (or one tag's) audit trail, newest first,
/// after the `(time, id)` cursor of the previous page.
pub async fn list(
    db: &impl ConnectionTrait,
    workspace: &str,
    tag: Option<&str>,
    before: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<super::entities::audit::Model>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

    use super::entities::audit::{Column, Entity};
    let mut query = Entity::find().filter(Column::Workspace.eq(workspace));
    if let Some(tag) = tag {
        query = query.filter(Column::Tag.eq(tag));
    }
    if let Some((time, id)) = before {
        query = query.filter(
            Condition::any()
                .add(Column::Time.lt(time))
                .add(Condition::all().add(Column::Time.eq(time)).add(Column::Id.lt(id))),
        );
    }
    query.order_by_desc(Column::Time).order_by_desc(Column::Id).limit(limit).all(db).await
}
