//! The run step (docs/run.md): `connection_consumers`, who was issued
//! credentials for which connection and when last, so `Connection.consumers`
//! shows an operator who depends on a connection before a rotation or a
//! delete. One row per (connection, consumer), upserted; rows older than 30
//! days are pruned.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_consumers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ConnectionConsumers::Table)
                .col(uuid(ConnectionConsumers::ConnectionId))
                .col(string_len(ConnectionConsumers::Consumer, 64))
                .col(timestamp_with_time_zone(ConnectionConsumers::LastUsedTime))
                .primary_key(Index::create().col(ConnectionConsumers::ConnectionId).col(ConnectionConsumers::Consumer))
                .to_owned(),
        )
        .await?;
        // For pruning by age.
        m.create_index(
            Index::create()
                .name("connection_consumers_last_used")
                .table(ConnectionConsumers::Table)
                .col(ConnectionConsumers::LastUsedTime)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ConnectionConsumers::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ConnectionConsumers {
    Table,
    ConnectionId,
    Consumer,
    LastUsedTime,
}
