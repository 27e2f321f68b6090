//! cloudconn-bench: prints figures, asserts nothing.
//!
//!   cargo run --release -p cloudconn-tests --bin bench -- [validations] [callers]
//!
//! Needs the test stack (`deploy/stack.sh up`). Boots the real server and an
//! in-process worker with the scripted (instant) probe through the same
//! harness as the tests, then measures `ValidateConnection` with `wait`, end
//! to end: outbox → RabbitMQ → worker → Vault read → results → commit →
//! answer. Each caller validates its own connections, one at a time.

use std::time::{Duration, Instant};

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, fixtures};
use hdrhistogram::Histogram;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(300);
    let callers: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(8).max(1);

    let app = TestApp::spawn().await;
    let per_caller = total.div_ceil(callers);
    // Setup (not measured): one connection per validation, credentials saved.
    for c in 0..callers {
        for i in 0..per_caller {
            let tag = format!("b_{c}_{i}");
            let mut client = app.client.clone();
            client
                .create_connection(pb::CreateConnectionRequest {
                    workspace: "bench".into(),
                    tag: tag.clone(),
                    provider: pb::Provider::Azure.into(),
                    scopes: vec!["storage".into()],
                    ..Default::default()
                })
                .await?;
            client
                .complete_connection(pb::CompleteConnectionRequest {
                    workspace: "bench".into(),
                    tag,
                    credentials: Some(fixtures::azure("instant")),
                    ..Default::default()
                })
                .await?;
        }
    }

    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..callers {
        let mut client = app.client.clone();
        tasks.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new(3).expect("histogram");
            for i in 0..per_caller {
                let t = Instant::now();
                let done = client
                    .validate_connection(pb::ValidateConnectionRequest {
                        workspace: "bench".into(),
                        tag: format!("b_{c}_{i}"),
                        wait: Some(prost_types::Duration { seconds: 30, nanos: 0 }),
                    })
                    .await
                    .expect("validate")
                    .into_inner();
                assert_eq!(done.validation.expect("validation").state(), pb::ValidationState::Succeeded);
                histogram.record(t.elapsed().as_micros() as u64).expect("record");
            }
            histogram
        }));
    }
    let mut all = Histogram::<u64>::new(3)?;
    for task in tasks {
        all.add(task.await?)?;
    }
    let elapsed = started.elapsed();
    let ms = |q: f64| Duration::from_micros(all.value_at_quantile(q)).as_secs_f64() * 1000.0;
    println!("scenario               callers  n     ops/s   p50 ms  p99 ms  p99.9 ms");
    println!(
        "validate (wait, e2e)   {callers:<7}  {:<5} {:<7.1} {:<7.2} {:<7.2} {:.2}",
        all.len(),
        all.len() as f64 / elapsed.as_secs_f64(),
        ms(0.5),
        ms(0.99),
        ms(0.999)
    );
    app.finish().await;
    Ok(())
}
