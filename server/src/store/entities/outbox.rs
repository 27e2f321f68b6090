//! `outbox`: messages committed with the state change that caused them,
//! published by the relay and then marked sent.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    /// Also the message id / CloudEvents id: stable across redeliveries.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Logical destination: `job` or `event`.
    pub kind: String,
    pub routing_key: String,
    /// The message body (JSON); never a secret value.
    pub payload: String,
    /// W3C `traceparent` of the change that wrote the row.
    pub traceparent: Option<String>,
    pub create_time: DateTimeUtc,
    pub sent_time: Option<DateTimeUtc>,
    /// Times the broker refused this row on its own (others went through).
    pub refusals: i32,
    /// When the first of those refusals happened.
    pub refused_since: Option<DateTimeUtc>,
    /// Set aside after being refused for long: never claimed again.
    pub parked_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
