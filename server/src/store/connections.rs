//! State changes and queries of the `connections` table. Every query starts
//! from [`in_workspace`], so no code path can read across workspaces.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use super::entities::{
    connections::{self, ActiveModel, Column, Entity, Model},
    validations,
};

/// A connection row with what the API shows alongside it.
#[derive(Debug, Clone)]
pub struct ConnectionRecord {
    pub row: Model,
    pub last_validation: Option<validations::Model>,
}

/// A row with its last validation, read on `db` (a transaction, inside one).
pub async fn load_record(db: &impl ConnectionTrait, row: Model) -> Result<ConnectionRecord, sea_orm::DbErr> {
    let last_validation = match row.last_validation_id {
        Some(id) => super::validations::find(db, &row.workspace, id).await?,
        None => None,
    };
    Ok(ConnectionRecord { row, last_validation })
}

/// The connections of one workspace.
pub fn in_workspace(workspace: &str) -> Select<Entity> {
    Entity::find().filter(Column::Workspace.eq(workspace))
}

pub async fn find(db: &impl ConnectionTrait, workspace: &str, tag: &str) -> Result<Option<Model>, sea_orm::DbErr> {
    in_workspace(workspace).filter(Column::Tag.eq(tag)).one(db).await
}

/// The row with its last validation joined: one query, so one snapshot
/// (the two always agree) and one round trip.
pub async fn find_with_last_validation(
    db: &impl ConnectionTrait,
    workspace: &str,
    tag: &str,
) -> Result<Option<(Model, Option<super::entities::validations::Model>)>, sea_orm::DbErr> {
    in_workspace(workspace)
        .filter(Column::Tag.eq(tag))
        .find_also_related(super::entities::validations::Entity)
        .one(db)
        .await
}

/// Reads the row and, on PostgreSQL, locks it until the transaction ends, so
/// read-modify-write changes (and the Vault write inside them) of one
/// connection are serialised.
pub async fn find_for_update(
    txn: &impl ConnectionTrait,
    workspace: &str,
    tag: &str,
) -> Result<Option<Model>, sea_orm::DbErr> {
    let mut query = in_workspace(workspace).filter(Column::Tag.eq(tag));
    if super::supports_row_locks(txn.get_database_backend()) {
        query = query.lock_exclusive();
    }
    query.one(txn).await
}

pub async fn find_by_request_id(
    db: &impl ConnectionTrait,
    workspace: &str,
    request_id: &str,
) -> Result<Option<Model>, sea_orm::DbErr> {
    in_workspace(workspace).filter(Column::RequestId.eq(request_id)).one(db).await
}

/// How many connections a workspace holds.
pub async fn count_in(db: &impl ConnectionTrait, workspace: &str) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    in_workspace(workspace).count(db).await
}

pub async fn insert(txn: &impl ConnectionTrait, row: ActiveModel) -> Result<Model, sea_orm::DbErr> {
    row.insert(txn).await
}

/// Saves changed columns; the caller has bumped `version`.
pub async fn update(txn: &impl ConnectionTrait, row: ActiveModel) -> Result<Model, sea_orm::DbErr> {
    row.update(txn).await
}

pub async fn delete(txn: &impl ConnectionTrait, id: Uuid) -> Result<(), sea_orm::DbErr> {
    Entity::delete_by_id(id).exec(txn).await.map(|_| ())
}

/// Filters of a list call.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub provider: Option<&'static str>,
    pub status: Option<&'static str>,
}

/// One page ordered by tag, starting after `after_tag` (keyset pagination:
/// stable under concurrent inserts and deletes, and O(page) at any depth).
pub async fn list(
    db: &impl ConnectionTrait,
    workspace: &str,
    filter: &ListFilter,
    after_tag: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>, sea_orm::DbErr> {
    let mut query = in_workspace(workspace);
    if let Some(p) = filter.provider {
        query = query.filter(Column::Provider.eq(p));
    }
    if let Some(s) = filter.status {
        query = query.filter(Column::Status.eq(s));
    }
    if let Some(after) = after_tag {
        query = query.filter(Column::Tag.gt(after));
    }
    query.order_by_asc(connections::Column::Tag).limit(limit).all(db).await
}

/// Reads and, on PostgreSQL, locks the connection a validation belongs to
/// (result consumer): one statement, the validation's row looked up inside
/// it.
pub async fn find_by_validation_for_update(
    txn: &impl ConnectionTrait,
    validation: Uuid,
) -> Result<Option<Model>, sea_orm::DbErr> {
    use super::entities::validations;
    use sea_orm::sea_query::Query;
    let owner = Query::select()
        .column(validations::Column::ConnectionId)
        .from(validations::Entity)
        .and_where(validations::Column::Id.eq(validation))
        .to_owned();
    let mut query = Entity::find().filter(Column::Id.in_subquery(owner));
    if super::supports_row_locks(txn.get_database_backend()) {
        query = query.lock_exclusive();
    }
    query.one(txn).await
}

pub async fn find_by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, sea_orm::DbErr> {
    Entity::find_by_id(id).one(db).await
}
