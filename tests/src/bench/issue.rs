//! The run step's figures (docs/run.md, docs/benchmarks.md): IssueCredentials served from the
//! cache next to the gRPC floor, and minted by the worker next to a raw
//! RabbitMQ request/reply — both in the same run, at the same concurrency.
//! They run after `validate`, whose connections are ACTIVE.

use cloudconn_proto::v1 as pb;

use super::{
    baselines,
    report::{DatabasePerOp, Entry},
    scenarios::{Deployment, GRPC_FLOOR, Sizes, WORKSPACE, grpc_floor_run, tag},
};

fn request(tag: String, consumer: String) -> pb::IssueCredentialsRequest {
    pb::IssueCredentialsRequest { workspace: WORKSPACE.into(), tag, scope: "database".into(), consumer, ttl: None }
}

/// One key asked again and again: every call after the first is a hit
/// (a row read, the audit row group-committed, no worker).
pub async fn hits(d: &Deployment, s: &Sizes) -> anyhow::Result<Entry> {
    d.clients[0].clone().issue_credentials(request(tag(0), "bench-hot".into())).await?;
    let before = d.database_counts(s).await?;
    let (run, cpu, statements) = d
        .calls(s.callers, s.issue_hits, |mut client, _| async move {
            client.issue_credentials(request(tag(0), "bench-hot".into())).await?;
            Ok(())
        })
        .await?;
    let database = per_op(before, d.database_counts(s).await?, run.ops);
    let (floor, floor_cpu) = grpc_floor_run(d, s.callers, s.issue_hits).await?;
    Ok(Entry::new("IssueCredentials, cache hit", &run)
        .cpu(cpu)
        .statements(statements)
        .database_opt(database)
        .against_run(GRPC_FLOOR, &floor, floor_cpu)
        .target(">= 0.5x, p99 <= 5 ms"))
}

/// Every call a new (connection, consumer): each is minted by the worker
/// against an instant provider (the Aura emulator) over request/reply.
pub async fn misses(d: &Deployment, s: &Sizes) -> anyhow::Result<Entry> {
    let active = s.validations.max(1);
    let before = d.database_counts(s).await?;
    let (run, cpu, statements) = d
        .calls(s.callers, s.issue_misses, move |mut client, i| async move {
            client.issue_credentials(request(tag(i % active), format!("bench-{}", i / active))).await?;
            Ok(())
        })
        .await?;
    let database = per_op(before, d.database_counts(s).await?, run.ops);
    let (raw, raw_cpu) =
        d.measure(baselines::amqp_round_trips(&d.amqp_url, &d.prefix, s.callers, s.issue_misses.max(200))).await?;
    Ok(Entry::new("IssueCredentials, miss (worker mints)", &run)
        .cpu(cpu)
        .statements(statements)
        .database_opt(database)
        .against_run("RabbitMQ request/reply, confirms (lapin)", &raw, raw_cpu)
        .target(">= 0.3x"))
}

/// The database's work between two [`Deployment::database_counts`], per operation.
fn per_op(before: Option<(i64, i64)>, after: Option<(i64, i64)>, ops: usize) -> Option<DatabasePerOp> {
    let ((commits0, rows0), (commits1, rows1)) = (before?, after?);
    let ops = ops.max(1) as f64;
    Some(DatabasePerOp { transactions: (commits1 - commits0) as f64 / ops, rows_written: (rows1 - rows0) as f64 / ops })
}
