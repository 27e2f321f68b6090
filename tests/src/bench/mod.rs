//! The benchmark harness behind `cloudconn-bench`: closed-loop load with a
//! fixed number of callers, latency in an HDR histogram, and a report that
//! puts each cloudconn figure next to the raw figure of the backend it sits
//! on, measured in the same run with the same concurrency.
//!
//! On a shared 2-core machine an absolute rate says little; the ratio to
//! the backend's own rate says how much cloudconn adds.

pub mod baselines;
pub mod cpu;
pub mod fanout;
pub mod issue;
pub mod oidc;
pub mod processes;
pub mod report;
pub mod scale;
pub mod scale_data;
pub mod scale_growth;
pub mod scenarios;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;

/// What one closed-loop run measured.
#[derive(Debug, Clone)]
pub struct Run {
    pub concurrency: usize,
    pub ops: usize,
    pub elapsed: Duration,
    /// Microseconds.
    pub latency: Histogram<u64>,
}

impl Run {
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at quantile `q`, in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Runs `op(0..total)` from `concurrency` callers, each starting its next
/// operation as soon as the previous one answered (closed loop), and
/// records each operation's latency. The first error stops the run.
pub async fn closed_loop<F, Fut>(concurrency: usize, total: usize, op: F) -> anyhow::Result<Run>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut callers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let (op, next) = (op.clone(), next.clone());
        callers.push(tokio::spawn(async move {
            let mut latency = Histogram::<u64>::new(3)?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return anyhow::Ok(latency);
                }
                let t = Instant::now();
                op(i).await?;
                latency.record(t.elapsed().as_micros() as u64)?;
            }
        }));
    }
    let mut latency = Histogram::<u64>::new(3)?;
    for caller in callers {
        latency.add(caller.await??)?;
    }
    Ok(Run { concurrency, ops: total, elapsed: started.elapsed(), latency })
}
