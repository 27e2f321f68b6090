//! `validations`: one row per validation run of a credential revision.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "validations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub connection_id: Uuid,
    pub workspace: String,
    /// The credential revision validated.
    pub revision: i64,
    /// `queued`, `running`, `succeeded`, `failed`, `superseded`.
    pub state: String,
    pub attempts: i32,
    pub create_time: DateTimeUtc,
    pub start_time: Option<DateTimeUtc>,
    pub end_time: Option<DateTimeUtc>,
    /// JSON `{code, message, hint, retryable, missing_permissions}` when failed.
    pub error: Option<String>,
    /// JSON array of `{scope, granted, missing_permissions}`.
    pub scope_checks: String,
    /// JSON object of the provider identity found.
    pub identity: String,
    /// JSON array of warnings.
    pub warnings: String,
    /// Sent with the job; the result must carry it back. Never shown.
    pub nonce: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
