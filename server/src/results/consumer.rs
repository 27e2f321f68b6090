//! Consumes `<p>.results` and records each outcome (`Lifecycle::record_result`).
//! The ack comes after the commit, so a crash in between redelivers the
//! result, and recording it again changes nothing.

use std::time::Duration;

use cloudconn_infra::{
    amqp::{consumer::Handler, messages::ValidationResult, trace_context},
    telemetry::propagation,
};
use lapin::{
    message::Delivery,
    options::{BasicAckOptions, BasicNackOptions, BasicRejectOptions},
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    error::AppError,
    lifecycle::{Lifecycle, ResultFrom},
};

/// Tries of a result whose recording fails for a reason other than an
/// unreachable database.
const MAX_FAILURES: u32 = 5;

pub struct ResultHandler {
    pub lifecycle: Lifecycle,
}

#[async_trait::async_trait]
impl Handler for ResultHandler {
    async fn handle(&self, delivery: Delivery, shutdown: CancellationToken) {
        let Ok(result) = serde_json::from_slice::<ValidationResult>(&delivery.data) else {
            tracing::error!("undecodable validation result dropped");
            let _ = delivery.reject(BasicRejectOptions { requeue: false }).await;
            return;
        };
        // A child of the worker's span: the validation's trace goes on.
        let span = tracing::info_span!("validation result", validation = %result.validation_id);
        propagation::set_parent(&span, trace_context::extract(delivery.properties.headers().as_ref()).as_deref());
        let mut wait = Duration::from_millis(200);
        let mut failures = 0;
        loop {
            match self.lifecycle.record_result(&result, ResultFrom::Worker).instrument(span.clone()).await {
                Ok(()) => {
                    let _ = delivery.ack(BasicAckOptions::default()).await;
                    return;
                }
                // The database is down: hold the result and try again
                // rather than bouncing it through the broker.
                Err(e @ AppError::Unavailable { .. }) => {
                    tracing::warn!(error = %e, validation = %result.validation_id, "recording a result failed; retrying")
                }
                // Anything else is this result's own problem: a few tries,
                // then it is set aside rather than holding a slot forever
                // (the deadline sweeper ends its validation).
                Err(e) => {
                    failures += 1;
                    if failures >= MAX_FAILURES {
                        tracing::error!(error = %e, validation = %result.validation_id, "a result could not be recorded; dropped");
                        let _ = delivery.reject(BasicRejectOptions { requeue: false }).await;
                        return;
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = delivery.nack(BasicNackOptions { requeue: true, ..Default::default() }).await;
                    return;
                }
                _ = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(Duration::from_secs(10));
        }
    }
}
