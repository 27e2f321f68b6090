//! The validation pipeline end to end: outbox → RabbitMQ → worker (with the
//! scripted probe) → results → activation, with events.

use std::time::Duration;

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, fixtures};
use tonic::Code;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(15);

fn state(v: &pb::ValidateConnectionResponse) -> pb::ValidationState {
    v.validation.as_ref().unwrap().state()
}

#[tokio::test]
async fn a_good_revision_becomes_active_and_subscribers_see_each_step() {
    let app = TestApp::spawn().await;
    let mut events = app.subscribe_events("acme.connection.*").await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good-secret")).await.unwrap();

    let done = validate(&app, "azure_main", WAIT).await.unwrap();
    let validation = done.validation.clone().unwrap();
    assert_eq!(validation.state(), pb::ValidationState::Succeeded, "{validation:?}");
    assert_eq!(validation.revision, 1);
    assert_eq!(validation.attempts, 1);
    assert_eq!(validation.identity["account_id"], "123456789012");
    assert!(validation.end_time.is_some() && validation.start_time.is_some());
    assert!(validation.scope_checks.iter().all(|c| c.granted));
    let connection = done.connection.unwrap();
    assert_eq!(connection.status(), pb::ConnectionStatus::Active);
    assert_eq!(connection.credentials.as_ref().unwrap().active_revision, 1);
    assert_eq!(connection.last_validation.as_ref().unwrap().id, validation.id);
    assert_eq!(get(&app, "acme", "azure_main").await.unwrap(), connection);

    let received = events.take(4, WAIT).await;
    let keys: Vec<&str> = received.iter().map(|e| e.routing_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "acme.connection.created",
            "acme.connection.credentials_saved",
            "acme.connection.validation_requested",
            "acme.connection.activated"
        ]
    );
    assert_eq!(received[3].body["data"]["status"], "CONNECTION_STATUS_ACTIVE");
    assert_eq!(received[3].body["data"]["lastValidation"]["state"], "VALIDATION_STATE_SUCCEEDED");
    app.finish().await;
}

#[tokio::test]
async fn without_wait_the_call_returns_queued_and_the_outcome_follows() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good")).await.unwrap();
    let queued = validate(&app, "azure_main", Duration::ZERO).await.unwrap();
    assert_eq!(state(&queued), pb::ValidationState::Queued);
    assert_eq!(queued.connection.unwrap().status(), pb::ConnectionStatus::Pending);

    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let c = get(&app, "acme", "azure_main").await.unwrap();
        if c.status() == pb::ConnectionStatus::Active {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not active within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.finish().await;
}

#[tokio::test]
async fn validation_needs_saved_credentials() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    let err = validate(&app, "azure_main", Duration::ZERO).await.unwrap_err();
    assert_code(&err, Code::FailedPrecondition, "NO_CREDENTIALS");
    let err = validate(&app, "missing", Duration::ZERO).await.unwrap_err();
    assert_code(&err, Code::NotFound, "CONNECTION_NOT_FOUND");
    let err = app
        .client
        .clone()
        .validate_connection(pb::ValidateConnectionRequest {
            workspace: "acme".into(),
            tag: "azure_main".into(),
            wait: Some(prost_types::Duration { seconds: -1, nanos: 0 }),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, &["wait"]);
    app.finish().await;
}

