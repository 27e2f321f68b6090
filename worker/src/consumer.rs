//! Step 3 of the flow, queue → worker: one validation job per delivery.
//!
//! decode → read the exact revision from Vault → probe (retrying transient
//! failures with back-off) → publish the result with a confirm → ack.
//! The ack comes last: a worker that dies anywhere before it leaves the job
//! unacked, and RabbitMQ redelivers it. A job that keeps killing workers is
//! dead-lettered by the queue's delivery limit.

use std::{panic::AssertUnwindSafe, sync::Arc, time::Duration};

use futures_lite::FutureExt;

use chrono::{SecondsFormat, Utc};
use cloudconn_infra::{
    amqp::{
        consumer::Handler,
        messages::{MESSAGE_VERSION, Outcome, ValidationJob, ValidationResult},
        publisher::{Outgoing, Publisher},
        topology::RESULTS_KEY,
        trace_context,
    },
    secrets::{SecretPath, SecretStore, SecretStoreError},
    telemetry::propagation,
};
use lapin::{
    message::Delivery,
    options::{BasicAckOptions, BasicNackOptions, BasicRejectOptions},
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    config::WorkerConfig,
    probe::{ErrorCode, ProbeFailure, ProbeRequest, Probes, outcome},
};

/// Longest wait between retries of our own infrastructure (Vault, the
/// results queue): a job waits for them rather than failing.
const INFRA_BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Turns a job into its result: no queue plumbing, so `--dev` runs the same
/// code in process.
pub struct JobRunner {
    pub config: WorkerConfig,
    pub secrets: Arc<dyn SecretStore>,
    pub probes: Probes,
    /// Series to record into, if the process exports any.
    pub metrics: Option<Arc<crate::metrics::WorkerMetrics>>,
}

/// The AMQP side: decode, run, publish the result, ack.
pub struct JobHandler {
    pub runner: JobRunner,
    pub results: Publisher,
}

/// What running a job produced.
pub enum Ran {
    /// Report this result and ack.
    Done(ValidationResult),
    /// The probe panicked: report this (failed) result, and set the job aside
    /// in the dead-letter queue for an operator.
    Poison(ValidationResult),
    /// Shutdown interrupted the job, or Vault refused our token for
    /// `CLOUDCONN_VAULT_DENIED_REQUEUE_MS`: give it back.
    Interrupted,
}

#[async_trait::async_trait]
impl Handler for JobHandler {
    async fn handle(&self, delivery: Delivery, shutdown: CancellationToken) {
        let job = match serde_json::from_slice::<ValidationJob>(&delivery.data) {
            Ok(job) if job.version == MESSAGE_VERSION && job.is_well_formed() => job,
            _ => {
                // Nothing we can do with it (or nothing we should: a job
                // whose Vault path is not one the server writes); the
                // dead-letter queue keeps it for an operator to look at.
                tracing::error!("undecodable or malformed validation job; dead-lettering it");
                let _ = delivery.reject(BasicRejectOptions { requeue: false }).await;
                return;
            }
        };
        let metrics = self.runner.metrics.clone();
        if let Some(m) = &metrics {
            m.in_flight.inc();
        }
        let outcome = self.handle_job(&delivery, &job, &shutdown).await;
        if let Some(m) = &metrics {
            m.in_flight.dec();
            m.job(&job.provider, outcome);
        }
    }
}

