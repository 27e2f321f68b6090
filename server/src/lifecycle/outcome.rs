//! Step 5, queue → server: recording a worker's validation result.
//!
//! Idempotent, because delivery is at least once: a result for a validation
//! that is already terminal (or superseded, or deleted) changes nothing.
//! Success makes the validated revision active. Failure never breaks a
//! working connection: an ACTIVE connection stays ACTIVE on its old
//! revision, unless the failed revision *is* the active one and the failure
//! is final (revoked at the provider), which clears it.

use cloudconn_infra::{
    amqp::messages::{Outcome, ValidationResult},
    telemetry::propagation::current_traceparent,
};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::Lifecycle;
use crate::{
    domain::{
        expiry,
        status::{ConnectionStatus, ValidationState},
    },
    error::AppError,
    outbox::events::{self, EventKind},
    store::{
        self,
        connections::{self, ConnectionRecord},
        outbox, validations,
    },
};

/// Where a result comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFrom {
    /// A worker (over the results queue, or `--dev`'s in-process one): it
    /// must carry its job's nonce.
    Worker,
    /// This server's own deadline sweeper.
    DeadlineSweeper,
}

/// Whether `returned` is the nonce the validation's job carried. A
/// validation recorded before nonces existed has none; its result is taken
/// as before (such validations end at their deadline anyway).
fn answers_its_job(expected: Option<&str>, returned: &str) -> bool {
    match expected {
        None => true,
        // Compared in constant time: no early exit on the first difference.
        Some(expected) => {
            expected.len() == returned.len()
                && expected.bytes().zip(returned.bytes()).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
        }
    }
}

impl Lifecycle {
    /// Applies one result. The event it writes continues the current span's
    /// trace (the results consumer's span is a child of the worker's).
    pub async fn record_result(&self, result: &ValidationResult, from: ResultFrom) -> Result<(), AppError> {
        let Ok(id) = Uuid::parse_str(&result.validation_id) else {
            tracing::warn!("result with a malformed validation id ignored");
            return Ok(());
        };
        let txn = self.db.begin().await?;
        // The validation is read with the connection's lock (and its own),
        // not before: a redelivered result handled concurrently (a worker
        // died after publishing, before acking) may have finished it while
        // we waited for the lock, and a read from before would decide on a
        // stale state and activate the connection twice.
        let Some((row, validation)) = connections::find_with_validation_for_update(&txn, id).await? else {
            return Ok(()); // the connection, or the validation, was deleted
        };
        if ValidationState::from_db(&validation.state).is_none_or(ValidationState::is_terminal) {
            return Ok(()); // already recorded, or superseded
        }
        if from == ResultFrom::Worker && !answers_its_job(validation.nonce.as_deref(), &result.nonce) {
            // Not from the worker that took this validation's job: whoever
            // can publish to the results queue cannot decide outcomes.
            tracing::warn!(validation = %id, "a result without its job's nonce was ignored");
            return Ok(());
        }
        let now = store::now();
        let run = validations::Run {
            attempts: i32::try_from(result.attempts).unwrap_or(i32::MAX),
            start_time: parse_time(&result.start_time).or(Some(now)),
            end_time: now,
        };

        // A scheduled validation checks the revision in use, which may be
        // older than the latest (a rotation waiting beside it): that is not
        // being overtaken.
        if validation.revision != row.revision && validation.revision != row.active_revision {
            // A newer revision was saved while this one was being probed.
            validations::supersede(&txn, validation.clone(), run).await?;
            txn.commit().await?;
            self.metrics.validation(&row.provider, "superseded", seconds_since(validation.create_time));
            let _ = self.validation_done.send(id);
            return Ok(());
        }

        // What the outcome does to the connection: (active revision, status).
        let (event, active_revision, status) = match &result.outcome {
            Outcome::Succeeded { .. } => {
                (EventKind::Activated, Some(validation.revision), Some(ConnectionStatus::Active))
            }
            Outcome::Failed { error, .. } => {
                let (active_revision, status) = if row.active_revision == 0 {
                    (None, Some(ConnectionStatus::Failed))
                } else if row.active_revision == validation.revision && !error.retryable {
                    // The active credentials were revoked at the provider.
                    (Some(0), Some(ConnectionStatus::Failed))
                } else {
                    (None, None)
                };
                (EventKind::ValidationFailed, active_revision, status)
            }
        };
        let status_after = status.or_else(|| ConnectionStatus::from_db(&row.status));
        let expiry = self.expiry(&row, &result.outcome, now);
        let schedule = self.next_schedule(&row, status_after, &result.outcome, expiry.expires, now);
        let mut outcome = std::borrow::Cow::Borrowed(&result.outcome);
        if let (Some(warning), Outcome::Succeeded { warnings, .. }) = (&expiry.warning, outcome.to_mut()) {
            warnings.push(warning.clone());
        }
        let saved_validation = validations::finish(&txn, validation.clone(), run, &outcome).await?;
        let change =
            connections::OutcomeChange { active_revision, status, schedule, announced_expiry: expiry.announce };
        let saved = connections::record_outcome(&txn, row.clone(), change, now).await?;
        let record = ConnectionRecord::new(saved, Some(saved_validation));
        let mut out = outbox::Pending::default();
        let traceparent = current_traceparent();
        events::record_event(&mut out, event, &record, &traceparent);
        // Failed checks on the row (see `next_schedule`) and now a success:
        // whoever watches for breakage learns it is over.
        if event == EventKind::Activated && row.revalidation_failures > 0 {
            events::record_event(&mut out, EventKind::Recovered, &record, &traceparent);
        }
        if expiry.announce.is_some() {
            events::record_event(&mut out, EventKind::Expiring, &record, &traceparent);
        }
        self.commit(txn, out).await?;
        self.changed(&row.workspace, &row.tag);
        // A rotation: what was minted from the revision it replaces goes
        // (and again once mints of it still in flight here have answered).
        if event == EventKind::Activated && row.active_revision > 0 && row.active_revision != validation.revision {
            if let Some(revoker) = self.revoker.clone() {
                let (active, revision) = (record.row.clone(), validation.revision);
                tokio::spawn(async move { revoker.revoke(&active, revision, Some(revision)).await });
            }
        }
        if status == Some(ConnectionStatus::Failed)
            && ConnectionStatus::from_db(&row.status) == Some(ConnectionStatus::Active)
        {
            self.metrics.broken(&row.provider);
        }
        let outcome = if event == EventKind::Activated { "succeeded" } else { "failed" };
        self.metrics.validation(&row.provider, outcome, seconds_since(validation.create_time));
        let _ = self.validation_done.send(id);
        tracing::info!(validation = %id, outcome = event.as_str(), "validation result recorded");
        Ok(())
    }
}

