//! The pipeline survives its parts dying: a worker killed with SIGKILL
//! mid-flight, RabbitMQ cut off (validation.rs), OpenBao cut off.

use std::{collections::HashMap, time::Duration};

use cloudconn_infra::amqp::messages::{MESSAGE_VERSION, Outcome, ValidationResult};
use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{amqp, app::TestApp, fixtures};
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::*;

async fn count(app: &TestApp, sql: &str) -> i64 {
    let backend = app.db.get_database_backend();
    let row = app.db.query_one_raw(Statement::from_string(backend, sql.to_owned())).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// The nonce the validation's job carries (a result must return it).
pub async fn nonce_of(app: &TestApp, validation_id: &str) -> String {
    let backend = app.db.get_database_backend();
    let sql = format!("SELECT nonce FROM validations WHERE id = '{validation_id}'");
    let row = app.db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().expect("validation row");
    row.try_get::<Option<String>>("", "nonce").unwrap().expect("a nonce")
}

/// How many `activated` events each connection got, by subject.
async fn activations(app: &TestApp) -> HashMap<String, usize> {
    let backend = app.db.get_database_backend();
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT payload FROM outbox WHERE routing_key = 'acme.connection.activated'".to_owned(),
        ))
        .await
        .unwrap();
    let mut per_tag: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let payload: String = row.try_get("", "payload").unwrap();
        let body: serde_json::Value = serde_json::from_str(&payload).unwrap();
        *per_tag.entry(body["subject"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    per_tag
}

async fn validate_now(app: &TestApp, tag: &str) -> pb::Validation {
    app.client
        .clone()
        .validate_connection(pb::ValidateConnectionRequest { workspace: "acme".into(), tag: tag.into(), wait: None })
        .await
        .unwrap()
        .into_inner()
        .validation
        .unwrap()
}

/// A worker that dies after publishing a result but before acking its job
/// makes a second worker publish a second result for the same validation;
/// the server may handle both at once. Here every result arrives four
/// times together: each connection must still be activated exactly once.
#[tokio::test]
async fn duplicate_results_handled_at_once_activate_once() {
    const N: usize = 20;
    let app = TestApp::builder().without_worker().spawn().await;
    let mut results = Vec::new();
    for i in 0..N {
        let tag = format!("d_{i:02}");
        let c = create(&app, "acme", &tag, pb::Provider::Azure).await;
        complete(&app, "acme", &tag, fixtures::azure("x")).await.unwrap();
        let v = validate_now(&app, &tag).await;
        let now = chrono::Utc::now().to_rfc3339();
        results.push(ValidationResult {
            version: MESSAGE_VERSION,
            validation_id: v.id.clone(),
            connection_id: c.uid,
            workspace: "acme".into(),
            revision: 1,
            attempts: 1,
            start_time: now.clone(),
            end_time: now,
            outcome: Outcome::Succeeded { identity: Default::default(), scope_checks: vec![], warnings: vec![] },
            nonce: nonce_of(&app, &v.id).await,
        });
    }
    let connection = amqp::connect().await;
    let channel = connection.create_channel().await.unwrap();
    for result in results.iter().flat_map(|r| std::iter::repeat_n(r, 4)) {
        let payload = serde_json::to_vec(result).unwrap();
        let queue = app.topology.results_queue();
        channel
            .basic_publish("".into(), queue.as_str().into(), Default::default(), &payload, Default::default())
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count(&app, "SELECT COUNT(*) AS n FROM validations WHERE state = 'succeeded'").await < N as i64 {
        assert!(tokio::time::Instant::now() < deadline, "results not recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give the duplicates time to be handled too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let per_tag = activations(&app).await;
    assert_eq!(per_tag.len(), N);
    assert!(per_tag.values().all(|&n| n == 1), "activated more than once: {per_tag:?}");
    app.finish().await;
}

#[tokio::test]
async fn killing_a_worker_mid_flight_loses_no_validation() {
    const N: usize = 200;
    let app = TestApp::builder().without_worker().spawn().await;
    for i in 0..N {
        let tag = format!("c_{i:03}");
        create(&app, "acme", &tag, pb::Provider::Azure).await;
        complete(&app, "acme", &tag, fixtures::azure("delay")).await.unwrap();
        validate_now(&app, &tag).await;
    }
    let binary = env!("CARGO_BIN_EXE_scripted-worker");
    let mut first = app.spawn_worker_process(binary, 50);
    // Let it get well into the work, then kill -9 it mid-flight.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count(&app, "SELECT COUNT(*) AS n FROM validations WHERE state = 'succeeded'").await < 20 {
        assert!(tokio::time::Instant::now() < deadline, "the first worker made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    let done_at_kill = count(&app, "SELECT COUNT(*) AS n FROM validations WHERE state = 'succeeded'").await;
    assert!((done_at_kill as usize) < N, "the kill must land mid-flight ({done_at_kill} done)");

    let mut second = app.spawn_worker_process(binary, 50);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while count(&app, "SELECT COUNT(*) AS n FROM validations WHERE state IN ('queued', 'running')").await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "validations left unfinished after the crash");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM validations WHERE state = 'succeeded'").await, N as i64);
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM connections WHERE status = 'active' AND active_revision = 1").await,
        N as i64
    );
    // Each connection was activated exactly once, redeliveries or not.
    let per_tag = activations(&app).await;
    assert_eq!(per_tag.len(), N);
    assert!(per_tag.values().all(|&n| n == 1), "a connection was activated twice");
    second.start_kill().unwrap();
    second.wait().await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn validations_wait_out_an_openbao_outage() {
    let app = TestApp::builder().with_vault_proxy().spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good")).await.unwrap();
    let proxy = app.vault_proxy.as_ref().unwrap();
    proxy.down();
    let v = validate_now(&app, "azure_main").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let c = get(&app, "acme", "azure_main").await.unwrap();
    assert_eq!(c.last_validation.unwrap().state(), pb::ValidationState::Queued, "waiting for Vault, not failed");
    proxy.up();
    let done = validate(&app, "azure_main", Duration::from_secs(30)).await.unwrap();
    let done_v = done.validation.unwrap();
    assert_eq!(done_v.id, v.id);
    assert_eq!(done_v.state(), pb::ValidationState::Succeeded);
    app.finish().await;
}

#[tokio::test]
async fn transient_failures_are_retried_until_they_pass() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("fail2")).await.unwrap();
    let done = validate(&app, "azure_main", Duration::from_secs(15)).await.unwrap();
    let v = done.validation.unwrap();
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{v:?}");
    assert_eq!(v.attempts, 3, "two scripted failures, then success");
    app.finish().await;
}

#[tokio::test]
async fn a_newer_revision_supersedes_a_queued_validation() {
    let mut app = TestApp::builder().without_worker().spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good-one")).await.unwrap();
    let old = validate_now(&app, "azure_main").await;
    complete(&app, "acme", "azure_main", fixtures::azure("bad-two")).await.unwrap();
    let superseded = format!("SELECT COUNT(*) AS n FROM validations WHERE id = '{}' AND state = 'superseded'", old.id);
    assert_eq!(count(&app, &superseded).await, 1, "saving revision 2 supersedes the queued validation of revision 1");
    // Its job still runs when a worker comes, and changes nothing.
    app.start_worker();
    wait_for_probe_calls(&app, 1).await;
    let c = get(&app, "acme", "azure_main").await.unwrap();
    assert_eq!(c.status(), pb::ConnectionStatus::Pending, "a superseded success activates nothing");
    assert_eq!(c.credentials.unwrap().active_revision, 0);
    app.finish().await;
}

#[tokio::test]
async fn a_validation_whose_job_never_runs_ends_as_timeout_not_stuck() {
    let mut app =
        TestApp::builder().without_worker().with_validation_deadline(Duration::from_millis(500)).spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good")).await.unwrap();
    let queued = validate_now(&app, "azure_main").await;
    // Nobody runs the job (as if it had been dead-lettered): the deadline ends it.
    let done = validate(&app, "azure_main", Duration::from_secs(10)).await.unwrap();
    let v = done.validation.unwrap();
    assert_eq!(v.id, queued.id);
    assert_eq!(v.state(), pb::ValidationState::Failed);
    let error = v.error.unwrap();
    assert_eq!((error.code.as_str(), error.retryable), ("TIMEOUT", true));
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Failed);
    // The job runs late: its success changes nothing.
    app.start_worker();
    wait_for_probe_calls(&app, 1).await;
    assert_eq!(get(&app, "acme", "azure_main").await.unwrap().status(), pb::ConnectionStatus::Failed);
    app.finish().await;
}

/// Waits until the scripted probe ran `n` times, then a moment more for the
/// results to be recorded (or ignored).
async fn wait_for_probe_calls(app: &TestApp, n: u32) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while app.probe.calls.load(std::sync::atomic::Ordering::SeqCst) < n {
        assert!(tokio::time::Instant::now() < deadline, "the probe never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn sigterm_lets_a_worker_finish_its_jobs_and_loses_none() {
    const N: usize = 30;
    let mut app = TestApp::builder().without_worker().spawn().await;
    for i in 0..N {
        let tag = format!("t_{i:02}");
        create(&app, "acme", &tag, pb::Provider::Azure).await;
        complete(&app, "acme", &tag, fixtures::azure("delay")).await.unwrap();
        validate_now(&app, &tag).await;
    }
    let mut worker = app.spawn_worker_process(env!("CARGO_BIN_EXE_scripted-worker"), 10);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count(&app, "SELECT COUNT(*) AS n FROM validations WHERE state = 'succeeded'").await < 5 {
        assert!(tokio::time::Instant::now() < deadline, "the worker made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SIGTERM, as Kubernetes sends it: stop taking jobs, finish the ones in
    // hand, exit cleanly.
    let pid = worker.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status =
        tokio::time::timeout(Duration::from_secs(20), worker.wait()).await.expect("exits within 20 s").unwrap();
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
    let done = count(&app, "SELECT COUNT(*) AS n FROM validations WHERE state = 'succeeded'").await;
    assert!((done as usize) < N, "SIGTERM landed after all work was done ({done}); the test proves nothing");

    // Whatever it had not finished went back to the queue: a new worker
    // completes every validation, none is lost or failed.
    app.start_worker();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count(&app, "SELECT COUNT(*) AS n FROM validations WHERE state = 'succeeded'").await < N as i64 {
        assert!(tokio::time::Instant::now() < deadline, "validations lost after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM validations WHERE state <> 'succeeded'").await, 0);
    app.finish().await;
}

/// Whoever can publish to the results queue (a stolen worker login, a
/// misrouted message) cannot decide an outcome: a result must carry the
/// nonce its job carried.
#[tokio::test]
async fn a_result_without_its_jobs_nonce_changes_nothing() {
    let app = TestApp::builder().without_worker().spawn().await;
    let c = create(&app, "acme", "forged", pb::Provider::Azure).await;
    complete(&app, "acme", "forged", fixtures::azure("x")).await.unwrap();
    let v = validate_now(&app, "forged").await;
    let now = chrono::Utc::now().to_rfc3339();
    let result = |nonce: String| ValidationResult {
        version: MESSAGE_VERSION,
        validation_id: v.id.clone(),
        connection_id: c.uid.clone(),
        workspace: "acme".into(),
        revision: 1,
        attempts: 1,
        start_time: now.clone(),
        end_time: now.clone(),
        outcome: Outcome::Succeeded { identity: Default::default(), scope_checks: vec![], warnings: vec![] },
        nonce,
    };
    let connection = amqp::connect().await;
    let channel = connection.create_channel().await.unwrap();
    let publish = async |result: ValidationResult| {
        let payload = serde_json::to_vec(&result).unwrap();
        let queue = app.topology.results_queue();
        channel
            .basic_publish("".into(), queue.as_str().into(), Default::default(), &payload, Default::default())
            .await
            .unwrap();
    };
    publish(result(String::new())).await;
    publish(result("A".repeat(32))).await;
    // Both consumed, neither recorded.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while amqp::depth(&channel, &app.topology.results_queue()).await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "forged results not consumed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = get(&app, "acme", "forged").await.unwrap();
    assert_eq!(seen.status(), pb::ConnectionStatus::Pending, "a forged result activated the connection");
    assert_eq!(seen.last_validation.unwrap().state(), pb::ValidationState::Queued);

    // The job's own nonce is accepted.
    publish(result(nonce_of(&app, &v.id).await)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while get(&app, "acme", "forged").await.unwrap().status() != pb::ConnectionStatus::Active {
        assert!(tokio::time::Instant::now() < deadline, "the genuine result was not recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.finish().await;
}

/// A row the broker refuses on its own (here a job no queue would take)
/// must not hold every change behind it; refused long enough, it is parked.
#[tokio::test]
async fn an_outbox_row_the_broker_keeps_refusing_does_not_block_the_others() {
    let app = TestApp::spawn().await;
    let mut events = app.subscribe_events("*.connection.*").await;
    let poison = uuid::Uuid::new_v4();
    let backend = app.db.get_database_backend();
    let insert = format!(
        "INSERT INTO outbox (id, kind, routing_key, payload, create_time, refusals) \
         VALUES ('{poison}', 'job', 'no_such_provider', '{{}}', NOW() - INTERVAL '1 second', 0)"
    );
    app.db.execute_raw(Statement::from_string(backend, insert)).await.unwrap();

    // Changes after it are published all the same.
    create(&app, "acme", "behind_poison", pb::Provider::Aws).await;
    let event = events.next(Duration::from_secs(15)).await;
    assert_eq!(event.routing_key, "acme.connection.created");
    let refusals =
        format!("SELECT CAST(refusals AS BIGINT) AS n FROM outbox WHERE id = '{poison}' AND sent_time IS NULL");
    // Delivered is not enough (a rolled-back batch is sent again and again):
    // every other row must be marked sent.
    let others = format!("SELECT COUNT(*) AS n FROM outbox WHERE sent_time IS NULL AND id <> '{poison}'");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while count(&app, &others).await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "rows behind the refused one stay unsent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // (The event is confirmed before the relay commits the refusal.)
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while count(&app, &refusals).await < 1 {
        assert!(tokio::time::Instant::now() < deadline, "the refused row stays unsent, its refusal counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Refused for longer than the parking delay: set aside, not retried.
    let long_ago = format!("UPDATE outbox SET refused_since = NOW() - INTERVAL '1 hour' WHERE id = '{poison}'");
    app.db.execute_raw(Statement::from_string(backend, long_ago)).await.unwrap();
    let parked = format!("SELECT COUNT(*) AS n FROM outbox WHERE id = '{poison}' AND parked_time IS NOT NULL");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while count(&app, &parked).await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the refused row was not parked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = reqwest::get(format!("http://{}/metrics", app.metrics_addr)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("cloudconn_outbox_parked 1"), "parked rows are counted for alerts");
    // The test's own invariant (every row published) does not apply to it.
    let delete = format!("DELETE FROM outbox WHERE id = '{poison}'");
    app.db.execute_raw(Statement::from_string(backend, delete)).await.unwrap();
    app.finish().await;
}
