//! CompleteConnection: save a new credential revision.
//!
//! Order of effects, and why:
//! 1. Lock the connection row (PostgreSQL `FOR UPDATE`), so two completions
//!    of one connection cannot interleave their Vault writes.
//! 2. Read the stored revision (blank fields keep its values) and merge.
//! 3. Write the new version to Vault with check-and-set on the revision the
//!    database knows.
//! 4. Record the revision on the row and commit.
//!
//! If the commit fails after step 3, Vault holds a version no row points to.
//! It is unreachable (reads go by the row's revision), destroyed with the
//! connection, and the next completion builds on top of it (see
//! [`Lifecycle::write_revision`]). The row never points to a version that is
//! not readable.

use cloudconn_infra::secrets::{SecretFields, SecretPath, SecretStoreError};
use sea_orm::TransactionTrait;

use super::{Lifecycle, detached, lock_for_change, secret_path};
use cloudconn_infra::telemetry::propagation::current_traceparent;

use crate::{
    auth::Actor,
    domain::{
        Violations,
        credentials::{self, Submitted},
        names::{Tag, Workspace},
        provider::Provider,
    },
    error::AppError,
    outbox::events::{self, EventKind},
    store::{self, audit, connections::ConnectionRecord, outbox, validations},
};

/// A complete request whose field formats have been checked.
pub struct CompleteCommand {
    pub workspace: Workspace,
    pub tag: Tag,
    pub submitted: Submitted,
    pub validate: bool,
    pub etag: String,
}

impl Lifecycle {
    pub async fn complete(&self, actor: &Actor, cmd: CompleteCommand) -> Result<ConnectionRecord, AppError> {
        let this = self.clone();
        let actor = actor.clone();
        detached(async move { this.complete_detached(actor, cmd).await }).await
    }

    async fn complete_detached(&self, actor: Actor, cmd: CompleteCommand) -> Result<ConnectionRecord, AppError> {
        let txn = self.db.begin().await?;
        let mut record = lock_for_change(&txn, &cmd.workspace, &cmd.tag, &cmd.etag, true).await?;
        let row = record.row.clone();
        let provider = Provider::from_db(&row.provider)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown provider in row {}", row.id)))?;
        if provider != cmd.submitted.provider {
            return Err(AppError::FailedPrecondition {
                reason: "PROVIDER_MISMATCH",
                message: format!(
                    "the connection's provider is {provider}; send its credentials message ({}) instead of {}",
                    provider.as_str(),
                    cmd.submitted.branch
                ),
            });
        }

        let path = secret_path(&row);
        let stored = u64::try_from(row.revision).unwrap_or(0);
        let previous = if stored > 0 { Some(self.secrets.read(&path, stored).await?) } else { None };
        let mut violations = Violations::default();
        let branch = cmd.submitted.branch;
        let merged = credentials::merge(cmd.submitted, previous, &mut violations);
        let kind = credentials::kind_of(provider, &merged);
        if kind.keyless && self.oidc_issuer.is_none() && violations.is_empty() {
            violations.push(
                format!("{branch}.kind"),
                format!(
                    "{} needs this cloudconn to be an OpenID Connect issuer, and its operators have not set \
                     CLOUDCONN_OIDC_ISSUER; choose {} or ask them to",
                    kind.name,
                    provider.default_kind().name
                ),
            );
        }
        if !violations.is_empty() {
            return Err(AppError::InvalidArgument(violations.into_vec()));
        }
        let view = credentials::view(provider, &merged);
        let changed_fields: Vec<&str> =
            provider.fields().iter().map(|f| f.name).filter(|n| merged.contains_key(*n)).collect();

        let revision = self.write_revision(&path, &merged, stored).await?;
        drop(merged);

        let revision_column = i64::try_from(revision).unwrap_or(i64::MAX);
        record.row = store::connections::save_revision(&txn, row, revision_column, &view).await?;
        let mut out = outbox::Pending::default();
        let audit = audit::prepare(
            &mut out,
            audit::AuditEntry {
                workspace: &record.row.workspace,
                actor: &actor.subject,
                action: "CompleteConnection",
                tag: &record.row.tag,
                connection_id: Some(record.row.id),
                request_id: None,
                details: serde_json::json!({ "revision": revision, "fields": changed_fields }),
            },
        );
        // An unfinished validation of an older revision is overtaken.
        let latest = record.row.revision;
        validations::supersede_last(&txn, &mut record, latest).await?;
        let traceparent = current_traceparent();
        events::record_event(&mut out, EventKind::CredentialsSaved, &record, &traceparent);
        if cmd.validate {
            // "Save and validate" in one transaction: the job cannot be lost
            // between the two.
            super::validate::start_validation(
                &txn,
                &mut out,
                &mut record,
                &traceparent,
                crate::domain::status::Trigger::Complete,
                latest,
                None,
            )
            .await?;
        }
        self.finish(txn, out, audit).await?;
        Ok(record)
    }

    /// Writes `fields` as the version after `expected`.
    ///
    /// A check-and-set conflict while we hold the row lock cannot be another
    /// server (it would need the lock): it is a version left by a write whose
    /// commit failed. We build on top of it rather than fail forever.
    async fn write_revision(&self, path: &SecretPath, fields: &SecretFields, expected: u64) -> Result<u64, AppError> {
        match self.secrets.write(path, fields, expected).await {
            Err(SecretStoreError::VersionConflict) => {
                let current = self.secrets.current_version(path).await?;
                if current > expected {
                    tracing::warn!(
                        expected,
                        current,
                        "secret store is ahead of the database; writing over an orphaned version"
                    );
                    Ok(self.secrets.write(path, fields, current).await?)
                } else {
                    Err(SecretStoreError::VersionConflict.into())
                }
            }
            other => Ok(other?),
        }
    }
}
