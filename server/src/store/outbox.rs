//! The transactional outbox table: rows written with the change that caused
//! them, claimed and marked sent by the relay.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, Order, PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, LockBehavior, LockType, Query},
};
use uuid::Uuid;

use super::entities::outbox::{ActiveModel, Column, Entity, Model};

/// What a row is, which decides where the relay publishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A public CloudEvent for `<p>.events`.
    Event,
    /// A validation job for `<p>.jobs`.
    Job,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Job => "job",
        }
    }
}

/// The outbox rows one change writes, inserted together in one statement
/// when the change commits ([`commit`]): a validation request writes three
/// messages, and each row costs a round trip when inserted on its own.
#[derive(Default)]
pub struct Pending(Vec<ActiveModel>);

impl Pending {
    pub fn push(&mut self, id: Uuid, kind: Kind, routing_key: &str, payload: String, traceparent: &str) {
        self.0.push(ActiveModel {
            id: Set(id),
            kind: Set(kind.as_str().to_owned()),
            routing_key: Set(routing_key.to_owned()),
            payload: Set(payload),
            traceparent: Set(Some(traceparent.to_owned())),
            create_time: Set(super::now()),
            sent_time: Set(None),
            refusals: Set(0),
            refused_since: Set(None),
            parked_time: Set(None),
        });
    }
}

/// Writes the change's outbox rows and commits: the change and its
/// messages become visible together, or neither does.
pub async fn commit(txn: DatabaseTransaction, pending: Pending) -> Result<(), sea_orm::DbErr> {
    Entity::insert_many(pending.0).exec_without_returning(&txn).await?;
    txn.commit().await
}

/// Claims up to `limit` unsent rows, oldest first, and marks them sent, in
/// one statement of the caller's transaction. Until that transaction ends
/// the rows stay locked and the mark is invisible: the relay commits once
/// the broker confirmed them, and a rollback (or a crash) leaves them
/// unsent. `SKIP LOCKED` lets several relays (one per replica) share the
/// table without waiting on or double-publishing each other's rows.
/// SQLite (single node) has no row locks; its writer lock suffices.
pub async fn claim(txn: &impl ConnectionTrait, limit: u64) -> Result<Vec<Model>, sea_orm::DbErr> {
    let mut oldest = Query::select()
        .column(Column::Id)
        .from(Entity)
        .and_where(Column::SentTime.is_null())
        .and_where(Column::ParkedTime.is_null())
        .order_by(Column::CreateTime, Order::Asc)
        .order_by(Column::Id, Order::Asc)
        .limit(limit)
        .to_owned();
    if super::supports_row_locks(txn.get_database_backend()) {
        oldest.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut rows = Entity::update_many()
        .col_expr(Column::SentTime, Expr::value(super::now()))
        .filter(Column::Id.in_subquery(oldest))
        .exec_with_returning(txn)
        .await?;
    // RETURNING comes in no particular order; publish oldest first.
    rows.sort_by(|a, b| (a.create_time, a.id).cmp(&(b.create_time, b.id)));
    Ok(rows)
}

/// In the relay's transaction: the claimed rows `ids` were refused by the
/// broker one by one, while others went through. They go back to unsent
/// with the refusal counted; a row refused at least `min_refusals` times
/// over more than `park_after` is parked (never claimed again). Returns
/// the ids parked now.
pub async fn refused(
    txn: &impl ConnectionTrait,
    ids: &[Uuid],
    min_refusals: i32,
    park_after: chrono::Duration,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    use sea_orm::sea_query::{ExprTrait, Func};
    let now = super::now();
    Entity::update_many()
        .col_expr(Column::SentTime, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
        .col_expr(Column::Refusals, Expr::col(Column::Refusals).add(1))
        .col_expr(
            Column::RefusedSince,
            Func::coalesce([Expr::col(Column::RefusedSince).into(), Expr::value(now)]).into(),
        )
        .filter(Column::Id.is_in(ids.to_vec()))
        .exec(txn)
        .await?;
    let parked = Entity::update_many()
        .col_expr(Column::ParkedTime, Expr::value(now))
        .filter(Column::Id.is_in(ids.to_vec()))
        .filter(Column::Refusals.gte(min_refusals))
        .filter(Column::RefusedSince.lt(now - park_after))
        .exec_with_returning(txn)
        .await?;
    Ok(parked.into_iter().map(|row| row.id).collect())
}

/// Rows set aside after repeated refusals (an operator looks at them).
pub async fn parked(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    Entity::find().filter(Column::ParkedTime.is_not_null()).count(db).await
}

/// Deletes up to `batch` rows published before `cutoff`; returns how many.
/// Bounded, so one pass after a long outage does not hold a huge delete.
pub async fn prune(
    db: &impl ConnectionTrait,
    cutoff: chrono::DateTime<chrono::Utc>,
    batch: u64,
) -> Result<u64, sea_orm::DbErr> {
    super::delete_before::<Entity>(db, Column::Id, Column::SentTime, cutoff, batch).await
}

/// Rows not yet published.
pub async fn unsent(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    Entity::find().filter(Column::SentTime.is_null()).count(db).await
}
