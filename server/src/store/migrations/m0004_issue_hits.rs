//! `issue_hits`: how often each token subject was served cached credentials
//! it had already received (docs/run.md). A credential's first receipt is an
//! audit row; repeats are only counted here, flushed from memory about once
//! a second, one row per (connection, consumer, subject, scope, revision)
//! upserted with the count added. Rows past the consumers' 30-day window are
//! pruned with them.
//!
//! And `audit_time`: audit rows are now deleted past a retention, by time
//! across workspaces (the existing index leads with the workspace).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_issue_hits"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IssueHits::Table)
                .col(uuid(IssueHits::ConnectionId))
                .col(string_len(IssueHits::Consumer, 64))
                .col(string_len(IssueHits::Subject, 255))
                .col(string_len(IssueHits::Scope, 32))
                .col(big_integer(IssueHits::Revision))
                .col(big_integer(IssueHits::Hits))
                .col(timestamp_with_time_zone(IssueHits::LastUsedTime))
                .primary_key(
                    Index::create()
                        .col(IssueHits::ConnectionId)
                        .col(IssueHits::Consumer)
                        .col(IssueHits::Subject)
                        .col(IssueHits::Scope)
                        .col(IssueHits::Revision),
                )
                .to_owned(),
        )
        .await?;
        // For pruning by age.
        m.create_index(
            Index::create()
                .name("issue_hits_last_used")
                .table(IssueHits::Table)
                .col(IssueHits::LastUsedTime)
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("audit_time").table(Audit::Table).col(Audit::Time).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("audit_time").table(Audit::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(IssueHits::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Audit {
    Table,
    Time,
}

#[derive(DeriveIden)]
enum IssueHits {
    Table,
    ConnectionId,
    Consumer,
    Subject,
    Scope,
    Revision,
    Hits,
    LastUsedTime,
}
