//! What operators rely on: health that follows the dependencies, readiness
//! and liveness over HTTP, Prometheus metrics.

use std::time::Duration;

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, fixtures};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::helpers::*;

async fn health(app: &TestApp) -> ServingStatus {
    HealthClient::new(app.channel.clone())
        .check(HealthCheckRequest { service: "cloudconn.v1.ConnectionService".into() })
        .await
        .unwrap()
        .into_inner()
        .status()
}

async fn http(app: &TestApp, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{}{path}", app.metrics_addr)).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within 15 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn health_follows_openbao_down_and_back() {
    let app = TestApp::builder().with_vault_proxy().spawn().await;
    until("SERVING and ready", async || {
        health(&app).await == ServingStatus::Serving && http(&app, "/readyz").await.0 == 200
    })
    .await;

    app.vault_proxy.as_ref().unwrap().down();
    until("NOT_SERVING", async || health(&app).await == ServingStatus::NotServing).await;
    assert_eq!(http(&app, "/readyz").await.0, 503, "not ready while Vault is unreachable");
    assert_eq!(http(&app, "/healthz").await.0, 200, "but alive: restarting would not help");

    app.vault_proxy.as_ref().unwrap().up();
    until("SERVING again", async || health(&app).await == ServingStatus::Serving).await;
    assert_eq!(http(&app, "/readyz").await.0, 200);
    app.finish().await;
}

#[tokio::test]
async fn metrics_show_calls_validations_and_the_outbox() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good")).await.unwrap();
    let done = validate(&app, "azure_main", Duration::from_secs(15)).await.unwrap();
    assert_eq!(done.validation.unwrap().state(), pb::ValidationState::Succeeded);
    let _ = get(&app, "acme", "missing").await;

    let (status, body) = http(&app, "/metrics").await;
    assert_eq!(status, 200);
    for series in [
        r#"cloudconn_rpc_requests_total{code="Ok",method="CreateConnection"} 1"#,
        r#"cloudconn_rpc_requests_total{code="NotFound",method="GetConnection"} 1"#,
        r#"cloudconn_validations_total{outcome="succeeded",provider="azure"} 1"#,
        r#"cloudconn_validation_duration_seconds_count{outcome="succeeded",provider="azure"} 1"#,
        "cloudconn_rpc_duration_seconds_bucket",
        "cloudconn_outbox_unsent ",
        "cloudconn_outbox_oldest_unsent_age_seconds ",
        r#"cloudconn_db_statements_total{kind="insert"}"#,
    ] {
        assert!(body.contains(series), "missing {series} in:\n{body}");
    }
    // A Get reads: the statements it sends are counted as selects.
    let selects = async || {
        let (_, body) = http(&app, "/metrics").await;
        let line = body.lines().find(|l| l.starts_with(r#"cloudconn_db_statements_total{kind="select"}"#)).unwrap();
        line.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
    };
    let before = selects().await;
    get(&app, "acme", "azure_main").await.unwrap();
    assert!(selects().await > before, "a Get's reads are counted");
    app.finish().await;
}

#[tokio::test]
async fn the_worker_exports_its_jobs_and_probe_latency() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good")).await.unwrap();
    validate(&app, "azure_main", Duration::from_secs(15)).await.unwrap();

    let addr = app.worker_metrics_addr.expect("worker endpoint");
    let get = |path: &'static str| async move {
        let response = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    let (status, body) = get("/metrics").await;
    assert_eq!(status, 200);
    for series in [
        r#"cloudconn_worker_jobs_total{outcome="succeeded",provider="azure"} 1"#,
        r#"cloudconn_worker_probe_duration_seconds_count{provider="azure"} 1"#,
        "cloudconn_worker_jobs_in_flight 0",
    ] {
        assert!(body.contains(series), "missing {series} in:\n{body}");
    }
    assert_eq!(get("/healthz").await.0, 200);
    assert_eq!(get("/readyz").await.0, 200, "the worker's Vault token works");
    app.finish().await;
}