#[tokio::test]
async fn a_bad_rotation_never_breaks_an_active_connection() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good-one")).await.unwrap();
    assert_eq!(state(&validate(&app, "azure_main", WAIT).await.unwrap()), pb::ValidationState::Succeeded);

    // Revision 2 is bad: its validation fails, revision 1 stays in use.
    complete(&app, "acme", "azure_main", fixtures::azure("bad-two")).await.unwrap();
    let failed = validate(&app, "azure_main", WAIT).await.unwrap();
    let v = failed.validation.clone().unwrap();
    assert_eq!(v.state(), pb::ValidationState::Failed);
    assert_eq!(v.revision, 2);
    let error = v.error.unwrap();
    assert_eq!(error.code, "INVALID_CREDENTIALS");
    assert!(!error.hint.is_empty() && !error.retryable);
    let c = failed.connection.unwrap();
    assert_eq!(c.status(), pb::ConnectionStatus::Active);
    assert_eq!(c.credentials.as_ref().unwrap().active_revision, 1);
    assert_eq!(c.credentials.as_ref().unwrap().revision, 2);

    // Revision 3 is good: the active revision moves.
    complete(&app, "acme", "azure_main", fixtures::azure("good-three")).await.unwrap();
    let ok = validate(&app, "azure_main", WAIT).await.unwrap();
    assert_eq!(state(&ok), pb::ValidationState::Succeeded);
    assert_eq!(ok.connection.unwrap().credentials.unwrap().active_revision, 3);
    app.finish().await;
}

#[tokio::test]
async fn failures_say_what_to_fix() {
    let app = TestApp::spawn().await;
    let cases = [
        ("first_bad", "bad", "INVALID_CREDENTIALS", false),
        ("no_storage", "nostorage", "ACCESS_DENIED", false),
        ("flaky", "flaky", "PROVIDER_UNAVAILABLE", true),
        ("slow", "slow", "TIMEOUT", true),
    ];
    for (tag, marker, code, retryable) in cases {
        create(&app, "acme", tag, pb::Provider::Azure).await;
        complete(&app, "acme", tag, fixtures::azure(marker)).await.unwrap();
        let done = validate(&app, tag, WAIT).await.unwrap();
        let v = done.validation.unwrap();
        assert_eq!(v.state(), pb::ValidationState::Failed, "{tag}: {v:?}");
        let error = v.error.clone().unwrap();
        assert_eq!(error.code, code, "{tag}");
        assert_eq!(error.retryable, retryable, "{tag}");
        assert!(!error.hint.is_empty(), "{tag}: every error has a hint");
        // A connection that never had an active revision is FAILED.
        assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Failed, "{tag}");
        match tag {
            "no_storage" => {
                assert_eq!(error.missing_permissions, ["storage.buckets.list"]);
                let storage = v.scope_checks.iter().find(|c| c.scope == "storage").unwrap();
                assert!(!storage.granted);
            }
            // Transient failures are retried, a bounded number of times.
            "flaky" | "slow" => assert_eq!(v.attempts, 3, "{tag}"),
            _ => assert_eq!(v.attempts, 1, "{tag}"),
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn complete_with_validate_saves_and_validates_in_one_call() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "prod_aws", pb::Provider::Aws).await;
    let saved = complete_and_validate(&app, "acme", "prod_aws", fixtures::credentials(pb::Provider::Aws, "")).await;
    let v = saved.last_validation.clone().unwrap();
    assert_eq!(v.revision, 1);
    assert_eq!(v.trigger(), pb::ValidationTrigger::Complete);
    assert!(matches!(v.state(), pb::ValidationState::Queued | pb::ValidationState::Succeeded));
    // Validating again while it is under way returns the same validation.
    let again = validate(&app, "prod_aws", WAIT).await.unwrap();
    assert_eq!(again.validation.as_ref().unwrap().id, v.id);
    assert_eq!(state(&again), pb::ValidationState::Succeeded);
    // After it ended, a new call re-validates.
    let revalidated = validate(&app, "prod_aws", WAIT).await.unwrap();
    assert_ne!(revalidated.validation.as_ref().unwrap().id, v.id);
    assert_eq!(state(&revalidated), pb::ValidationState::Succeeded);
    assert_eq!(revalidated.validation.unwrap().trigger(), pb::ValidationTrigger::Manual);
    app.finish().await;
}

