//! cloudconn-soak: a mixed load for a long time while faults are injected,
//! then a check that nothing was lost, stuck or done twice, and that the
//! server's and the worker's memory and file descriptors stayed flat
//! (docs/benchmarks.md, "Soak").
//!
//!   cloudconn-soak [--minutes N]            (default 30, at most 720)
//!
//! Loopback only: the server and worker processes, the test stack
//! (`deploy/stack.sh up`) and an in-process Aura emulator. The load is
//! creates, completes, validations, gets, lists, watch streams and issues
//! from a few callers; every 60 s one fault, in turn: the worker killed
//! (`kill -9`) and restarted; RabbitMQ gone for 10 s; Vault frozen for 10 s;
//! every PostgreSQL connection of the service terminated. RabbitMQ and Vault
//! are reached through the harness's chaos proxies, so "gone" (every
//! connection cut, new ones refused, as when the broker stops) and "frozen"
//! (connections open, no byte moving, as under `SIGSTOP`) hit only this
//! run's processes, not whatever else uses the stack. Exits 1 when a check
//! fails. `deploy/soak.sh` builds and runs it.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use cloudconn_proto::v1::{self as pb, connection_service_client::ConnectionServiceClient};
use cloudconn_tests::{
    bench::{
        processes::{DeploymentEnv, Service, drop_database, free_port, fresh_database, open_fds, wait_for_port},
        scenarios::{Bearer, Client, aura, aura_emulator},
    },
    harness::{
        auth::{TokenSpec, mint},
        chaos_proxy::ChaosProxy,
        env,
        message_keys::{KeyFiles, KeyPairs},
    },
};
use futures_lite::StreamExt;
use tonic::{Code, transport::Channel};

const WORKSPACE: &str = "soak";
const CALLERS: usize = 8;
const FAULT_EVERY: Duration = Duration::from_secs(60);
const SAMPLE_EVERY: Duration = Duration::from_secs(30);
/// Connections each caller creates at most (the workspace's cap is 1,000).
const CONNECTIONS_PER_CALLER: usize = 40;

