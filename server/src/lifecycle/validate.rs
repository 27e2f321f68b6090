//! ValidateConnection: record a QUEUED validation of the latest revision and
//! enqueue its job, in one transaction; optionally wait for the outcome.
//!
//! Waiting reads the database, so whichever replica recorded the outcome,
//! any replica can answer. A local notification (this replica's result
//! consumer) makes the common case prompt; a short poll covers the rest.

use std::time::Duration;

use cloudconn_infra::{amqp::messages::ValidationJob, telemetry::propagation::current_traceparent};
use sea_orm::{DatabaseTransaction, TransactionTrait};
use uuid::Uuid;

use super::{Lifecycle, detached, lock_for_change};
use crate::{
    auth::Actor,
    domain::{
        names::{Tag, Workspace},
        status::{Trigger, ValidationState},
    },
    error::AppError,
    outbox::events::{self, EventKind},
    store::{
        self, audit, connections::ConnectionRecord, entities::connections, entities::validations as validation_rows,
        outbox, validations,
    },
};

/// Longest `wait` honoured; a caller wanting longer can call again.
pub const MAX_WAIT: Duration = Duration::from_secs(300);
/// How often a waiter re-reads the validation when no local wake-up came:
/// first after [`WAIT_POLL_FIRST`], then twice as long each time up to
/// [`WAIT_POLL_MAX`]. Most outcomes are recorded by this replica and wake
/// the waiter at once; the poll is for those another replica recorded, and
/// a validation still running after a few seconds is a slow probe, which
/// does not need watching four times a second (security review M7).
const WAIT_POLL_FIRST: Duration = Duration::from_millis(250);
const WAIT_POLL_MAX: Duration = Duration::from_secs(4);

#[derive(Debug, Clone)]
pub struct ValidateCommand {
    pub workspace: Workspace,
    pub tag: Tag,
    /// Zero: return at once.
    pub wait: Duration,
}

impl Lifecycle {
    pub async fn validate(
        &self,
        actor: &Actor,
        cmd: ValidateCommand,
    ) -> Result<(validation_rows::Model, ConnectionRecord), AppError> {
        // Subscribed before the validation is even recorded, so no outcome
        // this replica records for it can be missed.
        let finished = self.validation_done.subscribe();
        let this = self.clone();
        let (actor, workspace, tag) = (actor.clone(), cmd.workspace.clone(), cmd.tag.clone());
        let (validation, record) = detached(async move { this.validate_detached(actor, workspace, tag).await }).await?;
        if cmd.wait.is_zero() {
            // "Return QUEUED at once": the state this call committed.
            return Ok((validation, record));
        }
        let id = validation.id;
        // Waiting callers are bounded per replica; beyond, the call answers
        // at once with the state it recorded, as a zero `wait` would.
        let Some(_waiting) = self.quotas.waiter() else {
            tracing::info!("too many callers waiting on this replica; answering without waiting");
            return Ok((validation, record));
        };
        self.wait_for(&cmd.workspace, id, cmd.wait.min(MAX_WAIT), finished).await?;
        // The connection and its last validation in one query, so the two
        // agree even if an outcome lands while we read. If a newer
        // validation has replaced ours since, ours was superseded or had
        // finished, and a terminal validation never changes: reading it on
        // its own cannot contradict the row.
        let with = store::connections::Read { lock: false, consumers: true };
        let record = store::connections::read(&self.db, cmd.workspace.as_str(), cmd.tag.as_str(), with)
            .await?
            .ok_or(AppError::NotFound)?;
        let validation = match &record.last_validation {
            Some(last) if last.id == id => last.clone(),
            _ => validations::find(&self.db, cmd.workspace.as_str(), id).await?.ok_or(AppError::NotFound)?,
        };
        Ok((validation, record))
    }

