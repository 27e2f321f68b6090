//! The scenarios, each next to its baseline. They run in order on one
//! deployment (a server process, a worker process, a fresh database and
//! fresh Vault/RabbitMQ prefixes): Create fills the table Get reads,
//! Complete saves the credentials Validate and the fan-out use.

use std::{collections::HashMap, sync::Arc, time::Duration};

use cloudconn_proto::v1::{
    self as pb, Neo4jAuraCredentials, complete_connection_request::Credentials,
    connection_service_client::ConnectionServiceClient,
};
use tonic::{Request, service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

use super::{Run, baselines, closed_loop, cpu::Shares, report::Entry};
use crate::emulators::{self, Emulator, neo4j_aura};

pub type Client = ConnectionServiceClient<InterceptedService<Channel, Bearer>>;

/// Adds the bearer token to every call.
#[derive(Clone)]
pub struct Bearer(pub tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, tonic::Status> {
        request.metadata_mut().insert("authorization", self.0.clone());
        Ok(request)
    }
}

pub const WORKSPACE: &str = "bench";

/// How big each scenario is.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub callers: usize,
    pub validate_callers: usize,
    pub connections: usize,
    pub gets: usize,
    pub completes: usize,
    pub validations: usize,
    pub fanout: usize,
    pub fanout_concurrency: usize,
    pub fanout_latency: Duration,
    /// IssueCredentials cache hits, and misses (each a mint by the worker).
    pub issue_hits: usize,
    pub issue_misses: usize,
    /// Count the run step's transactions and rows in PostgreSQL (each
    /// count waits 11 s for the statistics: not for `--tiny`).
    pub database_counts: bool,
}

impl Sizes {
    pub fn full() -> Self {
        Self {
            callers: 64,
            validate_callers: 8,
            connections: 10_000,
            gets: 20_000,
            completes: 3_000,
            validations: 400,
            fanout: 2_000,
            fanout_concurrency: 1_000,
            fanout_latency: Duration::from_millis(500),
            issue_hits: 20_000,
            issue_misses: 2_000,
            database_counts: true,
        }
    }

    /// For the run step alone (`--issue-only`): the full IssueCredentials
    /// sizes and callers, the scenarios before it only as large as they must
    /// be to leave 400 ACTIVE connections behind.
    pub fn issue_only() -> Self {
        Self { connections: 400, gets: 400, completes: 400, ..Self::full() }
    }

    /// Enough to prove every scenario runs, in seconds.
    pub fn tiny() -> Self {
        Self {
            callers: 4,
            validate_callers: 2,
            connections: 40,
            gets: 40,
            completes: 40,
            validations: 10,
            fanout: 20,
            fanout_concurrency: 10,
            fanout_latency: Duration::from_millis(50),
            issue_hits: 40,
            issue_misses: 20,
            database_counts: false,
        }
    }
}

/// Where the scenarios run.
pub struct Deployment {
    /// Several HTTP/2 connections, as many callers would have; call `i`
    /// goes over connection `i % len`.
    pub clients: Arc<Vec<Client>>,
    /// The same connections, bare (for the health service).
    pub channels: Arc<Vec<Channel>>,
    pub database_url: String,
    pub pool_size: u32,
    pub amqp_url: String,
    pub prefix: String,
    pub vault: Arc<vaultrs::client::VaultClient>,
    pub vault_mount: String,
    /// The server's and the worker's process ids.
    pub pids: Vec<u32>,
    /// The service's database, to see when its outbox is drained.
    pub inspect: sqlx::PgPool,
    /// The server's metrics endpoint (`…/metrics`), for the statements it
    /// sent to the database.
    pub metrics_url: String,
}

impl Deployment {
    /// Runs `load` and returns what it measured with the CPU every process
    /// spent on it, per operation.
    ///
    /// The relay publishes a change's events after the call answered, so
    /// the CPU is read once the outbox is drained: that work belongs to
    /// the calls that caused it, and must not spill into the next
    /// scenario's figures. The rate is what the callers saw.
    pub async fn measure(&self, load: impl Future<Output = anyhow::Result<Run>>) -> anyhow::Result<(Run, Shares)> {
        let before = Shares::now(&self.pids);
        let run = load.await?;
        self.drained().await?;
        let cpu = Shares::now(&self.pids).per_op_since(&before, run.ops);
        Ok((run, cpu))
    }

