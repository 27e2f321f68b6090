//! Reads and writes `connection_consumers` (see its migration).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::OnConflict,
};
use uuid::Uuid;

use super::entities::connection_consumers::{ActiveModel, Column, Entity, Model};

/// How far back `Connection.consumers` looks (docs/run.md).
pub const WINDOW: chrono::Duration = chrono::Duration::days(30);
/// Consumers shown per connection, most recent first.
pub const SHOWN: usize = 100;

/// Records that each `(connection, consumer)` was used at its time: one
/// statement for the batch, keeping the later time on a conflict.
pub async fn touch(
    txn: &impl ConnectionTrait,
    uses: &HashMap<(Uuid, String), DateTime<Utc>>,
) -> Result<(), sea_orm::DbErr> {
    if uses.is_empty() {
        return Ok(());
    }
    let rows = uses.iter().map(|((connection_id, consumer), time)| ActiveModel {
        connection_id: sea_orm::Set(*connection_id),
        consumer: sea_orm::Set(consumer.clone()),
        last_used_time: sea_orm::Set(*time),
    });
    Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([Column::ConnectionId, Column::Consumer])
                .value(Column::LastUsedTime, super::later_of::<Entity>(Column::LastUsedTime))
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map(drop)
}

/// One connection's consumers of the last [`WINDOW`], most recent first,
/// at most [`SHOWN`].
pub async fn recent(db: &impl ConnectionTrait, connection_id: Uuid) -> Result<Vec<Model>, sea_orm::DbErr> {
    Entity::find()
        .filter(Column::ConnectionId.eq(connection_id))
        .filter(Column::LastUsedTime.gt(Utc::now() - WINDOW))
        .order_by_desc(Column::LastUsedTime)
        .limit(SHOWN as u64)
        .all(db)
        .await
}

/// When each of these connections was last used (within the window): one
/// grouped query for a whole page of a listing.
pub async fn last_used(
    db: &impl ConnectionTrait,
    connection_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, DateTime<Utc>>, sea_orm::DbErr> {
    if connection_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Option<DateTime<Utc>>)> = Entity::find()
        .select_only()
        .column(Column::ConnectionId)
        .column_as(Column::LastUsedTime.max(), "last_used_time")
        .filter(Column::ConnectionId.is_in(connection_ids))
        .filter(Column::LastUsedTime.gt(Utc::now() - WINDOW))
        .group_by(Column::ConnectionId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(id, time)| Some((id, time?))).collect())
}

/// How many consumers a connection has had within the window (a new
/// consumer is refused beyond [`MAX_PER_CONNECTION`]).
pub async fn count(db: &impl ConnectionTrait, connection_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    Entity::find()
        .filter(Column::ConnectionId.eq(connection_id))
        .filter(Column::LastUsedTime.gt(Utc::now() - WINDOW))
        .count(db)
        .await
}

/// Distinct consumers one connection may have within the window: the names
/// are the caller's, so without a bound one token could grow the table
/// without end.
pub const MAX_PER_CONNECTION: u64 = 1000;

/// Whether this consumer was recorded for the connection within the window.
pub async fn known(db: &impl ConnectionTrait, connection_id: Uuid, consumer: &str) -> Result<bool, sea_orm::DbErr> {
    Ok(Entity::find_by_id((connection_id, consumer.to_owned()))
        .filter(Column::LastUsedTime.gt(Utc::now() - WINDOW))
        .one(db)
        .await?
        .is_some())
}

/// Deletes rows older than the window; returns how many.
pub async fn prune(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    Entity::delete_many().filter(Column::LastUsedTime.lt(Utc::now() - WINDOW)).exec(db).await.map(|r| r.rows_affected)
}
