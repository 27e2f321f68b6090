//! Hardening (security review M2, M7):
//! - `validations.nonce`: a random value the job carries and its result must
//!   return, so a message on the results queue that did not come from the
//!   job's worker changes nothing. Rows from before have none.
//! - `validations_unfinished`: a partial index for the deadline sweeper,
//!   which looks only at queued and running validations, oldest first.
//! - `outbox.refusals`, `refused_since`, `parked_time`: a row the broker
//!   refuses on its own is retried, then set aside (L7) instead of holding
//!   every row behind it.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_hardening"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Validations::Table)
                .add_column(ColumnDef::new(Validations::Nonce).string_len(64).null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Outbox::Table)
                .add_column(ColumnDef::new(Outbox::Refusals).integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
        // SQLite adds one column per ALTER TABLE.
        for column in [Outbox::RefusedSince, Outbox::ParkedTime] {
            m.alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(ColumnDef::new(column).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        }
        // sea-query has no partial index; this statement is the same on
        // PostgreSQL and SQLite.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX validations_unfinished ON validations (create_time) \
                 WHERE state IN ('queued', 'running')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX validations_unfinished").await?;
        for column in [Outbox::Refusals, Outbox::RefusedSince, Outbox::ParkedTime] {
            m.alter_table(Table::alter().table(Outbox::Table).drop_column(column).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(Validations::Table).drop_column(Validations::Nonce).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Refusals,
    RefusedSince,
    ParkedTime,
}

#[derive(DeriveIden)]
enum Validations {
    Table,
    Nonce,
}
