//! `connections`: one row per connection; unique (workspace, tag).

use std::collections::BTreeMap;

use sea_orm::entity::prelude::*;

use super::json_text;
use crate::domain::credentials::CredentialsView;

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
    /// When the scheduler next validates the connection: set while it is
    /// ACTIVE (and scheduling is on), NULL otherwise.
    pub next_validation_time: Option<DateTimeUtc>,
    /// Retryable failures in a row since the last successful validation:
    /// the next try's back-off doubles with each.
    pub revalidation_failures: i32,
    /// The credential expiry time the last `expiring` event announced.
    pub expiry_warned_time: Option<DateTimeUtc>,
    /// Which of its reminders that was: 1 the window, 2 a week before, 3 a
    /// day before (0: none).
    pub expiry_warned_stage: i16,
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

/// The typed JSON-text columns.
impl Model {
    /// The `scopes` column: the scope names the connection grants.
    pub fn scopes(&self) -> Vec<String> {
        json_text::read(&self.scopes)
    }

    /// The `credential_fields` column: the latest revision's non-secret
    /// field values.
    pub fn credential_fields(&self) -> BTreeMap<String, String> {
        json_text::read(&self.credential_fields)
    }

    /// The `secret_fields_set` column: the latest revision's secret field
    /// names that are set.
    pub fn secret_fields_set(&self) -> Vec<String> {
        json_text::read(&self.secret_fields_set)
    }
}

/// The `scopes` column's text.
pub fn scopes_text(scopes: &[String]) -> String {
    json_text::write(scopes, "[]")
}

/// The `credential_fields` and `secret_fields_set` columns' texts.
pub fn credentials_text(view: &CredentialsView) -> (String, String) {
    (json_text::write(&view.fields, "{}"), json_text::write(&view.secret_fields_set, "[]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scopes: &str, fields: &str, secrets: &str) -> Model {
        let now = chrono::Utc::now();
        Model {
            id: Uuid::nil(),
            workspace: "acme".into(),
            tag: "prod".into(),
            provider: "aws".into(),
            display_name: "prod".into(),
            description: String::new(),
            scopes: scopes.into(),
            status: "pending".into(),
            external_id: None,
            revision: 0,
            active_revision: 0,
            credential_fields: fields.into(),
            secret_fields_set: secrets.into(),
            credentials_update_time: None,
            last_validation_id: None,
            version: 1,
            request_id: None,
            request_fingerprint: None,
            create_time: now,
            update_time: now,
            next_validation_time: None,
            revalidation_failures: 0,
            expiry_warned_time: None,
            expiry_warned_stage: 0,
        }
    }

    #[test]
    fn empty_columns_are_written_as_before() {
        assert_eq!(scopes_text(&[]), "[]");
        assert_eq!(credentials_text(&CredentialsView::default()), ("{}".to_owned(), "[]".to_owned()));
    }

    #[test]
    fn columns_read_back_what_was_written() {
        let scopes = vec!["storage".to_owned(), "database".to_owned()];
        let view = CredentialsView {
            fields: BTreeMap::from([("region".to_owned(), "eu-west-1".to_owned())]),
            secret_fields_set: vec!["secret_access_key".into()],
        };
        let (fields, secrets) = credentials_text(&view);
        assert_eq!(scopes_text(&scopes), r#"["storage","database"]"#);
        assert_eq!(fields, r#"{"region":"eu-west-1"}"#);
        let row = row(&scopes_text(&scopes), &fields, &secrets);
        assert_eq!(row.scopes(), scopes);
        assert_eq!(row.credential_fields(), view.fields);
        assert_eq!(row.secret_fields_set(), view.secret_fields_set);
    }

    #[test]
    fn unreadable_columns_read_as_empty() {
        let row = row("not json", "[]", "{}");
        assert!(row.scopes().is_empty());
        assert!(row.credential_fields().is_empty());
        assert!(row.secret_fields_set().is_empty());
    }
}
