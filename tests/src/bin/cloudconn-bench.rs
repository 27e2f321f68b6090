//! cloudconn-bench: throughput and latency of cloudconn next to the raw
//! rates of its own backends, measured in the same run (see docs/benchmarks.md).
//! Prints figures and writes them as JSON; asserts nothing.
//!
//!   cloudconn-bench [--tiny | --issue-only | --get-only | --fanout-only] [--fanout-latency-ms MS]
//!                   [--fanout-jobs N] [--validate-callers N] [--json FILE]
//!   cloudconn-bench --scale [--tiny] [--scale-sizes 10000,100000,1000000] [--json FILE]
//!
//! `--issue-only` measures the run step (IssueCredentials) at full size,
//! with the scenarios before it shrunk to what it needs, and no fan-out.
//! `--get-only` stops after Get (and its creates, and the gRPC floor).
//! `--fanout-only` runs the worker fan-out alone; `--fanout-latency-ms`
//! sets each probe's provider latency (default 500 ms: CPU-bound on two
//! cores; 2,000 ms with 1,000 in flight is a bound of 500/s the CPU can
//! carry; give it `--fanout-jobs` of several times the 1,000 in flight, so
//! the ramp up and the last wave's tail do not dominate).
//! `--scale` measures instead how Get's and List's cost grows with the
//! number of connections (bench/scale.rs; docs/benchmarks.md, "Scale").
//!
//! Needs the test stack (`deploy/stack.sh up`) and the `cloudconn-server`
//! and `cloudconn-worker` binaries built next to it (`deploy/bench.sh` does
//! both). Each run uses a fresh database and fresh Vault and RabbitMQ
//! prefixes, and deletes them at the end.

use std::time::Duration;

use anyhow::Context;
use cloudconn_tests::{
    bench::{
        cpu::Shares,
        processes::{DeploymentEnv, Service, drop_database, free_port, fresh_database, wait_for_port},
        report::{self, Entry},
        scenarios::{self, Deployment, Sizes},
    },
    harness::auth::{TokenSpec, mint},
};

