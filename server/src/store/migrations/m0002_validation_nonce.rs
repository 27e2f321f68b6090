//! Hardening (security review M2, M7):
//! - `validations.nonce`: a random value the job carries and its result must
//!   return, so a message on the results queue that did not come from the
//!   job's worker changes nothing. Rows from before have none.
//! - `validations_unfinished`: a partial index for the deadline sweeper,
//!   which looks only at queued and running validations, oldest first.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_validation_nonce"
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
        m.alter_table(Table::alter().table(Validations::Table).drop_column(Validations::Nonce).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Validations {
    Table,
    Nonce,
}
