//! Scheduled re-validation: every ACTIVE connection is validated again one
//! interval (± 10 %) after its last outcome, so credentials revoked or
//! changed at the provider are noticed without anyone asking
//! (docs/api.md#scheduled-re-validation).
//!
//! The schedule lives in the database (`connections.next_validation_time`),
//! so any number of replicas share it: each pass claims the due rows with
//! `FOR UPDATE SKIP LOCKED` and moves their time on in the same
//! transaction, so a due connection is started once, by one replica. A
//! scheduled validation is an ordinary one (outbox → worker → results) of
//! the revision in use, recorded with `trigger = scheduled`; its outcome
//! sets the next time.

use std::time::Duration;

use cloudconn_infra::telemetry::propagation::current_traceparent;
use sea_orm::TransactionTrait;
use tokio_util::sync::CancellationToken;

use super::Lifecycle;
use crate::{
    domain::{provider::Provider, schedule, status::Trigger},
    error::AppError,
    store::{self, outbox, validations},
};

/// How often a pass runs: the rate is per second.
const PASS: Duration = Duration::from_secs(1);
/// Connections one pass claims per provider at most, whatever the rate.
const MAX_BATCH: u32 = 500;

/// The loop that starts due scheduled validations.
pub struct Revalidator {
    pub lifecycle: Lifecycle,
}

impl Revalidator {
    /// Runs passes until `shutdown`; returns at once when scheduling is off.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let plan = self.lifecycle.revalidation;
        if !plan.is_on() {
            tracing::info!("scheduled re-validation is off (CLOUDCONN_REVALIDATE_INTERVAL_MS=0)");
            return Ok(());
        }
        // ACTIVE connections without a time (activated while scheduling was
        // off) get one, spread over an interval.
        match store::schedule::schedule_unscheduled(&self.lifecycle.db, store::now(), plan.interval).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(connections = n, "scheduled the re-validation of ACTIVE connections without one"),
            Err(e) => {
                tracing::warn!(error = %e, "could not schedule ACTIVE connections without a time; next start tries again")
            }
        }
        cloudconn_infra::shutdown::every(PASS, &shutdown, "scheduled re-validation", || self.pass()).await
    }

    /// One pass: for each provider, starts up to the rate's due validations.
    /// Returns how many were started.
    pub async fn pass(&self) -> anyhow::Result<usize> {
        // Nothing due, the usual case: one read, no transaction per provider.
        if !store::schedule::any_due(&self.lifecycle.db, store::now()).await? {
            return Ok(0);
        }
        let mut started = 0;
        for provider in Provider::ALL {
            started += self.pass_for(provider.as_str()).await? as usize;
        }
        Ok(started)
    }

    async fn pass_for(&self, provider: &str) -> Result<u64, AppError> {
        let lifecycle = &self.lifecycle;
        let plan = lifecycle.revalidation;
        let txn = lifecycle.db.begin().await?;
        let now = store::now();
        let due = store::schedule::claim_due(&txn, provider, now, u64::from(plan.rate.clamp(1, MAX_BATCH))).await?;
        if due.is_empty() {
            return Ok(0); // the transaction rolls back: nothing was written
        }
        let mut out = outbox::Pending::default();
        let (mut started, mut postponed) = (0u64, 0u64);
        for mut record in due {
            let next = now + chrono::Duration::from_std(plan.after_success(schedule::draw())).unwrap_or_default();
            // A validation under way (a user's, or a new revision's) takes
            // precedence: no second one; its outcome sets the time again.
            let busy = record.last_validation.as_ref().is_some_and(validations::is_unfinished);
            // The revision in use is what components get credentials from, so
            // it is what a scheduled validation checks, also when a later
            // revision (a rotation that failed, or was saved without being
            // validated) waits beside it. A row claimed as due is ACTIVE, so
            // it has one; the check is for a row changed since.
            let in_use = record.row.active_revision;
            if busy || in_use == 0 {
                store::schedule::postpone(&txn, record.row.id, next).await?;
                postponed += 1;
                continue;
            }
            // Each scheduled validation is a trace of its own.
            let span = tracing::info_span!("scheduled validation", connection = %record.row.id);
            let traceparent = span.in_scope(current_traceparent);
            super::validate::start_validation(
                &txn,
                &mut out,
                &mut record,
                &traceparent,
                Trigger::Scheduled,
                in_use,
                Some(next),
            )
            .await?;
            started += 1;
        }
        lifecycle.commit(txn, out).await?;
        lifecycle.metrics.revalidations(provider, started, postponed);
        if started + postponed > 0 {
            tracing::debug!(provider, started, postponed, "scheduled re-validation pass");
        }
        Ok(started)
    }
}