impl JobHandler {
    /// Runs, reports and acknowledges one decoded job; returns its outcome
    /// label for the metrics.
    async fn handle_job(&self, delivery: &Delivery, job: &ValidationJob, shutdown: &CancellationToken) -> &'static str {
        // One span per job, with ids only: credentials never become fields.
        // A child of the relay's publish span, so the caller's trace goes
        // on here, into the provider's HTTP calls and back with the result.
        let span = tracing::info_span!("validation job", validation = %job.validation_id, provider = %job.provider, revision = job.revision);
        propagation::set_parent(&span, trace_context::extract(delivery.properties.headers().as_ref()).as_deref());
        let traceparent = propagation::traceparent_of(&span);
        let (result, poison) = match self.runner.process(job, shutdown).instrument(span).await {
            Ran::Done(result) => (result, false),
            Ran::Poison(result) => (result, true),
            Ran::Interrupted => {
                // Shutting down mid-job, or Vault not ready for us: give it
                // back, unfinished, for a worker that can run it.
                let _ = delivery.nack(BasicNackOptions { requeue: true, ..Default::default() }).await;
                return "requeued";
            }
        };
        let succeeded = matches!(result.outcome, Outcome::Succeeded { .. });
        let message = Outgoing {
            // Not the default exchange: the worker's login may not write there.
            exchange: self.results.topology().replies_exchange(),
            routing_key: RESULTS_KEY.into(),
            payload: serde_json::to_vec(&result).unwrap_or_default(),
            message_id: format!("{}-result", job.validation_id),
            content_type: "application/json",
            traceparent,
            mandatory: true,
        };
        let published = retry_infra(
            shutdown,
            "publish result",
            || self.results.publish_all(std::slice::from_ref(&message)),
            |_| false,
        )
        .await;
        match published {
            Some(()) if poison => {
                // requeue = false on a queue with a dead-letter exchange
                // moves the job to `<p>.validate.dead`.
                let _ = delivery.reject(BasicRejectOptions { requeue: false }).await;
                tracing::error!(validation = %job.validation_id, "probe crashed; job dead-lettered, validation failed");
                "poison"
            }
            Some(()) => {
                let _ = delivery.ack(BasicAckOptions::default()).await;
                tracing::info!(validation = %job.validation_id, attempts = result.attempts, "validation job done");
                if succeeded { "succeeded" } else { "failed" }
            }
            None => {
                let _ = delivery.nack(BasicNackOptions { requeue: true, ..Default::default() }).await;
                "requeued"
            }
        }
    }
}

impl JobRunner {
    /// Runs one job. A panicking probe is caught here (one bad job must not
    /// take the worker's other jobs down with it) and reported as a failure.
    pub async fn process(&self, job: &ValidationJob, shutdown: &CancellationToken) -> Ran {
        let start_time = now();
        match AssertUnwindSafe(self.run(job, shutdown)).catch_unwind().await {
            Ok(Some(result)) => Ran::Done(result),
            Ok(None) => Ran::Interrupted,
            Err(_) => Ran::Poison(ValidationResult {
                version: MESSAGE_VERSION,
                validation_id: job.validation_id.clone(),
                connection_id: job.connection_id.clone(),
                workspace: job.workspace.clone(),
                revision: job.revision,
                attempts: 1,
                start_time,
                end_time: now(),
                outcome: outcome::from_failure(ProbeFailure::new(
                    ErrorCode::ProviderUnavailable,
                    "the validation crashed in the worker and was set aside for the operators",
                    "Validate again; if it keeps failing, ask the cloudconn operators to look at the dead-letter queue.",
                )),
                nonce: job.nonce.clone(),
            }),
        }
    }

    /// The job's result, or `None` if it is to be given back.
    async fn run(&self, job: &ValidationJob, shutdown: &CancellationToken) -> Option<ValidationResult> {
        let start_time = now();
        let path = SecretPath { workspace: job.workspace.clone(), uid: job.connection_id.clone() };
        let read = self.read_credentials(&path, job.revision, shutdown).await?;
        let (outcome, attempts) = match read {
            None => (
                outcome::from_failure(ProbeFailure::new(
                    ErrorCode::MalformedCredentials,
                    "the credential revision no longer exists",
                    "Save the credentials again and validate.",
                )),
                0,
            ),
            Some(credentials) => self.probe(job, &credentials, shutdown).await?,
        };
        Some(ValidationResult {
            version: MESSAGE_VERSION,
            validation_id: job.validation_id.clone(),
            connection_id: job.connection_id.clone(),
            workspace: job.workspace.clone(),
            revision: job.revision,
            attempts,
            start_time,
            end_time: now(),
            outcome,
            nonce: job.nonce.clone(),
        })
    }

