//! `cloudconn-bench --scale`: how a request's cost grows with the data. For
//! each size N, on a fresh database, N ACTIVE connections are written with
//! SQL ([`super::scale_data`]), the server is started on them, and Get,
//! List's first page and a deep page are measured next to a raw
//! primary-key SELECT of the same size, in the same run. The figures of
//! every size end in one growth table, held to "flat: ≤ 1.3× from the
//! smallest size to the largest".

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use cloudconn_proto::v1 as pb;
use cloudconn_server::api::page_token;
use secrecy::SecretString;

use super::{
    baselines,
    processes::{DeploymentEnv, Service, drop_database, free_port, fresh_database, wait_for_port},
    report::{self, Entry},
    scale_data::{self, BIG_WORKSPACE, Plan, address, big_rows, big_tag},
    scale_growth::{growth, growth_table},
    scenarios::{self, Deployment},
};
use crate::harness::auth::{TokenSpec, mint};

const POOL_SIZE: u32 = 16;

/// The sizes and how much load each gets.
#[derive(Debug, Clone)]
pub struct Scale {
    pub sizes: Vec<usize>,
    pub callers: usize,
    pub gets: usize,
    pub lists: usize,
    /// How long PostgreSQL is given to publish its buffer counts before
    /// and after Get (a backend reports them once idle, up to 10 s late);
    /// zero skips the count.
    pub settle: Duration,
}

impl Scale {
    pub fn full() -> Self {
        Self {
            sizes: vec![10_000, 100_000, 1_000_000],
            callers: 64,
            gets: 20_000,
            lists: 4_000,
            settle: Duration::from_secs(11),
        }
    }

    /// Proves the mode runs end to end, in seconds.
    pub fn tiny() -> Self {
        Self { sizes: vec![1_000, 2_000], callers: 4, gets: 200, lists: 100, settle: Duration::ZERO }
    }
}

/// What one size measured.
#[derive(Debug, serde::Serialize)]
pub struct Measured {
    pub connections: usize,
    pub big_workspace_rows: usize,
    pub load_seconds: f64,
    /// `/proc/loadavg`'s 1-minute figure before and after the runs.
    pub load_average: (f64, f64),
    pub get: Entry,
    /// Per Get: table and index blocks PostgreSQL had to bring into its
    /// shared buffers (from the OS's cache or the disk), and blocks it
    /// found there; and the same per raw SELECT.
    pub get_blocks_read_hit: Option<(f64, f64)>,
    pub select_blocks_read_hit: Option<(f64, f64)>,
    /// The same per List call: the first page, and a deep page.
    pub list_blocks_read_hit: [Option<(f64, f64)>; 2],
    /// The health check at the same callers: no database, so whatever it
    /// does across sizes is the machine's drift, not the data's.
    pub grpc_floor: Entry,
    pub list_first_page: Entry,
    pub list_deep_page: Entry,
    pub server_rss_mb: f64,
    pub plans: Vec<Plan>,
}

/// Runs every size, prints the figures and the growth table, writes them
/// to `json`. The first error ends the run (after its database is
/// dropped) and is returned: a scenario that fails is not a figure.
pub async fn run(scale: &Scale, json: &Path) -> anyhow::Result<()> {
    let mut all = Vec::new();
    for &n in &scale.sizes {
        eprintln!("cloudconn-bench: scale, {n} connections");
        let run = format!("scale{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let measured = one_size(scale, n, &run).await;
        drop_database(&run).await;
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("{run}-keys")));
        crate::harness::amqp::delete_topology(&cloudconn_infra::amqp::topology::Topology::new(&run)).await;
        let measured = measured?;
        println!(
            "{} connections (big workspace {} rows), loaded in {:.1} s",
            n, measured.big_workspace_rows, measured.load_seconds
        );
        let counted = [
            ("Get", measured.get_blocks_read_hit),
            ("raw SELECT", measured.select_blocks_read_hit),
            ("List first page", measured.list_blocks_read_hit[0]),
            ("List deep page", measured.list_blocks_read_hit[1]),
        ];
        for (what, blocks) in counted {
            if let Some((read, hit)) = blocks {
                println!("per {what}: {read:.2} blocks read into PostgreSQL's shared buffers, {hit:.2} found there");
            }
        }
        println!(
            "{}",
            report::table(&[
                measured.get.clone(),
                measured.grpc_floor.clone(),
                measured.list_first_page.clone(),
                measured.list_deep_page.clone(),
                Entry::memory("server RSS after the runs", measured.server_rss_mb, "-"),
            ])
        );
        // In full in the JSON; here the id lists are cut short.
        for plan in &measured.plans {
            println!("EXPLAIN ({}): {}", plan.call, clip(&plan.statement, 400));
            for line in &plan.plan {
                println!("  {}", clip(line, 160));
            }
        }
        all.push(measured);
    }
    // Smallest to largest, whatever order they ran in (running them in
    // reverse tells the data's effect from the machine's drift).
    all.sort_by_key(|m| m.connections);
    let growth = growth(&all);
    println!("{}", growth_table(&all, &growth));
    if let Some(dir) = json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = serde_json::json!({ "sizes": all, "growth": growth });
    std::fs::write(json, serde_json::to_string_pretty(&out)?)?;
    println!("figures written to {}", json.display());
    Ok(())
}

