//! `connection_consumers`: the components issued credentials for a
//! connection, and when last (one row per pair, upserted).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connection_consumers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: Uuid,
    /// `IssueCredentialsRequest.consumer`, as validated.
    #[sea_orm(primary_key, auto_increment = false)]
    pub consumer: String,
    pub last_used_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