    /// `total` closed-loop calls from `callers`, call `i` over client
    /// connection `i % len`, measured, with the statements the server sent
    /// to the database per call (background work during the run included:
    /// the relay's and the flushes', a few per second).
    pub async fn calls<F, Fut>(&self, callers: usize, total: usize, op: F) -> anyhow::Result<(Run, Shares, f64)>
    where
        F: Fn(Client, usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send,
    {
        let clients = self.clients.clone();
        let before = self.statements().await?;
        let (run, cpu) =
            self.measure(closed_loop(callers, total, move |i| op(clients[i % clients.len()].clone(), i))).await?;
        let statements = (self.statements().await? - before) as f64 / run.ops.max(1) as f64;
        Ok((run, cpu, statements))
    }

    /// The server's `cloudconn_db_statements_total`, every kind.
    async fn statements(&self) -> anyhow::Result<u64> {
        if self.metrics_url.is_empty() {
            return Ok(0);
        }
        let text = reqwest::get(&self.metrics_url).await?.error_for_status()?.text().await?;
        Ok(text
            .lines()
            .filter(|l| l.starts_with("cloudconn_db_statements_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum())
    }

    /// Transactions committed and rows written so far in the service's
    /// database. PostgreSQL publishes a backend's counts when it goes idle,
    /// up to 10 s late: this waits that long first, so the counts of what
    /// ran before are all in.
    pub async fn database_counts(&self, s: &Sizes) -> anyhow::Result<Option<(i64, i64)>> {
        if !s.database_counts {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_secs(11)).await;
        sqlx::query("SELECT pg_stat_clear_snapshot()").execute(&self.inspect).await?;
        let row: (i64, i64) = sqlx::query_as(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database \
             WHERE datname = current_database()",
        )
        .fetch_one(&self.inspect)
        .await?;
        Ok(Some(row))
    }

    async fn drained(&self) -> anyhow::Result<()> {
        for _ in 0..6_000 {
            let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_time IS NULL")
                .fetch_one(&self.inspect)
                .await?;
            if unsent == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        anyhow::bail!("the outbox did not drain within 60 s")
    }
}

pub fn tag(i: usize) -> String {
    format!("c_{i}")
}

/// The credentials the Aura emulator of [`aura_emulator`] accepts (with
/// `bench-secret`).
pub fn aura(secret: &str) -> Credentials {
    Credentials::Neo4jAura(Neo4jAuraCredentials {
        aura_client_id: "bench-client".into(),
        aura_client_secret: secret.into(),
    })
}

/// An Aura emulator that knows the bench's client and answers each request
/// after `latency`.
pub async fn aura_emulator(latency: Duration) -> Emulator {
    let client =
        neo4j_aura::Client { secret: "bench-secret".into(), tenant: "tenant-bench".into(), can_list_instances: true };
    let emulator = emulators::serve(neo4j_aura::router(neo4j_aura::Aura::new(HashMap::from([(
        "bench-client".to_owned(),
        client,
    )]))))
    .await;
    emulator.faults.latency_ms.store(latency.as_millis() as u64, std::sync::atomic::Ordering::SeqCst);
    emulator
}

pub async fn create(d: &Deployment, s: &Sizes) -> anyhow::Result<Entry> {
    let (run, cpu, statements) = d
        .calls(s.callers, s.connections, |mut client, i| async move {
            client
                .create_connection(pb::CreateConnectionRequest {
                    workspace: WORKSPACE.into(),
                    tag: tag(i),
                    provider: pb::Provider::Neo4jAura.into(),
                    scopes: vec!["database".into()],
                    ..Default::default()
                })
                .await?;
            Ok(())
        })
        .await?;
    let pool = baselines::pg_pool(&d.database_url, d.pool_size).await?;
    let (raw, raw_cpu) = d.measure(baselines::pg_insert(pool, s.callers, s.connections.min(5_000))).await?;
    Ok(Entry::new("CreateConnection", &run)
        .cpu(cpu)
        .statements(statements)
        .against_run("PostgreSQL INSERT transaction (sqlx)", &raw, raw_cpu)
        .target(">= 0.6x"))
}

pub async fn get(d: &Deployment, s: &Sizes) -> anyhow::Result<Vec<Entry>> {
    let connections = s.connections;
    let (run, cpu, statements) = d
        .calls(s.callers, s.gets, move |mut client, i| async move {
            // A spread of rows, not one hot row.
            let tag = tag(i.wrapping_mul(7919) % connections);
            client.get_connection(pb::GetConnectionRequest { workspace: WORKSPACE.into(), tag }).await?;
            Ok(())
        })
        .await?;
    let pool = baselines::pg_pool(&d.database_url, d.pool_size).await?;
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM connections").fetch_all(&pool).await?;
    let (raw, raw_cpu) = d.measure(baselines::pg_select(pool, Arc::new(ids), s.callers, s.gets)).await?;
    let baseline = "PostgreSQL primary-key SELECT (sqlx)";
    let floor = grpc_floor(d, s).await?;
    Ok(vec![
        Entry::new(&format!("GetConnection ({} rows)", s.connections), &run)
            .cpu(cpu)
            .statements(statements)
            .against_run(baseline, &raw, raw_cpu)
            .target(">= 0.6x, p99 <= 10 ms"),
        floor.against_run(baseline, &raw, raw_cpu).target("(diagnostic: the best Get could do)"),
    ])
}

/// The cost of a gRPC call as such: the health check touches no database
/// and needs no token, but goes through the same HTTP/2 connections, the
/// server's per-call span, limits and metrics, and the benchmark's client.
/// Next to the raw SELECT it bounds what any call that also reads
/// PostgreSQL can reach on this machine.
async fn grpc_floor(d: &Deployment, s: &Sizes) -> anyhow::Result<Entry> {
    let (run, cpu) = grpc_floor_run(d, s.callers, s.gets).await?;
    Ok(Entry::new(GRPC_FLOOR, &run).cpu(cpu))
}

pub const GRPC_FLOOR: &str = "gRPC floor: Health/Check (no database, no token)";

/// `total` health checks from `callers`, measured.
pub async fn grpc_floor_run(d: &Deployment, callers: usize, total: usize) -> anyhow::Result<(Run, Shares)> {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let channels = d.channels.clone();
    d.measure(closed_loop(callers, total, move |i| {
        let mut client = HealthClient::new(channels[i % channels.len()].clone());
        async move {
            client.check(HealthCheckRequest { service: String::new() }).await?;
            Ok(())
        }
    }))
    .await
}

pub async fn complete(d: &Deployment, s: &Sizes) -> anyhow::Result<Entry> {
    let (run, cpu, statements) = d
        .calls(s.callers, s.completes, |mut client, i| async move {
            client
                .complete_connection(pb::CompleteConnectionRequest {
                    workspace: WORKSPACE.into(),
                    tag: tag(i),
                    credentials: Some(aura("bench-secret")),
                    ..Default::default()
                })
                .await?;
            Ok(())
        })
        .await?;
    let (raw, raw_cpu) = d
        .measure(baselines::vault_cas_writes(
            d.vault.clone(),
            d.vault_mount.clone(),
            format!("{}-raw", d.prefix),
            s.callers,
            s.completes,
        ))
        .await?;
    Ok(Entry::new("CompleteConnection", &run)
        .cpu(cpu)
        .statements(statements)
        .against_run("Vault KV v2 CAS write (vaultrs)", &raw, raw_cpu)
        .target(">= 0.6x"))
}

/// Validations with `wait`, each of a connection not validated before.
pub async fn validate(d: &Deployment, s: &Sizes) -> anyhow::Result<Entry> {
    let (run, cpu, statements) = d
        .calls(s.validate_callers, s.validations, |mut client, i| async move {
            let done = client
                .validate_connection(pb::ValidateConnectionRequest {
                    workspace: WORKSPACE.into(),
                    tag: tag(i),
                    wait: Some(prost_types::Duration { seconds: 60, nanos: 0 }),
                })
                .await?
                .into_inner();
            let state = done.validation.map(|v| v.state()).unwrap_or_default();
            anyhow::ensure!(state == pb::ValidationState::Succeeded, "validation ended {state:?}");
            Ok(())
        })
        .await?;
    let (raw, raw_cpu) = d
        .measure(baselines::amqp_round_trips(&d.amqp_url, &d.prefix, s.validate_callers, s.validations.max(200)))
        .await?;
    Ok(Entry::new("ValidateConnection (wait, e2e)", &run)
        .cpu(cpu)
        .statements(statements)
        .against_run("RabbitMQ request/reply, confirms (lapin)", &raw, raw_cpu)
        .target(">= 0.3x, p50 <= 15 ms"))
}

/// The worker alone against a slow provider (see `fanout.rs`): achieved
/// validations/s next to the bound, concurrency / probe latency.
pub async fn fanout(
    prefix: &str,
    s: &Sizes,
    jobs: Vec<cloudconn_infra::amqp::messages::ValidationJob>,
) -> anyhow::Result<Entry> {
    let measured = super::fanout::run(prefix, jobs).await?;
    // The percentiles are each job's time in the worker, next to the
    // provider's own latency.
    let run = super::Run {
        concurrency: s.fanout_concurrency,
        ops: s.fanout,
        elapsed: measured.elapsed,
        latency: measured.jobs,
    };
    let bound = s.fanout_concurrency as f64 / s.fanout_latency.as_secs_f64();
    let label =
        format!("bound: concurrency {} / probe latency {} ms", s.fanout_concurrency, s.fanout_latency.as_millis());
    let name = format!("Worker fan-out, {} ms probes (worker alone)", s.fanout_latency.as_millis());
    Ok(Entry::new(&name, &run).against(&label, bound).target(">= 0.8x; worker RSS <= 150 MB"))
}
