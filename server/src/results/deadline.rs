//! The guarantee that no validation stays QUEUED forever, whatever lost its
//! job: a job dead-lettered after killing workers over and over, workers
//! down for hours, a message lost by an operator's purge. A validation not
//! finished within the deadline is ended as FAILED / TIMEOUT (retryable), by
//! the same code path as a worker's result — so its event is published and
//! a result arriving later changes nothing.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use cloudconn_infra::amqp::messages::{MESSAGE_VERSION, Outcome, ProbeError, ValidationResult};
use tokio_util::sync::CancellationToken;

use crate::{
    lifecycle::{Lifecycle, ResultFrom},
    store::validations,
};

/// Validations ended per pass at most.
const SWEEP_BATCH: u64 = 500;

pub struct DeadlineSweeper {
    pub lifecycle: Lifecycle,
    /// How long a validation may stay unfinished.
    pub deadline: Duration,
}

impl DeadlineSweeper {
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Check a few times per deadline, but not more than once a second.
        let interval = (self.deadline / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        cloudconn_infra::shutdown::every(interval, &shutdown, "validation deadline sweep", || self.pass()).await
    }

    pub async fn pass(&self) -> anyhow::Result<usize> {
        let cutoff = crate::store::now() - chrono::Duration::from_std(self.deadline)?;
        // A bounded batch per pass; a backlog ends over the next passes.
        let stale = validations::overdue(&self.lifecycle.db, cutoff, SWEEP_BATCH).await?;
        for v in &stale {
            let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
            let result = ValidationResult {
                version: MESSAGE_VERSION,
                validation_id: v.id.to_string(),
                connection_id: v.connection_id.to_string(),
                workspace: v.workspace.clone(),
                revision: u64::try_from(v.revision).unwrap_or(0),
                attempts: u32::try_from(v.attempts).unwrap_or(0),
                start_time: now.clone(),
                end_time: now,
                outcome: Outcome::Failed {
                    error: ProbeError {
                        code: "TIMEOUT".into(),
                        message: format!("the validation did not finish within {} s", self.deadline.as_secs()),
                        hint: "Validate again. If this repeats, the cloudconn workers may be down or this job \
                               was set aside in the dead-letter queue: ask the operators."
                            .into(),
                        retryable: true,
                        missing_permissions: Vec::new(),
                    },
                    scope_checks: Vec::new(),
                    warnings: Vec::new(),
                },
                nonce: String::new(),
            };
            self.lifecycle.record_result(&result, ResultFrom::DeadlineSweeper).await?;
            tracing::warn!(validation = %v.id, "validation passed its deadline; ended as TIMEOUT");
        }
        Ok(stale.len())
    }
}