async fn one_size(scale: &Scale, n: usize, run: &str) -> anyhow::Result<Measured> {
    let database_url = fresh_database(run).await?;
    let pool = baselines::pg_pool(&database_url, POOL_SIZE).await?;
    // The schema is the server's own migrations, applied before the load
    // as an upgraded deployment would have it.
    let schema =
        cloudconn_server::store::connect(&SecretString::from(database_url.clone()), 1, Duration::from_secs(10)).await?;
    cloudconn_server::store::migrate(&schema).await?;
    drop(schema);
    let started = Instant::now();
    scale_data::load(&pool, n).await?;
    let load_seconds = started.elapsed().as_secs_f64();

    let secret = uuid::Uuid::new_v4().simple().to_string().repeat(2);
    let listen = format!("127.0.0.1:{}", free_port());
    let mut server = Service::start("cloudconn-server", &server_env(run, &database_url, &secret, &listen))?;
    wait_for_port(&mut server, &listen).await?;
    // VACUUM as well as ANALYZE: autovacuum would otherwise start on the
    // freshly inserted tables in the middle of a measurement; and the
    // checkpointer's writing out of the load would too (its CPU counts as
    // PostgreSQL's).
    sqlx::raw_sql("VACUUM ANALYZE").execute(&pool).await?;
    sqlx::raw_sql("CHECKPOINT").execute(&pool).await?;

    let token = mint(&secret, &TokenSpec { workspaces: &["*"], scope: "connections:read", ..TokenSpec::default() });
    let d =
        Deployment::connect(&listen, &token, &database_url, POOL_SIZE, run, vec![server.pid()], pool.clone()).await?;
    loaded_as_the_server_sees_it(&d, n).await?;

    let load_before = load_average();
    let (get, get_blocks, select_blocks) = get(&d, scale, n).await?;
    let (floor, floor_cpu) = scenarios::grpc_floor_run(&d, scale.callers, scale.gets).await?;
    let grpc_floor = Entry::new(scenarios::GRPC_FLOOR, &floor).cpu(floor_cpu);
    let before = scale_data::buffer_blocks(&pool, scale.settle).await?;
    let list_first_page = list(&d, scale, n, false).await?;
    let between = scale_data::buffer_blocks(&pool, scale.settle).await?;
    let list_deep_page = list(&d, scale, n, true).await?;
    let after = scale_data::buffer_blocks(&pool, scale.settle).await?;
    let list_blocks_read_hit =
        [blocks_per_op(scale, between, before, scale.lists), blocks_per_op(scale, after, between, scale.lists)];
    let server_rss_mb = server.rss_mb();
    server.check_alive()?;
    let load_after = load_average();
    let plans = scale_data::plans(&pool, n).await?;
    Ok(Measured {
        connections: n,
        big_workspace_rows: big_rows(n),
        load_seconds,
        load_average: (load_before, load_after),
        get,
        get_blocks_read_hit: get_blocks,
        select_blocks_read_hit: select_blocks,
        list_blocks_read_hit,
        grpc_floor,
        list_first_page,
        list_deep_page,
        server_rss_mb,
        plans,
    })
}

/// The server's configuration, as the main run's (no worker: Get and List
/// need none).
fn server_env(run: &str, database_url: &str, secret: &str, listen: &str) -> Vec<(String, String)> {
    let key_dir = std::env::temp_dir().join(format!("{run}-keys"));
    let keys = crate::harness::message_keys::KeyPairs::generate().write_server_files(&key_dir);
    let extra = [
        ("CLOUDCONN_DATABASE_POOL_SIZE", POOL_SIZE.to_string()),
        ("CLOUDCONN_LISTEN", listen.to_owned()),
        // The reads are measured alone: no scheduled validation is due
        // within the run anyway (see the load); the scheduler's own
        // query is explained with the others.
        ("CLOUDCONN_REVALIDATE_INTERVAL_MS", "0".to_owned()),
    ];
    DeploymentEnv::direct(database_url, run, secret).with(&keys, &extra)
}

