//! DeleteConnection: remove the row, then destroy every secret version.
//!
//! The row and a `secret_purges` entry go in one transaction, so the intent
//! to destroy survives whatever happens next. The destroy is tried at once;
//! if Vault is down, the purge retrier (`secrets::purge`) keeps trying until
//! it succeeds. No secret is orphaned, and the caller is not made to wait
//! for Vault to come back.
//!
//! The retrier must not run ahead of this request: between the commit and
//! the destroy, the worker that removes Atlas's temporary users signs in
//! with these very credentials. A purge therefore becomes due only after
//! [`INLINE_GRACE`], unless the inline destroy failed, which makes it due
//! at once.

use sea_orm::TransactionTrait;

use super::{Lifecycle, detached, lock_for_change, secret_path};
use cloudconn_infra::telemetry::propagation::current_traceparent;

use crate::{
    auth::Actor,
    domain::names::{Tag, Workspace},
    error::AppError,
    outbox::events::{self, EventKind},
    store::{audit, connections, outbox, purges, validations},
};

/// How long the retrier leaves a fresh purge to the request that queued it:
/// longer than the inline revoke may take plus the inline destroy. The
/// revoke waits for a worker (`CLOUDCONN_ISSUE_TIMEOUT_MS`, at most 120 s),
/// and when mints were in flight, for them to answer and for a worker once
/// more: three timeouts, at most 6 minutes.
const INLINE_GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(8);

#[derive(Debug, Clone)]
pub struct DeleteCommand {
    pub workspace: Workspace,
    pub tag: Tag,
    pub etag: String,
}

impl Lifecycle {
    /// Deletes the connection; returns its uid.
    pub async fn delete(&self, actor: &Actor, cmd: DeleteCommand) -> Result<uuid::Uuid, AppError> {
        let this = self.clone();
        let actor = actor.clone();
        detached(async move { this.delete_detached(actor, cmd).await }).await
    }

    async fn delete_detached(&self, actor: Actor, cmd: DeleteCommand) -> Result<uuid::Uuid, AppError> {
        let txn = self.db.begin().await?;
        // The event carries the connection as it was.
        let before = lock_for_change(&txn, &cmd.workspace, &cmd.tag, &cmd.etag, false).await?;
        let row = before.row.clone();
        connections::delete(&txn, row.id).await?;
        validations::delete_for_connection(&txn, row.id).await?;
        // Queued even when no revision was saved: a completion whose commit
        // failed may still have left a version behind.
        purges::enqueue(&txn, &row.workspace, row.id, crate::store::now() + INLINE_GRACE).await?;
        let mut out = outbox::Pending::default();
        let audit = audit::prepare(
            &mut out,
            audit::AuditEntry {
                workspace: &row.workspace,
                actor: &actor.subject,
                action: "DeleteConnection",
                tag: &row.tag,
                connection_id: Some(row.id),
                request_id: None,
                details: serde_json::json!({ "revision": row.revision }),
            },
        );
        events::record_event(&mut out, EventKind::Deleted, &before, &current_traceparent());
        self.finish(txn, out, audit).await?;
        self.changed(&row.workspace, &row.tag);

        // Before the purge: the worker signs in with these credentials.
        // Mints of this replica in flight are waited for and revoked after.
        if let Some(revoker) = &self.revoker {
            revoker.revoke(&row, row.active_revision, None).await;
        }
        match self.secrets.destroy(&secret_path(&row)).await {
            Ok(()) => {
                if let Err(e) = purges::complete(&self.db, row.id).await {
                    // Harmless: the retrier destroys again (idempotent) and clears it.
                    tracing::warn!(error = %e, connection = %row.id, "could not clear purge after destroy");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, connection = %row.id, "secret destroy failed; the purge retrier will retry");
                if let Err(e) = purges::failed(&self.db, row.id, &e.to_string(), crate::store::now()).await {
                    // The purge still becomes due once the grace is over.
                    tracing::warn!(error = %e, connection = %row.id, "could not hand the purge to the retrier now");
                }
            }
        }
        Ok(row.id)
    }
}
