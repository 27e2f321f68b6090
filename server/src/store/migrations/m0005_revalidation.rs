//! Scheduled re-validation (docs/api.md#scheduled-re-validation):
//! - `connections.next_validation_time`: when the scheduler next validates
//!   the connection; set while it is ACTIVE, NULL otherwise. Indexed (only
//!   the rows that have one), since every replica's scheduler looks for the
//!   due ones, oldest first, every second.
//! - `connections.revalidation_failures`: retryable failures in a row since
//!   the last success, for the back-off of the next try.
//! - `validations.trigger`: what started a validation, `manual`
//!   (ValidateConnection), `complete` (CompleteConnection with `validate`)
//!   or `scheduled`. Rows from before are `manual`.
//!
//! Connections already ACTIVE get a time spread evenly over one default
//! interval (24 h) from now, so an upgrade does not validate them all at once.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_revalidation"
    }
}

/// The spread of existing ACTIVE connections' first scheduled validation.
const SPREAD_SECONDS: i64 = 86_400;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(Connections::Table)
                .add_column(ColumnDef::new(Connections::NextValidationTime).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Connections::Table)
                .add_column(ColumnDef::new(Connections::RevalidationFailures).integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Validations::Table)
                .add_column(ColumnDef::new(Validations::Trigger).string_len(16).not_null().default("manual"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // A partial index (the same text on PostgreSQL and SQLite): only
        // ACTIVE connections have a time.
        db.execute_unprepared(
            "CREATE INDEX connections_next_validation ON connections (next_validation_time) \
             WHERE next_validation_time IS NOT NULL",
        )
        .await?;
        // What each replica's scheduler looks for at start (ACTIVE rows not
        // yet scheduled: normally none), so that look is not a scan of the
        // whole table at every start.
        db.execute_unprepared(
            "CREATE INDEX connections_active_unscheduled ON connections (id) \
             WHERE status = 'active' AND next_validation_time IS NULL",
        )
        .await?;
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "UPDATE connections SET next_validation_time = now() + random() * interval '{SPREAD_SECONDS} \
                     seconds' WHERE status = 'active'"
                ))
                .await?;
            }
            // SQLite (one node, few rows): one update per row, with the time
            // bound as a value so it is stored as every other time is.
            backend => {
                use sea_orm_migration::sea_orm::Statement;
                let rows = db
                    .query_all_raw(Statement::from_string(
                        backend,
                        "SELECT id FROM connections WHERE status = 'active'",
                    ))
                    .await?;
                let now = chrono::Utc::now();
                let count = rows.len().max(1) as i64;
                for (n, row) in rows.iter().enumerate() {
                    let id: uuid::Uuid = row.try_get("", "id")?;
                    let at = now + chrono::Duration::seconds(SPREAD_SECONDS * n as i64 / count);
                    db.execute_raw(Statement::from_sql_and_values(
                        backend,
                        "UPDATE connections SET next_validation_time = ? WHERE id = ?",
                        [at.into(), id.into()],
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX connections_active_unscheduled").await?;
        m.get_connection().execute_unprepared("DROP INDEX connections_next_validation").await?;
        m.alter_table(Table::alter().table(Validations::Table).drop_column(Validations::Trigger).to_owned()).await?;
        for column in [Connections::NextValidationTime, Connections::RevalidationFailures] {
            m.alter_table(Table::alter().table(Connections::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    NextValidationTime,
    RevalidationFailures,
}

#[derive(DeriveIden)]
enum Validations {
    Table,
    Trigger,
}
