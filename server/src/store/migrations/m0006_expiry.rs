//! Expiry warnings (docs/api.md#credential-expiry):
//! `connections.expiry_warned_time` is the credential expiry time the last
//! `expiring` event announced, so each date is announced once, not at every
//! validation; a new credential with another date is announced again.

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
        m.alter_table(
            Table::alter()
                .table(Connections::Table)
                .add_column(ColumnDef::new(Connections::ExpiryWarnedTime).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Connections::Table).drop_column(Connections::ExpiryWarnedTime).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    ExpiryWarnedTime,
}