/// What the callers saw, per operation: answered, refused with a code a
/// caller retries (an outage), refused otherwise.
#[derive(Default)]
struct Tally(BTreeMap<&'static str, [u64; 3]>);

impl Tally {
    fn record(&mut self, op: &'static str, result: &Result<(), tonic::Status>) {
        let slot = match result {
            Ok(()) => 0,
            Err(s) if retryable(s.code()) => 1,
            Err(s) => {
                eprintln!("soak: {op} refused for good: {:?} {}", s.code(), s.message());
                2
            }
        };
        self.0.entry(op).or_default()[slot] += 1;
    }
}

fn retryable(code: Code) -> bool {
    matches!(code, Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut minutes = 30u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => minutes = args.next().context("--minutes needs a number")?.parse()?,
            other => anyhow::bail!("unknown argument {other:?}; usage: cloudconn-soak [--minutes N]"),
        }
    }
    anyhow::ensure!((1..=720).contains(&minutes), "--minutes must be 1..=720");
    cloudconn_infra::tls::install_crypto_provider();

    let run = format!("soak{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let database_url = fresh_database(&run).await?;
    let key_dir = std::env::temp_dir().join(format!("{run}-keys"));
    let keys = KeyPairs::generate();
    let (server_keys, worker_keys) = (keys.write_server_files(&key_dir), keys.write_worker_files(&key_dir));
    let secret = uuid::Uuid::new_v4().simple().to_string().repeat(2);
    let aura_api = aura_emulator(Duration::from_millis(20)).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let broker = Arc::new(ChaosProxy::start("127.0.0.1:5672".parse()?).await?);
    let vault = Arc::new(ChaosProxy::start(authority(&env::vault_addr()).parse()?).await?);
    let amqp_url = env::amqp_url().replace("127.0.0.1:5672", &broker.addr().to_string());
    let vault_url = env::vault_addr().replace(&authority(&env::vault_addr()), &vault.addr().to_string());
    let deployment =
        DeploymentEnv { database_url: &database_url, amqp_url, vault_addr: vault_url, run: &run, secret: &secret };
    let env = |files: &KeyFiles| {
        deployment.with(
            files,
            &[
                ("CLOUDCONN_LISTEN", listen.clone()),
                ("CLOUDCONN_AURA_BASE", aura_api.url()),
                ("CLOUDCONN_RATE_VALIDATE_PER_MINUTE", "100000".into()),
                ("CLOUDCONN_RATE_COMPLETE_PER_MINUTE", "100000".into()),
            ],
        )
    };
    let mut server = Service::start("cloudconn-server", &env(&server_keys))?;
    wait_for_port(&mut server, &listen).await?;
    let worker = Arc::new(Mutex::new(Some(Service::start("cloudconn-worker", &env(&worker_keys))?)));

    let token = mint(
        &secret,
        &TokenSpec {
            workspaces: &[WORKSPACE],
            scope: "connections:read connections:write connections:use",
            ..TokenSpec::default()
        },
    );
    let channel = Channel::from_shared(format!("http://{listen}"))?.connect_lazy();
    let client: Client = ConnectionServiceClient::with_interceptor(channel, Bearer(format!("Bearer {token}").parse()?));

    let deadline = Instant::now() + Duration::from_secs(minutes * 60);
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    // (validation id, tag) of every validation the callers were told queued.
    let validations = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    eprintln!("soak: {minutes} min, {CALLERS} callers, a fault every {FAULT_EVERY:?}; samples every {SAMPLE_EVERY:?}");

    let mut tasks = Vec::new();
    for caller in 0..CALLERS {
        let (client, stop, tally, validations) = (client.clone(), stop.clone(), tally.clone(), validations.clone());
        tasks.push(tokio::spawn(load(caller, client, stop, tally, validations)));
    }
    let watcher = tokio::spawn(watch(client.clone(), stop.clone(), tally.clone()));
    let faults = tokio::spawn(inject(
        worker.clone(),
        env(&worker_keys),
        database_url.clone(),
        (broker.clone(), vault.clone()),
        stop.clone(),
    ));

    // The series: RSS and descriptors of both processes, and the outbox.
    let inspect = cloudconn_tests::bench::baselines::pg_pool(&database_url, 2).await?;
    let mut series = Vec::new();
    let started = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(SAMPLE_EVERY.min(deadline.saturating_duration_since(Instant::now()))).await;
        server.check_alive()?;
        let (w_rss, w_fds) =
            worker.lock().unwrap().as_ref().map(|w| (w.rss_mb(), open_fds(w.pid()))).unwrap_or_default();
        let sample = (started.elapsed().as_secs(), server.rss_mb(), open_fds(server.pid()), w_rss, w_fds);
        let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_time IS NULL")
            .fetch_one(&inspect)
            .await
            .unwrap_or(-1);
        eprintln!(
            "soak: t={:>5}s server {:>6.1} MB {:>4} fds | worker {:>6.1} MB {:>4} fds | outbox unsent {unsent}",
            sample.0, sample.1, sample.2, sample.3, sample.4
        );
        series.push(sample);
    }
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await??;
    }
    watcher.await?;
    faults.await??;

    // Let what was in flight finish, then look.
    let settle = Instant::now() + Duration::from_secs(180);
    let stuck = loop {
        let stuck: i64 = sqlx::query_scalar("SELECT count(*) FROM validations WHERE state IN ('queued', 'running')")
            .fetch_one(&inspect)
            .await?;
        if stuck == 0 || Instant::now() > settle {
            break stuck;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    // Lost: a validation the caller was told is queued that is not in the
    // table, unless the history pruning removed it (finished, and older than
    // the newest VALIDATIONS_KEPT of its connection).
    let requested = validations.lock().unwrap().clone();
    let known: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT id::text FROM validations").fetch_all(&inspect).await?.into_iter().collect();
    let history: std::collections::HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT c.tag, count(v.id) FROM connections c LEFT JOIN validations v ON v.connection_id = c.id GROUP BY c.tag",
    )
    .fetch_all(&inspect)
    .await?
    .into_iter()
    .collect();
    let kept = cloudconn_server::outbox::prune::VALIDATIONS_KEPT as i64;
    let lost = requested
        .iter()
        .filter(|(id, tag)| !known.contains(id) && history.get(tag).copied().unwrap_or(0) < kept)
        .count();
    // Activated twice: two `activated` events naming the same validation
    // (a result applied twice, say after a redelivery).
    let doubled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT payload::json->'data'->'lastValidation'->>'id' \
         FROM outbox WHERE routing_key LIKE '%.connection.activated' GROUP BY 1 HAVING count(*) > 1) d",
    )
    .fetch_one(&inspect)
    .await?;
    let unsent: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_time IS NULL").fetch_one(&inspect).await?;

    println!("\nsoak: {minutes} min; per operation: answered / refused, retryable / refused for good");
    let tally = tally.lock().unwrap();
    for (op, [ok, retry, bad]) in &tally.0 {
        println!("  {op:<12} {ok:>7} / {retry:>5} / {bad:>3}");
    }
    let hard_refusals: u64 = tally.0.values().map(|t| t[2]).sum();
    println!(
        "  validations requested {}, lost {lost}, stuck {stuck}, activated twice {doubled}; outbox unsent {unsent}",
        requested.len()
    );
    let flat = flatness(&series);
    println!("  {flat}");

    drop(server);
    drop(worker.lock().unwrap().take());
    drop_database(&run).await;
    let _ = std::fs::remove_dir_all(&key_dir);
    cloudconn_tests::harness::amqp::delete_topology(&cloudconn_infra::amqp::topology::Topology::new(&run)).await;

    let ok = lost == 0 && stuck == 0 && doubled == 0 && hard_refusals == 0 && !flat.starts_with("GROWING");
    println!("soak: {}", if ok { "passed" } else { "FAILED" });
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}