const POOL_SIZE: u32 = 16;
/// The second fan-out of a full run: a provider slow enough that two cores
/// keep 1,000 probes in flight (bound 500/s), for long enough to measure.
const SLOW_FANOUT_JOBS: usize = 10_000;
const SLOW_FANOUT_LATENCY: Duration = Duration::from_millis(2000);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut sizes = Sizes::full();
    let mut tiny = false;
    let mut issue_only = false;
    let mut fanout_only = false;
    let mut get_only = false;
    let mut scale: Option<cloudconn_tests::bench::scale::Scale> = None;
    let mut scale_sizes: Option<Vec<usize>> = None;
    let mut json = std::path::PathBuf::from("target/bench/results.json");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tiny" => {
                sizes = Sizes::tiny();
                tiny = true;
            }
            "--issue-only" => {
                sizes = Sizes::issue_only();
                issue_only = true;
            }
            "--fanout-only" => fanout_only = true,
            "--get-only" => get_only = true,
            "--fanout-jobs" => sizes.fanout = args.next().context("--fanout-jobs needs a number")?.parse()?,
            "--fanout-latency-ms" => {
                let ms: u64 = args.next().context("--fanout-latency-ms needs a number")?.parse()?;
                sizes.fanout_latency = Duration::from_millis(ms);
            }
            "--scale" => scale = Some(cloudconn_tests::bench::scale::Scale::full()),
            "--scale-sizes" => {
                let list = args.next().context("--scale-sizes needs sizes, e.g. 10000,100000")?;
                scale_sizes = Some(list.split(',').map(str::parse).collect::<Result<_, _>>()?)
            }
            "--json" => json = args.next().context("--json needs a file")?.into(),
            "--validate-callers" => {
                sizes.validate_callers = args.next().context("--validate-callers needs a number")?.parse()?
            }
            other => anyhow::bail!(
                "unknown argument {other:?}; usage: cloudconn-bench [--tiny | --issue-only | --get-only | --fanout-only] \
                 [--fanout-latency-ms MS] [--fanout-jobs N] [--validate-callers N] [--json FILE] \
                 | --scale [--tiny] [--scale-sizes N,N,…] [--json FILE]"
            ),
        }
    }
    cloudconn_infra::tls::install_crypto_provider();
    if let Some(mut scale) = scale {
        if tiny {
            scale = cloudconn_tests::bench::scale::Scale::tiny();
        }
        scale.sizes = scale_sizes.unwrap_or(scale.sizes);
        // Not over the main run's figures.
        let json = if json.ends_with("results.json") { json.with_file_name("scale.json") } else { json };
        return cloudconn_tests::bench::scale::run(&scale, &json).await;
    }

    let run = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let database_url = fresh_database(&run).await?;
    let secret = uuid::Uuid::new_v4().simple().to_string().repeat(2);
    let deployment = DeploymentEnv::direct(&database_url, &run, &secret);
    let pool = ("CLOUDCONN_DATABASE_POOL_SIZE", POOL_SIZE.to_string());

    // The run step's signing keys, as an operator would make them.
    let key_dir = std::env::temp_dir().join(format!("{run}-keys"));
    let keys = cloudconn_tests::harness::message_keys::KeyPairs::generate();
    let (server_keys, worker_keys) = (keys.write_server_files(&key_dir), keys.write_worker_files(&key_dir));
    let with_keys = |files: &cloudconn_tests::harness::message_keys::KeyFiles, extra: &[(&str, String)]| {
        let mut all = vec![pool.clone()];
        all.extend(extra.iter().cloned());
        deployment.with(files, &all)
    };

    let listen = format!("127.0.0.1:{}", free_port());
    let metrics_listen = format!("127.0.0.1:{}", free_port());
    // One workspace takes all the load here: lift its quotas.
    let server_env = with_keys(
        &server_keys,
        &[
            ("CLOUDCONN_LISTEN", listen.clone()),
            ("CLOUDCONN_METRICS_LISTEN", metrics_listen.clone()),
            ("CLOUDCONN_RATE_VALIDATE_PER_MINUTE", "100000000".into()),
            ("CLOUDCONN_RATE_COMPLETE_PER_MINUTE", "100000000".into()),
            ("CLOUDCONN_MAX_CONNECTIONS_PER_WORKSPACE", "100000000".into()),
            ("CLOUDCONN_RATE_ISSUE_PER_MINUTE", "100000000".into()),
            ("CLOUDCONN_RATE_ISSUE_CALLS_PER_MINUTE", "100000000".into()),
        ],
    );
    let mut server = Service::start("cloudconn-server", &server_env)?;
    wait_for_port(&mut server, &listen).await?;
    let instant = scenarios::aura_emulator(Duration::ZERO).await;
    let mut worker = Service::start(
        "cloudconn-worker",
        &with_keys(
            &worker_keys,
            &[("CLOUDCONN_AURA_BASE", instant.url()), ("CLOUDCONN_WORKER_CONCURRENCY", "64".into())],
        ),
    )?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    worker.check_alive()?;
    let mut entries = vec![
        Entry::memory("server RSS, idle", server.rss_mb(), "-"),
        Entry::memory("worker RSS, idle", worker.rss_mb(), "-"),
    ];

    let token = mint(
        &secret,
        &TokenSpec {
            workspaces: &[scenarios::WORKSPACE],
            scope: "connections:read connections:write connections:use",
            ..TokenSpec::default()
        },
    );
    let inspect = cloudconn_tests::bench::baselines::pg_pool(&database_url, 1).await?;
    let pids = vec![server.pid(), worker.pid()];
    let deployment = Deployment::connect(&listen, &token, &database_url, POOL_SIZE, &run, pids, inspect).await?;
    let deployment = Deployment { metrics_url: format!("http://{metrics_listen}/metrics"), ..deployment };

    if !fanout_only {
        progress("create");
        entries.push(scenarios::create(&deployment, &sizes).await?);
        let rss = Entry::memory(&format!("server RSS, {} connections", sizes.connections), server.rss_mb(), "<= 60 MB");
        entries.push(rss);
        progress("get");
        entries.extend(scenarios::get(&deployment, &sizes).await?);
        if get_only {
            progress("done");
            println!("{}", report::table(&entries));
            return finish(&json, &entries, server, worker, &run).await;
        }
        progress("complete");
        entries.push(scenarios::complete(&deployment, &sizes).await?);
        progress("validate");
        entries.push(scenarios::validate(&deployment, &sizes).await?);
        progress("issue");
        entries.push(cloudconn_tests::bench::issue::hits(&deployment, &sizes).await?);
        entries.push(cloudconn_tests::bench::issue::misses(&deployment, &sizes).await?);
        progress("keyless token");
        entries.push(cloudconn_tests::bench::oidc::signing(&deployment, &sizes).await?);
    }

    if issue_only {
        progress("done");
        println!("{}", report::table(&entries));
        return finish(&json, &entries, server, worker, &run).await;
    }

    // The fan-out gets a worker of its own, wide, on prefixes of its own
    // (no server consumes its results), against a slow provider: each probe
    // makes three calls, each answered a third of the latency late. A full
    // run does it twice: at 500 ms, where two cores cannot keep 1,000 probes
    // in flight, and at 2 s, where they can and the bound is the target.
    drop(worker);
    let mut plans = vec![(sizes.fanout, sizes.fanout_latency)];
    if !tiny && !fanout_only {
        plans.push((SLOW_FANOUT_JOBS, SLOW_FANOUT_LATENCY));
    }
    let mut wide = None;
    for (i, (jobs, latency)) in plans.into_iter().enumerate() {
        // The previous wide worker stops before the next starts.
        drop(wide.take());
        let sizes = Sizes { fanout: jobs, fanout_latency: latency, ..sizes.clone() };
        let slow = scenarios::aura_emulator(latency / 3).await;
        let fan = format!("{run}f{i}");
        let prepared = cloudconn_tests::bench::fanout::prepare(&fan, jobs).await?;
        let concurrency = sizes.fanout_concurrency.to_string();
        let mut worker = Service::start(
            "cloudconn-worker",
            &with_keys(
                &worker_keys,
                &[
                    ("CLOUDCONN_AMQP_PREFIX", fan.clone()),
                    ("CLOUDCONN_VAULT_PREFIX", fan.clone()),
                    ("CLOUDCONN_AURA_BASE", slow.url()),
                    ("CLOUDCONN_WORKER_CONCURRENCY", concurrency.clone()),
                    ("CLOUDCONN_PROBE_CONCURRENCY_PER_PROVIDER", concurrency),
                    ("CLOUDCONN_PROBE_TIMEOUT_MS", "30000".into()),
                ],
            ),
        )?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        worker.check_alive()?;
        progress(&format!("fan-out at {} ms per probe", latency.as_millis()));
        let before = Shares::now(&[worker.pid()]);
        let fanout = scenarios::fanout(&fan, &sizes, prepared).await?;
        let cpu = Shares::now(&[worker.pid()]).per_op_since(&before, jobs);
        entries.push(fanout.rss(worker.peak_rss_mb()).cpu(cpu));
        wide = Some(worker);
    }
    let wide = wide.context("at least one fan-out ran")?;
    server.check_alive()?;

    progress("done");
    println!("{}", report::table(&entries));
    if tiny || cfg!(debug_assertions) {
        // The test command runs this to prove the harness works end to end.
        println!(
            "note: a {} run{}: these figures say nothing about speed, and ratios under their targets are \
             expected here. Figures: deploy/bench.sh (release build, full sizes; docs/benchmarks.md).",
            if cfg!(debug_assertions) { "debug-build" } else { "release-build" },
            if tiny { " of tiny sizes" } else { "" }
        );
    }
    finish(&json, &entries, server, wide, &run).await
}

/// Writes the figures, stops the processes and deletes the run's database
/// and RabbitMQ topology.
async fn finish(
    json: &std::path::Path,
    entries: &[Entry],
    server: Service,
    worker: Service,
    run: &str,
) -> anyhow::Result<()> {
    if let Some(dir) = json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(json, serde_json::to_string_pretty(entries)?)?;
    println!("figures written to {}", json.display());
    drop((server, worker));
    drop_database(run).await;
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("{run}-keys")));
    cloudconn_tests::harness::amqp::delete_topology(&cloudconn_infra::amqp::topology::Topology::new(run)).await;
    Ok(())
}

/// One line on stderr as each scenario starts, so a profiler (or a
/// person) watching the run knows which scenario the load belongs to.
fn progress(scenario: &str) {
    eprintln!("cloudconn-bench: {scenario}");
}