#[tokio::test]
async fn jobs_wait_for_a_worker_and_a_newer_revision_supersedes_an_older_job() {
    let mut app = TestApp::builder().without_worker().spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good-one")).await.unwrap();
    let first = validate(&app, "azure_main", Duration::ZERO).await.unwrap().validation.unwrap();
    let same = validate(&app, "azure_main", Duration::ZERO).await.unwrap().validation.unwrap();
    assert_eq!(same.id, first.id, "one validation per revision while it is queued");

    complete(&app, "acme", "azure_main", fixtures::azure("good-two")).await.unwrap();
    let second = validate(&app, "azure_main", Duration::ZERO).await.unwrap().validation.unwrap();
    assert_ne!(second.id, first.id);
    assert_eq!(second.revision, 2);

    // No worker is running: the wait times out and says QUEUED.
    let waited = validate(&app, "azure_main", Duration::from_millis(300)).await.unwrap();
    assert_eq!(state(&waited), pb::ValidationState::Queued);

    // A worker arrives: both jobs run; the older one changes nothing.
    app.start_worker();
    let done = validate(&app, "azure_main", WAIT).await.unwrap();
    assert_eq!(state(&done), pb::ValidationState::Succeeded);
    assert_eq!(done.connection.unwrap().credentials.unwrap().active_revision, 2);
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.probe.calls.load(std::sync::atomic::Ordering::SeqCst) < 1 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.finish().await;
}

#[tokio::test]
async fn a_poison_job_is_dead_lettered_and_its_validation_fails() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("poison")).await.unwrap();
    let done = validate(&app, "azure_main", WAIT).await.unwrap();
    let v = done.validation.unwrap();
    assert_eq!(v.state(), pb::ValidationState::Failed, "not stuck: {v:?}");
    assert_eq!(v.error.unwrap().code, "PROVIDER_UNAVAILABLE");

    // A job nobody can read is set aside too.
    app.publish_raw_job(b"{not json").await;
    // And one that would point the worker at another Vault path.
    let forged = serde_json::json!({"version": 1, "validation_id": "v", "connection_id": "../../other",
        "workspace": "../acme", "tag": "t", "provider": "azure", "revision": 1, "scopes": ["storage"]});
    app.publish_raw_job(forged.to_string().as_bytes()).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let connection = cloudconn_tests::harness::amqp::connect().await;
        let channel = connection.create_channel().await.unwrap();
        let depth = cloudconn_tests::harness::amqp::depth(&channel, &app.topology.dead_letter_queue()).await;
        if depth == 3 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "dead-letter depth {depth}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.take_dead_letters().await, 3);
    // The worker is still serving.
    complete(&app, "acme", "azure_main", fixtures::azure("good")).await.unwrap();
    assert_eq!(state(&validate(&app, "azure_main", WAIT).await.unwrap()), pb::ValidationState::Succeeded);
    app.finish().await;
}

#[tokio::test]
async fn validations_complete_after_rabbitmq_comes_back() {
    let app = TestApp::builder().with_amqp_proxy().spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good")).await.unwrap();
    // Warm up: every consumer and the relay are connected through the proxy.
    assert_eq!(state(&validate(&app, "azure_main", WAIT).await.unwrap()), pb::ValidationState::Succeeded);

    let proxy = app.amqp_proxy.as_ref().unwrap();
    proxy.down();
    complete(&app, "acme", "azure_main", fixtures::azure("good-two")).await.unwrap();
    let queued = validate(&app, "azure_main", Duration::from_millis(300)).await.unwrap();
    assert_eq!(state(&queued), pb::ValidationState::Queued, "nothing moves while the broker is away");

    proxy.up();
    // The relay, the worker and the results consumer all reconnect.
    let done = validate(&app, "azure_main", Duration::from_secs(30)).await.unwrap();
    assert_eq!(state(&done), pb::ValidationState::Succeeded);
    assert_eq!(done.connection.unwrap().credentials.unwrap().active_revision, 2);
    app.finish().await;
}
