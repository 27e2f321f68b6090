//! Persistence: sea-orm entities, migrations, and one function per state
//! change. Functions take the caller's connection or transaction, so a service
//! writes the state change, its audit row (and later its outbox rows) in one
//! transaction and commits once.

pub mod audit;
pub mod connections;
pub mod consumers;
pub mod entities;
pub mod hits;
pub mod migrations;
pub mod outbox;
pub mod purges;
pub mod schedule;
pub mod statements;
pub mod validations;

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use secrecy::{ExposeSecret, SecretString};

/// How long a pooled connection may sit idle before it is pinged again
/// at checkout.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Opens the pool. Acquire and connect time out at the dependency timeout, so
/// a down database gives a prompt `UNAVAILABLE` instead of a hung RPC.
pub async fn connect(url: &SecretString, pool_size: u32, timeout: Duration) -> Result<DatabaseConnection, DbErr> {
    let url = url.expose_secret();
    // SQLite allows one writer, and a transaction that reads before it
    // writes fails (SQLITE_BUSY, not retried) if another connection wrote in
    // between. One connection serialises transactions instead: right for
    // the single-node and --dev uses SQLite is for.
    let pool_size = if url.starts_with("sqlite:") { 1 } else { pool_size };
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(pool_size)
        .min_connections(1)
        .connect_timeout(timeout)
        .acquire_timeout(timeout)
        // sqlx pings a pooled connection (a round trip to the database) on
        // every checkout by default: under load that was one extra round
        // trip per statement or transaction. A connection used within the
        // last second is alive; one idle longer is still checked before
        // use, which is when a restart, proxy or firewall has dropped it.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        // Statement logging would print SQL at `info`; parameters are not
        // logged by sqlx, but the noise buries what matters.
        .sqlx_logging(false);
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(|info| statements::STATEMENTS.count(&info.statement.sql));
    Ok(db)
}

/// The advisory lock key replicas take around migrating: any constant that
/// nothing else in the database uses ("cloudcon" in ASCII).
const MIGRATION_LOCK: i64 = 0x636c_6f75_6463_6f6e;
/// How long a replica waits for another one's migrations before giving up.
const MIGRATION_LOCK_WAIT: Duration = Duration::from_secs(120);

/// Brings the schema up to date.
///
/// Replicas starting together on a new database (a first install, or an
/// upgrade that adds a migration) would otherwise all create the same types
/// and tables at once, and all but one fail on PostgreSQL's catalogue
/// (`pg_type_typname_nsp_index`). On PostgreSQL the migrations run in one
/// transaction holding an advisory lock: the first replica migrates, the
/// others wait, then find nothing left to do. DDL is transactional there,
/// so a failed migration leaves nothing half-applied.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return migrations::Migrator::up(db, None).await;
    }
    let txn = db.begin().await?;
    // lock_timeout also bounds the wait for an advisory lock.
    txn.execute_unprepared(&format!("SET LOCAL lock_timeout = '{}s'", MIGRATION_LOCK_WAIT.as_secs())).await?;
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")).await?;
    migrations::Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// Whether row locks (`FOR UPDATE`) mean anything: SQLite serialises writers
/// anyway and rejects the clause.
pub fn supports_row_locks(backend: DbBackend) -> bool {
    matches!(backend, DbBackend::Postgres)
}

/// Now, truncated to microseconds: what PostgreSQL stores, so a value
/// returned by a write equals the one a later read returns.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    let micros = now.timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or(now)
}

/// Deletes at most `batch` rows of `E` whose `time` is before `cutoff`,
/// found by `id`; returns how many. Bounded, so one pass after a long pause
/// does not hold a huge delete (retention of the outbox and the audit).
pub(crate) async fn delete_before<E>(
    db: &impl ConnectionTrait,
    id: E::Column,
    time: E::Column,
    cutoff: chrono::DateTime<chrono::Utc>,
    batch: u64,
) -> Result<u64, DbErr>
where
    E: sea_orm::EntityTrait + Default,
{
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Query};
    let oldest = Query::select().column(id).from(E::default()).and_where(time.lt(cutoff)).limit(batch).to_owned();
    E::delete_many().filter(id.in_subquery(oldest)).exec(db).await.map(|r| r.rows_affected)
}

/// In an upsert's `ON CONFLICT … DO UPDATE`: the later of the stored value
/// of the time column `column` and the one being inserted (`excluded`, as
/// PostgreSQL and SQLite both name it), so writes that land out of order
/// (a flush of hit counts after a newer first receipt) never move it back.
pub(crate) fn later_of<E>(column: E::Column) -> sea_orm::sea_query::Expr
where
    E: sea_orm::EntityTrait + Default,
{
    use sea_orm::sea_query::{Alias, CaseStatement, Expr, ExprTrait};
    let stored = Expr::col((E::default(), column));
    let new = Expr::col((Alias::new("excluded"), column));
    CaseStatement::new().case(new.clone().gt(stored.clone()), new).finally(stored).into()
}