/// Stopping the server (SIGTERM) while a caller waits on a validation that
/// cannot finish (no worker): the caller gets the validation as it stands
/// at once, and the server stops promptly instead of holding the wait.
#[tokio::test]
async fn shutdown_answers_waiting_callers_and_stops_promptly() {
    let app = TestApp::builder().without_worker().spawn().await;
    create(&app, "acme", "prod_az", pb::Provider::Azure).await;
    complete(&app, "acme", "prod_az", fixtures::azure("x")).await.unwrap();
    let mut client = app.client.clone();
    let waiting = tokio::spawn(async move {
        client
            .validate_connection(pb::ValidateConnectionRequest {
                workspace: "acme".into(),
                tag: "prod_az".into(),
                wait: Some(prost_types::Duration { seconds: 120, nanos: 0 }),
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "the caller is waiting");

    let stopping = std::time::Instant::now();
    app.finish().await;
    assert!(stopping.elapsed() < Duration::from_secs(5), "a waiting caller held the shutdown up");
    let answer = waiting.await.unwrap().expect("an answer, not an error").into_inner();
    assert_eq!(answer.validation.unwrap().state(), pb::ValidationState::Queued);
}

/// The pool pings a connection only after it sat idle (docs/decisions.md):
/// when PostgreSQL drops every connection in the middle of traffic, calls
/// may fail, but only with UNAVAILABLE, and the service recovers by itself
/// without a restart.
#[tokio::test]
async fn calls_recover_after_the_database_drops_every_connection() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    create(&app, "acme", "aws_main", pb::Provider::Aws).await;
    // Warm the pool: these connections were used just now, so the next
    // checkout does not ping them.
    for _ in 0..5 {
        get(&app, "acme", "aws_main").await.unwrap();
    }
    let killed = app
        .db
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
    assert!(killed.rows_affected() > 0, "no connection of the service was dropped");

    let mut failures = 0;
    let mut streak = 0;
    for _ in 0..60 {
        match get(&app, "acme", "aws_main").await {
            Ok(connection) => {
                assert_eq!(connection.tag, "aws_main");
                streak += 1;
                if streak == 10 {
                    break;
                }
            }
            Err(status) => {
                assert_eq!(
                    status.code(),
                    tonic::Code::Unavailable,
                    "a dropped connection must read as UNAVAILABLE: {status:?}"
                );
                failures += 1;
                streak = 0;
            }
        }
    }
    assert_eq!(streak, 10, "calls did not recover ({failures} failed)");
    app.finish().await;
}

#[tokio::test]
async fn three_replicas_started_together_on_a_new_database_all_serve() {
    let database = cloudconn_tests::harness::env::SharedDatabase::create().await;

    // A first install with three replicas: each migrates as it starts.
    let replica = || TestApp::builder().without_worker().on_database(&database.name).spawn();
    let (a, b, c) = tokio::join!(replica(), replica(), replica());
    create(&a, "acme", "prod_aws", pb::Provider::Aws).await;
    for app in [&a, &b, &c] {
        let mut client = app.client.clone();
        let listed =
            client.list_connections(pb::ListConnectionsRequest { workspace: "acme".into(), ..Default::default() });
        assert_eq!(listed.await.expect("every replica serves").into_inner().connections.len(), 1);
    }
    for app in [a, b, c] {
        app.finish().await;
    }
    database.drop_now().await;
}

/// Like the broker, Vault may be down when a server starts: it serves what
/// needs no Vault, reports NOT_SERVING, and logs in once Vault answers.
#[tokio::test]
async fn a_server_started_while_openbao_is_unreachable_serves_and_recovers() {
    let app = TestApp::builder().with_vault_down_at_start().spawn().await;
    assert_eq!(health(&app).await, ServingStatus::NotServing);
    create(&app, "acme", "prod_gcp", pb::Provider::Gcp).await;
    let refused = complete(&app, "acme", "prod_gcp", fixtures::credentials(pb::Provider::Gcp, "")).await.unwrap_err();
    assert_code(&refused, tonic::Code::Unavailable, "DEPENDENCY_UNAVAILABLE");

    app.vault_proxy.as_ref().unwrap().up();
    until("SERVING once Vault answers", async || health(&app).await == ServingStatus::Serving).await;
    let saved = complete(&app, "acme", "prod_gcp", fixtures::credentials(pb::Provider::Gcp, "")).await.unwrap();
    assert_eq!(saved.credentials.unwrap().revision, 1);
    app.finish().await;
}
