//! The `secret_purges` queue: Vault paths of deleted connections to destroy.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::entities::secret_purges::{ActiveModel, Column, Entity, Model};

/// Queues the purge of a deleted connection's secrets (in the delete's
/// transaction); the retrier leaves it alone until `first_attempt`.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    workspace: &str,
    connection_id: Uuid,
    first_attempt: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    ActiveModel {
        connection_id: Set(connection_id),
        workspace: Set(workspace.to_owned()),
        attempts: Set(0),
        last_error: Set(None),
        create_time: Set(super::now()),
        next_attempt_time: Set(first_attempt),
    }
    .insert(txn)
    .await
    .map(|_| ())
}

/// Purges whose next attempt is due, oldest first.
pub async fn due(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<Model>, sea_orm::DbErr> {
    Entity::find()
        .filter(Column::NextAttemptTime.lte(now))
        .order_by_asc(Column::NextAttemptTime)
        .limit(limit)
        .all(db)
        .await
}

/// The secret is gone: forget the purge.
pub async fn complete(db: &impl ConnectionTrait, connection_id: Uuid) -> Result<(), sea_orm::DbErr> {
    Entity::delete_by_id(connection_id).exec(db).await.map(|_| ())
}

/// Records a failed attempt and when to try next.
pub async fn failed(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
    error: &str,
    next_attempt: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::LastError, Expr::value(error.to_owned()))
        .col_expr(Column::NextAttemptTime, Expr::value(next_attempt))
        .filter(Column::ConnectionId.eq(connection_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// How many purges are waiting (for tests and, later, metrics).
pub async fn pending(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    Entity::find().count(db).await
}
