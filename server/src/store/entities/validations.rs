//! `validations`: one row per validation run of a credential revision.

use std::collections::BTreeMap;

use cloudconn_infra::amqp::messages::{ProbeError, ScopeCheck};
use sea_orm::entity::prelude::*;

use super::json_text;

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
    /// JSON `{code, message, hint, retryable, missing_permissions}` when failed
    /// (the worker's message types, as received: one shape serves the queue
    /// and the database).
    pub error: Option<String>,
    /// JSON array of `{scope, granted, missing_permissions}`.
    pub scope_checks: String,
    /// JSON object of the provider identity found.
    pub identity: String,
    /// JSON array of warnings.
    pub warnings: String,
    /// Sent with the job; the result must carry it back. Never shown.
    pub nonce: Option<String>,
    /// What started it: `manual`, `complete` or `scheduled`
    /// (`domain::status::Trigger`).
    pub trigger: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The typed JSON-text columns.
impl Model {
    /// The `error` column: why the validation failed; `None` unless it did
    /// (or if the text does not parse).
    pub fn error(&self) -> Option<ProbeError> {
        self.error.as_deref().and_then(|e| serde_json::from_str(e).ok())
    }

    /// The `scope_checks` column.
    pub fn scope_checks(&self) -> Vec<ScopeCheck> {
        json_text::read(&self.scope_checks)
    }

    /// The `identity` column: the provider identity found.
    pub fn identity(&self) -> BTreeMap<String, String> {
        json_text::read(&self.identity)
    }

    /// The `warnings` column.
    pub fn warnings(&self) -> Vec<String> {
        json_text::read(&self.warnings)
    }
}

/// The `error` column's text.
pub fn error_text(error: &ProbeError) -> String {
    json_text::write(error, "{}")
}

/// The `scope_checks` column's text.
pub fn scope_checks_text(checks: &[ScopeCheck]) -> String {
    json_text::write(checks, "[]")
}

/// The `identity` column's text.
pub fn identity_text(identity: &BTreeMap<String, String>) -> String {
    json_text::write(identity, "{}")
}

/// The `warnings` column's text.
pub fn warnings_text(warnings: &[String]) -> String {
    json_text::write(warnings, "[]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(error: Option<&str>, checks: &str, identity: &str, warnings: &str) -> Model {
        Model {
            id: Uuid::nil(),
            connection_id: Uuid::nil(),
            workspace: "acme".into(),
            revision: 1,
            state: "failed".into(),
            attempts: 1,
            create_time: chrono::Utc::now(),
            start_time: None,
            end_time: None,
            error: error.map(str::to_owned),
            scope_checks: checks.into(),
            identity: identity.into(),
            warnings: warnings.into(),
            nonce: None,
            trigger: "manual".into(),
        }
    }

    #[test]
    fn empty_columns_are_written_as_before() {
        assert_eq!(scope_checks_text(&[]), "[]");
        assert_eq!(identity_text(&BTreeMap::new()), "{}");
        assert_eq!(warnings_text(&[]), "[]");
    }

    #[test]
    fn columns_read_back_what_was_written() {
        let error = ProbeError {
            code: "ACCESS_DENIED".into(),
            message: "no".into(),
            hint: "grant it".into(),
            retryable: false,
            missing_permissions: vec!["s3:ListBucket".into()],
        };
        let checks = vec![ScopeCheck {
            scope: "storage".into(),
            granted: false,
            missing_permissions: vec!["s3:ListBucket".into()],
        }];
        let identity = BTreeMap::from([("account".to_owned(), "123".to_owned())]);
        let warnings = vec!["slow".to_owned()];
        let row = row(
            Some(&error_text(&error)),
            &scope_checks_text(&checks),
            &identity_text(&identity),
            &warnings_text(&warnings),
        );
        assert_eq!(row.error(), Some(error));
        assert_eq!(row.scope_checks(), checks);
        assert_eq!(row.identity(), identity);
        assert_eq!(row.warnings(), warnings);
    }

    #[test]
    fn unreadable_columns_read_as_empty() {
        let row = row(Some("oops"), "{}", "[]", "");
        assert_eq!(row.error(), None);
        assert!(row.scope_checks().is_empty());
        assert!(row.identity().is_empty());
        assert!(row.warnings().is_empty());
    }
}