/// One caller: a new connection, then a loop of reads, issues, rotations
/// and validations on its own connections.
async fn load(
    caller: usize,
    mut client: Client,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    validations: Arc<Mutex<Vec<(String, String)>>>,
) -> anyhow::Result<()> {
    let mut mine: Vec<String> = Vec::new();
    let mut i = 0usize;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let creating = mine.is_empty() || (i % 10 == 0 && mine.len() < CONNECTIONS_PER_CALLER);
        let (op, result): (&'static str, Result<(), tonic::Status>) = match (i % 10, mine.len()) {
            _ if creating => {
                let tag = format!("c{caller}_{i}");
                let created = client
                    .create_connection(pb::CreateConnectionRequest {
                        workspace: WORKSPACE.into(),
                        tag: tag.clone(),
                        provider: pb::Provider::Neo4jAura.into(),
                        scopes: vec!["database".into()],
                        ..Default::default()
                    })
                    .await
                    .map(|_| ());
                if created.is_ok() {
                    mine.push(tag);
                }
                ("create", created)
            }
            (1 | 5, n) => {
                let tag = mine[i % n].clone();
                let done = client
                    .complete_connection(pb::CompleteConnectionRequest {
                        workspace: WORKSPACE.into(),
                        tag,
                        credentials: Some(aura("bench-secret")),
                        ..Default::default()
                    })
                    .await
                    .map(|_| ());
                ("complete", done)
            }
            (2 | 6, n) => {
                let tag = mine[i % n].clone();
                let done = client
                    .validate_connection(pb::ValidateConnectionRequest {
                        workspace: WORKSPACE.into(),
                        tag: tag.clone(),
                        wait: Some(prost_types::Duration { seconds: 0, nanos: 0 }),
                    })
                    .await
                    .map(|r| {
                        if let Some(v) = r.into_inner().validation {
                            validations.lock().unwrap().push((v.id, tag));
                        }
                    });
                // Not yet completed: FAILED_PRECONDITION is the answer.
                match done {
                    Err(s) if s.code() == Code::FailedPrecondition => ("validate", Ok(())),
                    other => ("validate", other),
                }
            }
            (3 | 7, n) => {
                let tag = mine[i % n].clone();
                let issued = client
                    .issue_credentials(pb::IssueCredentialsRequest {
                        workspace: WORKSPACE.into(),
                        tag,
                        scope: "database".into(),
                        consumer: format!("soak-{caller}"),
                        ttl: None,
                    })
                    .await
                    .map(|_| ());
                // Not (yet) ACTIVE is a precondition, not a failure.
                match issued {
                    Err(s) if s.code() == Code::FailedPrecondition => ("issue", Ok(())),
                    other => ("issue", other),
                }
            }
            (4, _) => {
                let listed = client
                    .list_connections(pb::ListConnectionsRequest { workspace: WORKSPACE.into(), ..Default::default() })
                    .await
                    .map(|_| ());
                ("list", listed)
            }
            (_, n) => {
                let tag = mine[i % n].clone();
                let got = client
                    .get_connection(pb::GetConnectionRequest { workspace: WORKSPACE.into(), tag })
                    .await
                    .map(|_| ());
                ("get", got)
            }
        };
        tally.lock().unwrap().record(op, &result);
        // An outage answers at once: do not spin on it.
        if result.is_err() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}

