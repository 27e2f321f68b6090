//! `--dev`: the validation pipeline in one process. Jobs come from the
//! outbox relay over a channel, run through the worker's own `JobRunner`,
//! and their results are recorded directly. Same code, no broker.
//!
//! The channel does not survive a restart, so at start the jobs of every
//! unfinished validation are sent again (recording a result twice is a
//! no-op, so a duplicate is harmless).

use std::{sync::Arc, time::Duration};

use cloudconn_infra::amqp::messages::ValidationJob;
use cloudconn_worker::consumer::{JobRunner, Ran};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    lifecycle::{Lifecycle, ResultFrom, job_for},
    store::{connections, validations},
};

pub struct InProcessPipeline {
    pub runner: Arc<JobRunner>,
    pub lifecycle: Lifecycle,
    pub jobs: mpsc::UnboundedReceiver<ValidationJob>,
    pub resend: mpsc::UnboundedSender<ValidationJob>,
    pub concurrency: usize,
    /// The provider sandbox the probes are aimed at, if they are: kept
    /// running as long as the pipeline, and named in every result.
    pub sandbox: Option<cloudconn_sandbox::sandbox::Sandbox>,
}

impl InProcessPipeline {
    pub async fn run(mut self, shutdown: CancellationToken) -> anyhow::Result<()> {
        for validation in validations::unfinished(&self.lifecycle.db).await? {
            let row = connections::find_by_id(&self.lifecycle.db, validation.connection_id).await?;
            if let Some(row) = row {
                let _ = self.resend.send(job_for(&row, &validation));
            }
        }
        let permits = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let tasks = TaskTracker::new();
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => break,
                permit = permits.clone().acquire_owned() => permit?,
            };
            let job = tokio::select! {
                _ = shutdown.cancelled() => break,
                job = self.jobs.recv() => match job { Some(job) => job, None => break },
            };
            let (runner, lifecycle, shutdown) = (self.runner.clone(), self.lifecycle.clone(), shutdown.clone());
            let sandboxed = self.sandbox.is_some();
            tasks.spawn(async move {
                let mut result = match runner.process(&job, &shutdown).await {
                    Ran::Done(result) | Ran::Poison(result) => result,
                    // Left unfinished; sent again at the next start.
                    Ran::Interrupted => return,
                };
                if sandboxed {
                    crate::dev::sandbox::mark(&mut result, &job.provider);
                }
                while let Err(e) = lifecycle.record_result(&result, ResultFrom::Worker).await {
                    tracing::warn!(error = %e, "recording a dev validation result failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
                drop(permit);
            });
        }
        tasks.close();
        tasks.wait().await;
        Ok(())
    }
}
