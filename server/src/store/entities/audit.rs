//! `audit`: who changed what, written in the same transaction as the change.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace: String,
    /// The caller's subject (`sub`).
    pub actor: String,
    /// The RPC, e.g. `CreateConnection`.
    pub action: String,
    pub tag: String,
    pub connection_id: Option<Uuid>,
    pub request_id: Option<String>,
    /// `ok` for changes that committed.
    pub outcome: String,
    /// JSON object of non-secret details (changed fields, revision, …).
    pub details: String,
    pub time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