/// A watch stream, reopened whenever it ends (faults end streams).
async fn watch(mut client: Client, stop: Arc<AtomicBool>, tally: Arc<Mutex<Tally>>) {
    while !stop.load(Ordering::SeqCst) {
        let opened = client
            .watch_connections(pb::WatchConnectionsRequest { workspace: WORKSPACE.into(), ..Default::default() })
            .await;
        match opened {
            Ok(stream) => {
                let mut stream = stream.into_inner();
                tally.lock().unwrap().record("watch", &Ok(()));
                while !stop.load(Ordering::SeqCst) {
                    match tokio::time::timeout(Duration::from_secs(1), stream.next()).await {
                        Ok(Some(Ok(_))) | Err(_) => {}
                        Ok(Some(Err(status))) => {
                            tally.lock().unwrap().record("watch", &Err(status));
                            break;
                        }
                        Ok(None) => break,
                    }
                }
            }
            Err(status) => {
                tally.lock().unwrap().record("watch", &Err(status));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// One fault every minute, in turn, until `stop`.
async fn inject(
    worker: Arc<Mutex<Option<Service>>>,
    worker_env: Vec<(String, String)>,
    database_url: String,
    (broker, vault): (Arc<ChaosProxy>, Arc<ChaosProxy>),
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let mut n = 0usize;
    loop {
        for _ in 0..FAULT_EVERY.as_secs() {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        n += 1;
        match n % 4 {
            1 => {
                eprintln!("soak: fault: kill -9 the worker, start a new one");
                // Service is killed (SIGKILL) on drop.
                drop(worker.lock().unwrap().take());
                *worker.lock().unwrap() = Some(Service::start("cloudconn-worker", &worker_env)?);
            }
            2 => {
                eprintln!("soak: fault: RabbitMQ gone for 10 s");
                broker.down();
                tokio::time::sleep(Duration::from_secs(10)).await;
                broker.up();
            }
            3 => {
                eprintln!("soak: fault: Vault frozen for 10 s");
                vault.freeze();
                tokio::time::sleep(Duration::from_secs(10)).await;
                vault.thaw();
            }
            _ => {
                eprintln!("soak: fault: every PostgreSQL connection of the service terminated");
                let name = database_url.rsplit('/').next().unwrap_or_default().to_owned();
                let admin = cloudconn_tests::bench::baselines::pg_pool(&env::admin_database_url(), 1).await?;
                sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
                    .bind(name)
                    .execute(&admin)
                    .await?;
            }
        }
    }
}

/// `host:port` of a URL.
fn authority(url: &str) -> String {
    url.split("://").nth(1).unwrap_or(url).split('/').next().unwrap_or_default().to_owned()
}

/// Whether memory and descriptors held level: the last third of the run
/// against the second third (the first is warm-up).
fn flatness(series: &[(u64, f64, usize, f64, usize)]) -> String {
    if series.len() < 6 {
        return "too short to judge flatness (fewer than 6 samples)".into();
    }
    let third = series.len() / 3;
    let mean = |s: &[(u64, f64, usize, f64, usize)], f: fn(&(u64, f64, usize, f64, usize)) -> f64| {
        s.iter().map(f).sum::<f64>() / s.len() as f64
    };
    let (middle, last) = (&series[third..2 * third], &series[2 * third..]);
    let rows = [
        ("server RSS MB", mean(middle, |s| s.1), mean(last, |s| s.1)),
        ("server fds", mean(middle, |s| s.2 as f64), mean(last, |s| s.2 as f64)),
        ("worker RSS MB", mean(middle, |s| s.3), mean(last, |s| s.3)),
        ("worker fds", mean(middle, |s| s.4 as f64), mean(last, |s| s.4 as f64)),
    ];
    // Growing: more than a quarter up (and more than a little in absolute
    // terms) from the middle third to the last.
    let growing: Vec<String> = rows
        .iter()
        .filter(|(_, m, l)| *l > m * 1.25 && *l - *m > 8.0)
        .map(|(what, m, l)| format!("{what} {m:.1} -> {l:.1}"))
        .collect();
    let summary = rows.iter().map(|(what, m, l)| format!("{what} {m:.1} -> {l:.1}")).collect::<Vec<_>>().join(", ");
    if growing.is_empty() {
        format!("flat (middle third -> last third): {summary}")
    } else {
        format!("GROWING: {}", growing.join(", "))
    }
}
