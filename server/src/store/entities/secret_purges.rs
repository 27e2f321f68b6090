//! `secret_purges`: Vault paths of deleted connections still to be destroyed.
//!
//! Written in the delete's transaction, removed once Vault confirms the
//! destroy; the purge retrier works through what is left.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "secret_purges")]
pub struct Model {
    /// The deleted connection's uid.
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: Uuid,
    pub workspace: String,
    pub attempts: i32,
    /// Why the last attempt failed (never secret data).
    pub last_error: Option<String>,
    pub create_time: DateTimeUtc,
    pub next_attempt_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
