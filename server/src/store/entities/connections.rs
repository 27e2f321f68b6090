//! `connections`: one row per connection; unique (workspace, tag).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    /// The connection's uid: also its Vault path key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace: String,
    pub tag: String,
    /// `aws`, `gcp`, … (`domain::provider::Provider::as_str`).
    pub provider: String,
    pub display_name: String,
    pub description: String,
    /// JSON array of scope names.
    pub scopes: String,
    /// `pending`, `active`, `failed`.
    pub status: String,
    pub external_id: Option<String>,
    /// Latest saved credential revision (Vault KV version), 0 = none.
    pub revision: i64,
    /// Revision in use, 0 = none.
    pub active_revision: i64,
    /// JSON object of the latest revision's non-secret field values.
    pub credential_fields: String,
    /// JSON array of the latest revision's secret field names that are set.
    pub secret_fields_set: String,
    pub credentials_update_time: Option<DateTimeUtc>,
    pub last_validation_id: Option<Uuid>,
    /// Change counter behind the etag; bumped by every change.
    pub version: i64,
    /// AIP-155 idempotency key of the create that made this row.
    pub request_id: Option<String>,
    /// Hash of that create request, to tell a retry from a reuse of the key.
    pub request_fingerprint: Option<String>,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The row's latest validation, so a read can join it in the same
    /// query (one round trip, one snapshot).
    #[sea_orm(
        belongs_to = "super::validations::Entity",
        from = "Column::LastValidationId",
        to = "super::validations::Column::Id"
    )]
    LastValidation,
}

impl Related<super::validations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LastValidation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
