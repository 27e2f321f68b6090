//! The connection lifecycle: one module per use case, each composing domain
//! rules, the store and the secret store, one database transaction per call.
//!
//! Calls that write to Vault and then commit (complete, delete) run in a
//! spawned task: tonic drops a handler's future when the client goes away,
//! and a future dropped between the Vault write and the commit would leave
//! them apart. A spawned task finishes the unit of work regardless.

mod complete;
mod create;
mod delete;
mod outcome;
mod query;
mod revalidate;
mod update;
mod validate;

use std::{future::Future, sync::Arc};

use cloudconn_infra::secrets::{SecretPath, SecretStore};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

pub use complete::CompleteCommand;
pub use create::CreateCommand;
pub use delete::DeleteCommand;
pub use outcome::ResultFrom;
pub use query::{AuditQuery, ListPage, ListQuery};
pub use revalidate::Revalidator;
pub use update::UpdateCommand;
pub use validate::{MAX_WAIT, ValidateCommand, job_for};

use crate::{
    error::AppError,
    store::{audit, entities::connections, outbox},
};

/// The lifecycle operations over shared handles. Cheap to clone.
#[derive(Clone)]
pub struct Lifecycle {
    pub db: DatabaseConnection,
    pub secrets: Arc<dyn SecretStore>,
    /// Poked after every commit that wrote outbox rows, so the relay
    /// publishes at once instead of at its next poll.
    pub outbox_wake: Arc<Notify>,
    /// The id of every validation this replica finished, for `wait`ing
    /// callers: each wakes for its own id only, not for everyone's.
    pub validation_done: broadcast::Sender<Uuid>,
    /// Cancelled when the server starts draining: `wait`ing callers get the
    /// current state at once instead of holding the shutdown up.
    pub draining: CancellationToken,
    pub metrics: Arc<crate::ops::metrics::Metrics>,
    pub quotas: crate::quota::Quotas,
    /// Removes what the run step left at a provider (Atlas users) after a
    /// delete or a rotation; set once the minter exists.
    pub revoker: Option<crate::credentials::revoke::Revoker>,
    /// The run step's copies of connection rows, dropped here when a change
    /// to a connection commits, so this replica's repeats see it at once.
    pub issue_rows: Option<Arc<crate::credentials::rows::RowCopies>>,
    /// Scheduled re-validation (`CLOUDCONN_REVALIDATE_*`): the outcomes
    /// set when an ACTIVE connection is validated next.
    pub revalidation: crate::domain::schedule::Revalidation,
    /// `CLOUDCONN_EXPIRY_WARNING_MS`: how near a credential's expiry must be
    /// for a validation to warn and an `expiring` event to go out.
    pub expiry_warning: std::time::Duration,
    /// `CLOUDCONN_OIDC_ISSUER` (or `--dev`'s own): keyless kinds are
    /// offered and accepted only when this server is an issuer.
    pub oidc_issuer: Option<String>,
}

/// Finished ids a slow waiter may fall behind by before it re-reads the
/// database anyway (a lagged receiver is woken, not lost).
const DONE_BACKLOG: usize = 4096;

impl Lifecycle {
    pub fn new(
        db: DatabaseConnection,
        secrets: Arc<dyn SecretStore>,
        metrics: Arc<crate::ops::metrics::Metrics>,
        quotas: crate::quota::Quotas,
    ) -> Self {
        let (validation_done, _) = broadcast::channel(DONE_BACKLOG);
        Self {
            db,
            secrets,
            outbox_wake: Arc::new(Notify::new()),
            validation_done,
            draining: CancellationToken::new(),
            metrics,
            quotas,
            revoker: None,
            issue_rows: None,
            revalidation: crate::domain::schedule::Revalidation::OFF,
            expiry_warning: std::time::Duration::ZERO,
            oidc_issuer: None,
        }
    }
}

impl Lifecycle {
    /// Commits a change with its outbox rows, then wakes the relay so it
    /// publishes them at once instead of at its next poll.
    async fn commit(&self, txn: DatabaseTransaction, out: outbox::Pending) -> Result<(), AppError> {
        outbox::commit(txn, out).await?;
        self.outbox_wake.notify_one();
        Ok(())
    }

    /// After a change to what the connection may issue (status, active
    /// revision, scopes, existence) committed.
    fn changed(&self, workspace: &str, tag: &str) {
        if let Some(rows) = &self.issue_rows {
            rows.forget(workspace, tag);
        }
    }

    /// The end of every change a caller asked for: its audit row (whose
    /// event [`audit::prepare`] put among `out`), the commit of the change
    /// with its outbox rows, and a wake-up for the relay to publish them.
    async fn finish(
        &self,
        txn: DatabaseTransaction,
        out: outbox::Pending,
        audit: audit::Prepared,
    ) -> Result<(), AppError> {
        audit.insert(&txn).await?;
        self.commit(txn, out).await
    }
}

/// Where a connection's credentials live in the secret store.
pub fn secret_path(row: &connections::Model) -> SecretPath {
    SecretPath { workspace: row.workspace.clone(), uid: row.id.to_string() }
}

/// Reads and locks the connection a change is about, with its last
/// validation (and the recent consumers, for a response that shows them),
/// checking the caller's etag precondition: the first step of every
/// read-modify-write, in one statement.
async fn lock_for_change(
    txn: &sea_orm::DatabaseTransaction,
    workspace: &crate::domain::names::Workspace,
    tag: &crate::domain::names::Tag,
    precondition: &str,
    consumers: bool,
) -> Result<crate::store::connections::ConnectionRecord, AppError> {
    let with = crate::store::connections::Read { lock: true, consumers };
    let record = crate::store::connections::read(txn, workspace.as_str(), tag.as_str(), with)
        .await?
        .ok_or(AppError::NotFound)?;
    if !crate::domain::etag::matches(precondition, record.row.id, record.row.version) {
        return Err(AppError::EtagMismatch);
    }
    Ok(record)
}

/// Runs `work` to completion even if the caller's future is dropped, in
/// the caller's span (so the rows it writes carry the request's trace).
async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, AppError>> + Send + 'static,
) -> Result<T, AppError> {
    tokio::spawn(work.instrument(tracing::Span::current()))
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("lifecycle task")))?
}

/// New external ids: 32 URL-safe characters from the OS-seeded CSPRNG.
fn new_external_id() -> String {
    crate::domain::token::random_token()
}

fn new_uid() -> Uuid {
    Uuid::new_v4()
}

#[cfg(test)]
mod tests {
    #[test]
    fn external_ids_are_32_url_safe_characters_and_differ() {
        let a = super::new_external_id();
        let b = super::new_external_id();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }
}