    async fn validate_detached(
        &self,
        actor: Actor,
        workspace: Workspace,
        tag: Tag,
    ) -> Result<(validation_rows::Model, ConnectionRecord), AppError> {
        let txn = self.db.begin().await?;
        let mut record = lock_for_change(&txn, &workspace, &tag, "", true).await?;
        if record.row.revision == 0 {
            return Err(AppError::FailedPrecondition {
                reason: "NO_CREDENTIALS",
                message: "the connection has no saved credentials; save them with CompleteConnection first".into(),
            });
        }
        // A validation of this revision already under way answers the call.
        if let Some(v) = &record.last_validation
            && validations::is_unfinished(v)
            && v.revision == record.row.revision
        {
            return Ok((v.clone(), record));
        }
        let mut out = outbox::Pending::default();
        let latest = record.row.revision;
        let traceparent = current_traceparent();
        let validation =
            start_validation(&txn, &mut out, &mut record, &traceparent, Trigger::Manual, latest, None).await?;
        let saved = &record.row;
        let audit = audit::prepare(
            &mut out,
            audit::AuditEntry {
                workspace: &saved.workspace,
                actor: &actor.subject,
                action: "ValidateConnection",
                tag: &saved.tag,
                connection_id: Some(saved.id),
                request_id: None,
                details: serde_json::json!({ "revision": validation.revision, "validation": validation.id }),
            },
        );
        self.finish(txn, out, audit).await?;
        Ok((validation, record))
    }

    /// Returns when the validation is terminal (or gone), or at `wait`.
    ///
    /// `finished` was subscribed before the validation was committed (it
    /// was not terminal then), so the database is read only when another
    /// replica may have recorded the outcome: at each poll, or after this
    /// waiter fell behind the notifications.
    async fn wait_for(
        &self,
        workspace: &Workspace,
        id: Uuid,
        wait: Duration,
        mut finished: tokio::sync::broadcast::Receiver<Uuid>,
    ) -> Result<(), AppError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut poll = WAIT_POLL_FIRST;
        loop {
            tokio::select! {
                // Recorded here: terminal, no need to read it.
                ours = finished_here(&mut finished, id) => if ours { return Ok(()) },
                // Another replica may record it: poll too, less and less often.
                _ = tokio::time::sleep(poll) => poll = (poll * 2).min(WAIT_POLL_MAX),
                // Draining: answer with the state as it is; the caller can
                // ask again (another replica will answer).
                _ = self.draining.cancelled() => return Ok(()),
                _ = tokio::time::sleep_until(deadline) => return Ok(()),
            }
            let done = match validations::find(&self.db, workspace.as_str(), id).await? {
                None => true,
                Some(v) => ValidationState::from_db(&v.state).is_none_or(ValidationState::is_terminal),
            };
            if done {
                return Ok(());
            }
        }
    }
}

/// Returns `true` once this replica finished `id`, or `false` if it fell
/// so far behind that it cannot tell (the waiter reads the database).
async fn finished_here(finished: &mut tokio::sync::broadcast::Receiver<Uuid>, id: Uuid) -> bool {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match finished.recv().await {
            Ok(done) if done == id => return true,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return false,
            Err(RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// In the caller's transaction: supersede an unfinished validation of
/// another revision, record a QUEUED validation of `revision`, point the
/// connection at it, and write the job and the `validation_requested`
/// event. `record` becomes the connection as committed.
///
/// A user's validation is of the latest revision; a scheduled one
/// ([`Trigger::Scheduled`]) of the revision in use, and it also sets when
/// the connection is due next, `next`, until its outcome sets it again.
pub(super) async fn start_validation(
    txn: &DatabaseTransaction,
    out: &mut outbox::Pending,
    record: &mut ConnectionRecord,
    traceparent: &str,
    trigger: Trigger,
    revision: i64,
    next: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<validation_rows::Model, AppError> {
    validations::supersede_last(txn, record, revision).await?;
    let row = &record.row;
    let validation = validations::insert_queued(txn, &row.workspace, row.id, revision, trigger).await?;
    record.row = match next {
        Some(next) => store::connections::point_at_scheduled_validation(txn, row.clone(), validation.id, next).await?,
        None => store::connections::point_at_validation(txn, row.clone(), validation.id).await?,
    };
    record.last_validation = Some(validation.clone());

    events::record_job(out, &job_for(&record.row, &validation), traceparent)?;
    events::record_event(out, EventKind::ValidationRequested, record, traceparent);
    Ok(validation)
}

/// The job message for a validation of a connection.
pub fn job_for(row: &connections::Model, validation: &validation_rows::Model) -> ValidationJob {
    ValidationJob {
        version: cloudconn_infra::amqp::messages::MESSAGE_VERSION,
        validation_id: validation.id.to_string(),
        connection_id: row.id.to_string(),
        workspace: row.workspace.clone(),
        tag: row.tag.clone(),
        provider: row.provider.clone(),
        revision: u64::try_from(validation.revision).unwrap_or(0),
        scopes: row.scopes(),
        external_id: row.external_id.clone(),
        nonce: validation.nonce.clone().unwrap_or_default(),
    }
}