    /// Reads the revision (`Some(None)`: it no longer exists), retrying
    /// while Vault is down. `None` on shutdown, or once Vault has refused our
    /// token (401/403) for `CLOUDCONN_VAULT_DENIED_REQUEUE_MS`: the job then
    /// goes back to the queue rather than hold a slot for as long as that lasts.
    async fn read_credentials(
        &self,
        path: &SecretPath,
        revision: u64,
        shutdown: &CancellationToken,
    ) -> Option<Option<cloudconn_infra::secrets::SecretFields>> {
        let requeue_after = self.config.vault_denied_requeue();
        let mut denied_since: Option<tokio::time::Instant> = None;
        let read = || async {
            let read = match self.secrets.read(path, revision).await {
                Ok(fields) => Ok(Some(fields)),
                // A destroyed revision (the connection was deleted) is an
                // answer, not an outage.
                Err(SecretStoreError::NotFound) => Ok(None),
                Err(e) => Err(e),
            };
            if let Some(m) = &self.metrics {
                if read.is_ok() { m.vault_read_ok() } else { m.vault_read_failed() }
            }
            read
        };
        let refused_too_long = |e: &SecretStoreError| {
            matches!(e, SecretStoreError::Denied(_))
                && denied_since.get_or_insert_with(tokio::time::Instant::now).elapsed() >= requeue_after
        };
        retry_infra(shutdown, "read credentials", read, refused_too_long).await
    }

    /// Runs the provider's probe, retrying transient failures.
    async fn probe(
        &self,
        job: &ValidationJob,
        credentials: &cloudconn_infra::secrets::SecretFields,
        shutdown: &CancellationToken,
    ) -> Option<(Outcome, u32)> {
        let Some(probe) = self.probes.get(&job.provider) else {
            return Some((
                outcome::from_failure(ProbeFailure::new(
                    ErrorCode::ProviderUnavailable,
                    format!("this worker has no probe for {}", job.provider),
                    "Upgrade the cloudconn workers to a version that can validate this provider.",
                )),
                0,
            ));
        };
        let mut request = ProbeRequest {
            provider: job.provider.clone(),
            scopes: job.scopes.clone(),
            external_id: job.external_id.clone(),
            connection_id: job.connection_id.clone(),
            deadline: None,
            // Used only by a keyless revision's probe.
            keyless: Some(crate::keyless::Keyless {
                issuer: self.probes.issuer(),
                subject: cloudconn_infra::oidc::Subject {
                    workspace: job.workspace.clone(),
                    connection_id: job.connection_id.clone(),
                    tag: job.tag.clone(),
                    scope: job.scopes.join(" "),
                    consumer: "cloudconn-validation".into(),
                },
            }),
        };
        let max = self.config.probe_attempts.max(1);
        let mut all_timed_out = true;
        let mut last = ProbeFailure::transient("no attempt made");
        for attempt in 1..=max {
            let started = std::time::Instant::now();
            request.deadline = Some(tokio::time::Instant::now() + self.config.probe_timeout());
            let attempt_result =
                tokio::time::timeout(self.config.probe_timeout(), probe.probe(&request, credentials)).await;
            if let Some(m) = &self.metrics {
                m.probe_attempt(&job.provider, started.elapsed().as_secs_f64());
            }
            match attempt_result {
                Ok(Ok(report)) => return Some((outcome::from_report(report), attempt)),
                Ok(Err(failure)) if !failure.retryable => return Some((outcome::from_failure(failure), attempt)),
                Ok(Err(failure)) => {
                    all_timed_out &= failure.code == ErrorCode::Timeout;
                    last = failure;
                }
                Err(_) => last = ProbeFailure::transient("the probe timed out"),
            }
            tracing::info!(attempt, max, reason = %last.message, "transient probe failure");
            if attempt < max {
                // The provider's Retry-After, when longer than our back-off.
                let wait = self.config.retry_backoff(attempt).max(last.retry_after.unwrap_or_default());
                tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
        Some((outcome::exhausted(max, all_timed_out, last), max))
    }
}

/// Retries `op` with back-off until it succeeds (→ `Some`), or shutdown, or
/// `give_up` says an error has lasted too long (→ `None`: the job goes back).
async fn retry_infra<T, E: std::fmt::Display, F, Fut>(
    shutdown: &CancellationToken,
    what: &str,
    mut op: F,
    mut give_up: impl FnMut(&E) -> bool,
) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut wait = Duration::from_millis(200);
    loop {
        match op().await {
            Ok(value) => return Some(value),
            Err(e) if give_up(&e) => {
                tracing::warn!(error = %e, "{what} keeps failing; giving the job back to the queue");
                return None;
            }
            Err(e) => tracing::warn!(error = %e, ?wait, "{what} failed; retrying"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(INFRA_BACKOFF_MAX);
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}
