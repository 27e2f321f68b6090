//! What minting leaves at a provider goes when the connection is deleted or
//! rotated (docs/run.md). Only MongoDB Atlas keeps anything: each issue is
//! a temporary database user. The others' credentials simply expire.
//!
//! A revoke is a request to a worker like a mint (same queue, same
//! deadline), made after the change has committed: on delete before the
//! credentials are purged from Vault (the worker signs in with them), on
//! rotation with the new active revision. It is best effort by design: if
//! no worker answers, Atlas itself deletes every such user at its
//! `deleteAfterDate`, at most `CLOUDCONN_ISSUE_MAX_TTL_MS` after it was
//! made, so a failed revoke shortens nothing but that window.

use std::{sync::Arc, time::Duration};

use cloudconn_infra::amqp::issue::{IssueAction, IssueReply};

use super::minter::Minter;
use crate::store::entities::connections::Model;

#[derive(Clone)]
pub struct Revoker {
    minter: Arc<dyn Minter>,
    timeout: Duration,
}

impl Revoker {
    pub fn new(minter: Arc<dyn Minter>, timeout: Duration) -> Self {
        Self { minter, timeout }
    }

    /// Whether minting leaves anything behind at this provider.
    pub fn needed(provider: &str) -> bool {
        provider == "mongodb_atlas"
    }

    /// Removes the connection's temporary users, all of them (`keep`
    /// `None`) or all but revision `keep`'s, signing in with revision
    /// `sign_in`. Logs the outcome; never fails the caller's change.
    pub async fn revoke(&self, row: &Model, sign_in: i64, keep: Option<i64>) {
        if !Self::needed(&row.provider) || sign_in <= 0 {
            return;
        }
        let action = IssueAction::Revoke { keep_revision: keep.map(|k| k as u64) };
        let (request, deadline) = super::worker_request(row, sign_in, self.timeout, action);
        match self.minter.mint(request, deadline).await {
            Ok(IssueReply::Revoked { removed, .. }) => {
                tracing::info!(connection = %row.id, removed, "temporary provider users removed");
            }
            Ok(IssueReply::Failed { error, .. }) => tracing::warn!(
                connection = %row.id, code = %error.code, "removing temporary provider users failed; they expire at their deleteAfterDate"
            ),
            Ok(IssueReply::Issued { .. }) => {
                tracing::warn!(connection = %row.id, "a worker answered a revoke with credentials")
            }
            Err(e) => tracing::warn!(
                connection = %row.id, reason = ?e, "no worker removed the temporary provider users; they expire at their deleteAfterDate"
            ),
        }
    }
}
