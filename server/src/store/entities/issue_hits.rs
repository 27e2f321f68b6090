//! `issue_hits`: repeat IssueCredentials hits, counted per key (one row per
//! connection, consumer, token subject, scope and revision, upserted).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "issue_hits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: Uuid,
    /// `IssueCredentialsRequest.consumer`: the caller's label.
    #[sea_orm(primary_key, auto_increment = false)]
    pub consumer: String,
    /// The token's `sub`: who was served.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub revision: i64,
    /// Repeat hits counted so far (first receipts are audit rows instead).
    pub hits: i64,
    pub last_used_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