/// The loaded rows read back through the API as ACTIVE with a succeeded
/// last validation: a load the server reads differently would measure
/// something else.
async fn loaded_as_the_server_sees_it(d: &Deployment, n: usize) -> anyhow::Result<()> {
    for i in [0, 1, n / 2, n - 1] {
        let (workspace, tag) = address(i, n);
        let c = d.clients[0].clone().get_connection(pb::GetConnectionRequest { workspace, tag }).await?.into_inner();
        let validation = c.last_validation.as_ref().map(|v| v.state());
        anyhow::ensure!(
            c.status() == pb::ConnectionStatus::Active && validation == Some(pb::ValidationState::Succeeded),
            "row {i} reads as {:?} with its last validation {validation:?}",
            c.status()
        );
    }
    Ok(())
}

/// Row `i` of a uniform, repeatable sample of `0..n`; each `stream` is an
/// independent sample (splitmix64), so Get and its baseline read different
/// rows and neither warms the cache for the other.
fn pick(stream: u64, i: usize, n: usize) -> usize {
    let mut z = (i as u64).wrapping_add(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % n as u64) as usize
}

/// Blocks read and hit per operation between two counts.
type Blocks = Option<(f64, f64)>;

fn blocks_per_op(s: &Scale, after: (i64, i64), before: (i64, i64), ops: usize) -> Blocks {
    let per = |a: i64, b: i64| (a - b) as f64 / ops as f64;
    (!s.settle.is_zero()).then(|| (per(after.0, before.0), per(after.1, before.1)))
}

async fn get(d: &Deployment, s: &Scale, n: usize) -> anyhow::Result<(Entry, Blocks, Blocks)> {
    let per_op = |after, before| blocks_per_op(s, after, before, s.gets);
    let before = scale_data::buffer_blocks(&d.inspect, s.settle).await?;
    let (run, cpu, _statements) = d
        .calls(s.callers, s.gets, move |mut client, i| async move {
            let (workspace, tag) = address(pick(1, i, n), n);
            client.get_connection(pb::GetConnectionRequest { workspace, tag }).await?;
            Ok(())
        })
        .await?;
    let rows: Vec<i64> = (0..s.gets).map(|i| pick(2, i, n) as i64).collect();
    let ids =
        sqlx::query_scalar("SELECT md5('c' || i)::uuid FROM unnest($1::int8[]) WITH ORDINALITY AS u(i, o) ORDER BY o")
            .bind(rows)
            .fetch_all(&d.inspect)
            .await?;
    let pool = baselines::pg_pool(&d.database_url, d.pool_size).await?;
    let between = scale_data::buffer_blocks(&d.inspect, s.settle).await?;
    let (raw, raw_cpu) = d.measure(baselines::pg_select(pool, Arc::new(ids), s.callers, s.gets)).await?;
    let after = scale_data::buffer_blocks(&d.inspect, s.settle).await?;
    let entry = Entry::new(&format!("GetConnection, {n} rows"), &run)
        .cpu(cpu)
        .against_run("PostgreSQL primary-key SELECT (sqlx)", &raw, raw_cpu)
        .target("flat: <= 1.3x from the smallest size");
    Ok((entry, per_op(between, before), per_op(after, between)))
}

/// The big workspace's first page, or pages starting at random rows of
/// its second half (as a client that followed `next_page_token` that far
/// would ask for them).
async fn list(d: &Deployment, s: &Scale, n: usize, deep: bool) -> anyhow::Result<Entry> {
    let big = big_rows(n);
    let (half, span) = (big / 2, (big - big / 2).saturating_sub(50).max(1));
    let (run, cpu, _statements) = d
        .calls(s.callers, s.lists, move |mut client, i| async move {
            let page_token = if deep {
                page_token::encode(BIG_WORKSPACE, None, None, &big_tag(half + pick(3, i, span)))
            } else {
                String::new()
            };
            let page = client
                .list_connections(pb::ListConnectionsRequest {
                    workspace: BIG_WORKSPACE.into(),
                    page_token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            anyhow::ensure!(!page.connections.is_empty(), "an empty page of the big workspace");
            Ok(())
        })
        .await?;
    let which = if deep { "a deep page (second half)" } else { "first page" };
    Ok(Entry::new(&format!("ListConnections, {which}, {big} rows"), &run)
        .cpu(cpu)
        .target("flat: <= 1.3x from the smallest size"))
}

fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| s.split_whitespace().next()?.parse().ok()).unwrap_or(0.0)
}
