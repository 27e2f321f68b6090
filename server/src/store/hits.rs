//! Writes `issue_hits` (see its migration): repeat IssueCredentials hits,
//! counted in memory and added here in one statement per flush.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Alias, Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use super::entities::issue_hits::{ActiveModel, Column, Entity};

/// What a count is kept for: the cache's key as the audit names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HitKey {
    pub connection_id: Uuid,
    pub consumer: String,
    pub subject: String,
    pub scope: String,
    pub revision: i64,
}

/// Hits since the last flush, and the time of the latest.
#[derive(Debug, Clone, Copy)]
pub struct HitCount {
    pub hits: u64,
    pub last: DateTime<Utc>,
}

/// Adds each key's hits to its row (made if new) and moves its
/// `last_used_time` on: one statement for the whole flush.
pub async fn add(txn: &impl ConnectionTrait, counts: &HashMap<HitKey, HitCount>) -> Result<(), sea_orm::DbErr> {
    if counts.is_empty() {
        return Ok(());
    }
    let rows = counts.iter().map(|(key, count)| ActiveModel {
        connection_id: sea_orm::Set(key.connection_id),
        consumer: sea_orm::Set(key.consumer.clone()),
        subject: sea_orm::Set(key.subject.clone()),
        scope: sea_orm::Set(key.scope.clone()),
        revision: sea_orm::Set(key.revision),
        hits: sea_orm::Set(i64::try_from(count.hits).unwrap_or(i64::MAX)),
        last_used_time: sea_orm::Set(count.last),
    });
    // `excluded` is the row this statement tried to insert (PostgreSQL and
    // SQLite both call it that): the stored count plus this flush's.
    let added = Expr::col((Entity, Column::Hits)).add(Expr::col((Alias::new("excluded"), Column::Hits)));
    Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                Column::ConnectionId,
                Column::Consumer,
                Column::Subject,
                Column::Scope,
                Column::Revision,
            ])
            .value(Column::Hits, added)
            .value(Column::LastUsedTime, super::later_of::<Entity>(Column::LastUsedTime))
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map(drop)
}

/// Deletes counts not moved on within the consumers' window; returns how many.
pub async fn prune(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    Entity::delete_many()
        .filter(Column::LastUsedTime.lt(Utc::now() - super::consumers::WINDOW))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}