impl Lifecycle {
    /// When the connection is validated next after this outcome
    /// (docs/api.md#scheduled-re-validation): only an ACTIVE connection is
    /// scheduled; a success (or a final failure of a revision not in use)
    /// schedules one interval on; a retryable failure tries again sooner,
    /// backing off with each failure in a row (counted on the row). When the
    /// credential `expires` before that, the next check comes a minute after
    /// it, so the status turns FAILED when it stops working, not up to an
    /// interval later.
    fn next_schedule(
        &self,
        row: &crate::store::entities::connections::Model,
        status_after: Option<ConnectionStatus>,
        outcome: &Outcome,
        expires: Option<chrono::DateTime<chrono::Utc>>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> connections::Schedule {
        let plan = self.revalidation;
        if !plan.is_on() || status_after != Some(ConnectionStatus::Active) {
            // A connection that lost its working credentials (it was ACTIVE,
            // or had failed checks already) keeps counting, so its next
            // success publishes `recovered`; any other is simply unscheduled.
            let was_working = ConnectionStatus::from_db(&row.status) == Some(ConnectionStatus::Active);
            let lost = matches!(outcome, Outcome::Failed { .. })
                && status_after == Some(ConnectionStatus::Failed)
                && (was_working || row.revalidation_failures > 0);
            let failures = if lost { row.revalidation_failures.saturating_add(1) } else { 0 };
            return connections::Schedule { next: None, failures };
        }
        let at = |delay: std::time::Duration| Some(now + chrono::Duration::from_std(delay).unwrap_or_default());
        let draw = crate::domain::schedule::draw();
        match outcome {
            Outcome::Failed { error, .. } if error.retryable => {
                let failures = row.revalidation_failures.saturating_add(1).max(1);
                let delay = plan.after_retryable_failure(u32::try_from(failures).unwrap_or(u32::MAX), draw);
                connections::Schedule { next: at(delay), failures }
            }
            // A final failure that left the connection ACTIVE was of a
            // revision not in use (a rotation): the one in use is as it was.
            Outcome::Failed { .. } => {
                connections::Schedule { next: at(plan.after_success(draw)), failures: row.revalidation_failures }
            }
            Outcome::Succeeded { .. } => {
                let mut next = at(plan.after_success(draw));
                if let Some(expires) = expires.filter(|t| *t > now) {
                    next = next.map(|n| n.min(expires + chrono::Duration::minutes(1)));
                }
                connections::Schedule { next, failures: 0 }
            }
        }
    }

    /// Expiry (docs/api.md#credential-expiry): only a success reports a
    /// date, and only a revision that becomes active is announced.
    fn expiry(
        &self,
        row: &crate::store::entities::connections::Model,
        outcome: &Outcome,
        now: chrono::DateTime<chrono::Utc>,
    ) -> ExpiryFinding {
        let Outcome::Succeeded { identity, .. } = outcome else { return ExpiryFinding::default() };
        let Some(expires) = expiry::expire_time(identity) else { return ExpiryFinding::default() };
        let stage = expiry::stage(expires, now, self.expiry_warning);
        if stage == 0 {
            return ExpiryFinding { expires: Some(expires), ..Default::default() };
        }
        let provider = crate::domain::provider::Provider::from_db(&row.provider);
        let last = (row.expiry_warned_time, row.expiry_warned_stage);
        ExpiryFinding {
            expires: Some(expires),
            warning: Some(expiry::warning(provider, expires, now)),
            announce: expiry::announces(last, expires, stage).then_some((expires, stage)),
        }
    }
}

/// What a validation's outcome says about its credential's expiry.
#[derive(Debug, Default)]
struct ExpiryFinding {
    /// The date the provider gave, if it did.
    expires: Option<chrono::DateTime<chrono::Utc>>,
    /// The validation's warning, when the date is within the window.
    warning: Option<String>,
    /// The date to announce with an `expiring` event, and the reminder
    /// stage reached: within the window, and that stage of that date not
    /// announced before for this connection.
    announce: Option<(chrono::DateTime<chrono::Utc>, i16)>,
}

fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&chrono::Utc))
}

fn seconds_since(time: chrono::DateTime<chrono::Utc>) -> f64 {
    (chrono::Utc::now() - time).num_milliseconds().max(0) as f64 / 1000.0
}
