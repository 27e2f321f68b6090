//! Expiry warnings (docs/api.md#credential-expiry):
//! `connections.expiry_warned_time` is the credential expiry time the last
//! `expiring` event announced, and `expiry_warned_stage` which reminder it
//! was (the window, a week before, a day before), so each is announced
//! once, not at every validation; a new credential's date starts again.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_expiry"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(Connections::Table)
                .add_column(ColumnDef::new(Connections::ExpiryWarnedTime).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Connections::Table)
                .add_column(ColumnDef::new(Connections::ExpiryWarnedStage).small_integer().not_null().default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Connections::ExpiryWarnedTime, Connections::ExpiryWarnedStage] {
            m.alter_table(Table::alter().table(Connections::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    ExpiryWarnedTime,
    ExpiryWarnedStage,
}
