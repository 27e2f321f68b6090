//! The re-validation schedule's queries (docs/api.md#scheduled-re-validation):
//! what is due, claiming it across replicas, moving a time on, and
//! scheduling the ACTIVE connections that have no time. The schedule is a
//! column of the connection (`next_validation_time`, with the partial index
//! `connections_next_validation`); the changes an outcome makes to it go
//! with the outcome (`connections::record_outcome`).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{
    connections::ConnectionRecord,
    entities::{
        connections::{Column, Entity},
        validations,
    },
};
use crate::domain::status::ConnectionStatus;

/// Up to `limit` ACTIVE connections of `provider` due for a scheduled
/// validation at `now`, most overdue first, locked until the transaction
/// ends. `SKIP LOCKED` lets every replica's scheduler claim at once without
/// waiting on, or taking, another's rows (the outbox relay's pattern); the
/// claimer moves each row's time on before it commits, so a row is claimed
/// once per due time. SQLite (single node) has no row locks; its writer lock
/// suffices.
pub async fn claim_due(
    txn: &impl ConnectionTrait,
    provider: &str,
    now: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> Result<Vec<ConnectionRecord>, sea_orm::DbErr> {
    use sea_orm::sea_query::{LockBehavior, LockType};
    // With each row its last validation (is one under way?), in the same
    // statement: one round trip per pass, not one per claimed row.
    let mut query = Entity::find()
        .filter(Column::NextValidationTime.lte(now))
        .filter(Column::Provider.eq(provider))
        .filter(Column::Status.eq(ConnectionStatus::Active.as_str()))
        .order_by_asc(Column::NextValidationTime)
        .limit(limit)
        .find_also_related(validations::Entity);
    if super::supports_row_locks(txn.get_database_backend()) {
        // Only the connections, as `read` does: the nullable side of an
        // outer join cannot be locked, and a validation changes only under
        // its connection's lock.
        QuerySelect::query(&mut query).lock_with_tables_behavior(LockType::Update, [Entity], LockBehavior::SkipLocked);
    }
    let rows = query.all(txn).await?;
    Ok(rows.into_iter().map(|(row, last)| ConnectionRecord::new(row, last)).collect())
}

/// Whether any connection is due at `now`: one probe of the partial index,
/// so an idle scheduler's pass costs one statement and no transaction.
pub async fn any_due(db: &impl ConnectionTrait, now: chrono::DateTime<chrono::Utc>) -> Result<bool, sea_orm::DbErr> {
    let first = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::NextValidationTime.lte(now))
        .limit(1)
        .into_tuple::<Uuid>()
        .one(db)
        .await?;
    Ok(first.is_some())
}

/// Moves a claimed connection's next validation to `next` without any
/// other change (its etag stays): the scheduler found a validation under
/// way, whose outcome will set the time again.
pub async fn postpone(
    txn: &impl ConnectionTrait,
    id: Uuid,
    next: chrono::DateTime<chrono::Utc>,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    Entity::update_many()
        .col_expr(Column::NextValidationTime, Expr::value(next))
        .filter(Column::Id.eq(id))
        .exec(txn)
        .await
        .map(|_| ())
}

/// Gives every ACTIVE connection without a time one, spread evenly over
/// `spread` from `now` (scheduling was off when it became ACTIVE, or the
/// row predates it); returns how many. Run once at the scheduler's start:
/// it reads the whole table.
pub async fn schedule_unscheduled(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
    spread: std::time::Duration,
) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::{DbBackend, Statement};
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        let sql = "UPDATE connections SET next_validation_time = $1 + random() * $2 * interval '1 millisecond' \
                   WHERE status = 'active' AND next_validation_time IS NULL";
        let spread_ms = i64::try_from(spread.as_millis()).unwrap_or(i64::MAX) as f64;
        let done = db.execute_raw(Statement::from_sql_and_values(backend, sql, [now.into(), spread_ms.into()])).await?;
        return Ok(done.rows_affected());
    }
    let rows = Entity::find()
        .filter(Column::Status.eq(ConnectionStatus::Active.as_str()))
        .filter(Column::NextValidationTime.is_null())
        .all(db)
        .await?;
    for row in &rows {
        let at = now + chrono::Duration::from_std(spread.mul_f64(crate::domain::schedule::draw())).unwrap_or_default();
        postpone(db, row.id, at).await?;
    }
    Ok(rows.len() as u64)
}

/// ACTIVE connections whose scheduled validation is due at `now`, and the
/// most overdue one's time (the partial index `connections_next_validation`
/// answers both).
pub async fn due(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(u64, Option<chrono::DateTime<chrono::Utc>>), sea_orm::DbErr> {
    #[derive(sea_orm::FromQueryResult)]
    struct Due {
        n: i64,
        oldest: Option<chrono::DateTime<chrono::Utc>>,
    }
    let due = Entity::find()
        .select_only()
        .column_as(Column::Id.count(), "n")
        .column_as(Column::NextValidationTime.min(), "oldest")
        .filter(Column::NextValidationTime.lte(now))
        .into_model::<Due>()
        .one(db)
        .await?;
    Ok(due.map_or((0, None), |d| (u64::try_from(d.n).unwrap_or(0), d.oldest)))
}
