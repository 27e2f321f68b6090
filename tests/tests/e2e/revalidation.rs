//! Scheduled re-validation (docs/api.md#scheduled-re-validation) through the
//! public API, with a short interval: credentials that go bad at the
//! provider fail the connection on their own; an outage leaves it ACTIVE and
//! is retried sooner; replicas sharing one database validate each
//! connection once per interval; a user's validation under way is not
//! duplicated. The scripted probe plays the provider: `ScriptedProbe::set`
//! changes its answer for credentials already saved.
//!
//! Bounds are loose: everything runs in one process on a loaded machine.

use std::time::Duration;

use chrono::{DateTime, Utc};
use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, fixtures, scripted_mint::ScriptedMint};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tonic::Code;

use crate::{
    helpers::*,
    run_hits::{component, request},
    scale_out::until,
};

const WAIT: Duration = Duration::from_secs(30);

/// A scheduled validation as stored: (requested, ended, state, error code).
#[derive(Debug, Clone)]
struct Scheduled {
    create_time: DateTime<Utc>,
    end_time: Option<DateTime<Utc>>,
    state: String,
    error: Option<serde_json::Value>,
}

/// The scheduled validations of `tag` in `acme`, oldest first: all of
/// them, where the API shows the last one only.
async fn scheduled(app: &TestApp, tag: &str) -> Vec<Scheduled> {
    let sql = "SELECT v.create_time, v.end_time, v.state, v.error FROM validations v \
               JOIN connections c ON c.id = v.connection_id \
               WHERE c.workspace = 'acme' AND c.tag = $1 AND v.trigger = 'scheduled' ORDER BY v.create_time";
    let rows = app
        .db
        .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [tag.into()]))
        .await
        .expect("read validations");
    rows.iter()
        .map(|r| Scheduled {
            create_time: r.try_get("", "create_time").unwrap(),
            end_time: r.try_get("", "end_time").unwrap(),
            state: r.try_get("", "state").unwrap(),
            error: r.try_get::<Option<String>>("", "error").unwrap().map(|e| serde_json::from_str(&e).unwrap()),
        })
        .collect()
}

/// The schedule columns of `tag`: (next validation time, failures in a row).
async fn schedule_of(app: &TestApp, tag: &str) -> (Option<DateTime<Utc>>, i32) {
    let sql = "SELECT next_validation_time, revalidation_failures FROM connections \
               WHERE workspace = 'acme' AND tag = $1";
    let row = app
        .db
        .query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [tag.into()]))
        .await
        .expect("read connection")
        .expect("connection exists");
    (row.try_get("", "next_validation_time").unwrap(), row.try_get("", "revalidation_failures").unwrap())
}

/// Creates `tag` with credentials carrying `marker` and validates it: ACTIVE.
async fn activate(app: &TestApp, tag: &str, provider: pb::Provider, marker: &str) {
    create(app, "acme", tag, provider).await;
    complete(app, "acme", tag, fixtures::credentials(provider, marker)).await.unwrap();
    let done = validate(app, tag, WAIT).await.unwrap();
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Active, "{tag}");
}

/// A series of this replica's `/metrics`, summed over its labels.
async fn metric(app: &TestApp, prefix: &str) -> u64 {
    let body = reqwest::get(format!("http://{}/metrics", app.metrics_addr)).await.unwrap().text().await.unwrap();
    body.lines().filter(|l| l.starts_with(prefix)).filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok()).sum()
}

fn seconds(d: chrono::TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

#[tokio::test]
async fn credentials_revoked_at_the_provider_fail_the_connection_on_their_own() {
    let interval = Duration::from_secs(2);
    let mint = ScriptedMint::new("tok");
    let app = TestApp::builder().with_revalidation(interval, 10).with_minters(mint.everywhere()).spawn().await;
    activate(&app, "drifting", pb::Provider::Gcp, "sched-revoked").await;
    let (next, _) = schedule_of(&app, "drifting").await;
    assert!(next.is_some(), "an ACTIVE connection is scheduled");
    // The schedule is on the API, and the first validation was the user's.
    let shown = get(&app, "acme", "drifting").await.unwrap();
    assert_eq!(shown.next_validation_time.map(|t| t.seconds), next.map(|t| t.timestamp()));
    assert_eq!(shown.last_validation.unwrap().trigger(), pb::ValidationTrigger::Manual);
    let mut caller = component(&app, "billing-api", "acme");
    caller.issue_credentials(request("acme", "drifting", "billing")).await.expect("issued while ACTIVE");
    let mut events = app.subscribe_events("acme.connection.validation_failed").await;

    // The customer revokes the key: the provider now refuses it.
    app.probe.set("sched-revoked", "bad");
    until("the connection fails on its own", interval * 2 + WAIT, async || {
        get(&app, "acme", "drifting").await.unwrap().status() == pb::ConnectionStatus::Failed
    })
    .await;

    let connection = get(&app, "acme", "drifting").await.unwrap();
    assert_eq!(connection.credentials.as_ref().unwrap().active_revision, 0, "the revoked revision is not in use");
    let last = connection.last_validation.clone().unwrap();
    assert_eq!(last.state(), pb::ValidationState::Failed);
    assert_eq!(last.trigger(), pb::ValidationTrigger::Scheduled, "the failing validation was a scheduled one");
    assert_eq!(connection.next_validation_time, None, "a FAILED connection is not scheduled");
    let error = last.error.clone().unwrap();
    assert_eq!(error.code, "INVALID_CREDENTIALS");
    assert!(!error.hint.is_empty() && !error.retryable, "{error:?}");
    let runs = scheduled(&app, "drifting").await;
    assert_eq!(runs.last().unwrap().state, "failed", "the failing validation was a scheduled one: {runs:?}");

    let event = events.take(1, WAIT).await.remove(0);
    assert_eq!(event.routing_key, "acme.connection.validation_failed");
    assert_eq!(event.body["data"]["status"], "CONNECTION_STATUS_FAILED");
    assert_eq!(event.body["data"]["lastValidation"]["id"], last.id);
    assert_eq!(event.body["data"]["lastValidation"]["trigger"], "VALIDATION_TRIGGER_SCHEDULED");

    let refused = caller.issue_credentials(request("acme", "drifting", "billing")).await.unwrap_err();
    assert_code(&refused, Code::FailedPrecondition, "NOT_ACTIVE");
    // What the alert on broken connections counts (deploy/prometheus).
    assert_eq!(metric(&app, "cloudconn_connections_broken_total{").await, 1);
    // The census of connections by provider and status (counted at the
    // first scrape, above).
    assert_eq!(metric(&app, r#"cloudconn_connections{provider="gcp",status="failed"}"#).await, 1);
    assert_eq!(metric(&app, r#"cloudconn_connections{provider="gcp",status="active"}"#).await, 0);

    // A FAILED connection is not scheduled: nothing more is probed. It is
    // remembered as having lost its credentials (one failure).
    assert_eq!(schedule_of(&app, "drifting").await, (None, 1));
    let probed = app.probe.calls_with("sched-revoked");
    tokio::time::sleep(interval * 2).await;
    assert_eq!(app.probe.calls_with("sched-revoked"), probed, "a FAILED connection is left alone");
    assert_eq!(scheduled(&app, "drifting").await.len(), runs.len());

    // The customer saves a new key: it validates, and the connection is
    // announced as recovered, after `activated`; it is scheduled again.
    let mut recovered = app.subscribe_events("acme.connection.recovered").await;
    complete(&app, "acme", "drifting", fixtures::credentials(pb::Provider::Gcp, "sched-fixed")).await.unwrap();
    let done = validate(&app, "drifting", WAIT).await.unwrap().connection.unwrap();
    assert_eq!(done.status(), pb::ConnectionStatus::Active);
    let event = recovered.take(1, WAIT).await.remove(0);
    assert_eq!(event.body["type"], "cloudconn.connection.recovered.v1");
    assert_eq!(event.body["data"]["status"], "CONNECTION_STATUS_ACTIVE");
    assert_eq!(event.body["data"]["credentials"]["activeRevision"], "2");
    let (next, failures) = schedule_of(&app, "drifting").await;
    assert!(next.is_some() && failures == 0, "{next:?} {failures}");
    caller.issue_credentials(request("acme", "drifting", "billing")).await.expect("issued again once ACTIVE");
    app.finish().await;
}

#[tokio::test]
async fn an_outage_leaves_the_connection_active_and_is_retried_sooner() {
    let interval = Duration::from_secs(4);
    let app = TestApp::builder().with_revalidation(interval, 10).spawn().await;
    activate(&app, "outage", pb::Provider::Azure, "sched-outage").await;

    // The provider is down: every probe attempt fails, retryably.
    app.probe.set("sched-outage", "flaky");
    until("two scheduled validations fail", interval * 2 + WAIT, async || {
        scheduled(&app, "outage").await.iter().filter(|v| v.state == "failed").count() >= 2
    })
    .await;
    let runs = scheduled(&app, "outage").await;
    let failed: Vec<&Scheduled> = runs.iter().filter(|v| v.state == "failed").collect();
    let error = failed[0].error.as_ref().unwrap();
    assert_eq!(error["code"], "PROVIDER_UNAVAILABLE");
    assert_eq!(error["retryable"], true);
    // The retry came after a back-off (1/24 of the interval, then a pass of
    // at most a second), far sooner than the interval.
    let gap = seconds(failed[1].create_time - failed[0].end_time.unwrap());
    assert!(gap < interval.as_secs_f64() / 2.0, "retried {gap} s after the failure (interval {interval:?})");
    let connection = get(&app, "acme", "outage").await.unwrap();
    assert_eq!(connection.status(), pb::ConnectionStatus::Active, "an outage never breaks a connection");
    assert_eq!(connection.credentials.unwrap().active_revision, 1);
    let (next, failures) = schedule_of(&app, "outage").await;
    assert!(next.is_some() && failures >= 2, "{next:?} {failures}");

    // The provider is back: the next try succeeds, the interval resumes,
    // and the connection is announced as recovered.
    let mut recovered = app.subscribe_events("acme.connection.recovered").await;
    app.probe.set("sched-outage", "");
    until("a scheduled validation succeeds", WAIT, async || {
        scheduled(&app, "outage").await.last().is_some_and(|v| v.state == "succeeded")
    })
    .await;
    let last = scheduled(&app, "outage").await.last().cloned().unwrap();
    let (next, failures) = schedule_of(&app, "outage").await;
    assert_eq!(failures, 0);
    let ahead = seconds(next.unwrap() - last.end_time.unwrap());
    assert!(ahead >= interval.as_secs_f64() * 0.85, "next in {ahead} s after a success (interval {interval:?})");
    assert_eq!(get(&app, "acme", "outage").await.unwrap().status(), pb::ConnectionStatus::Active);
    let event = recovered.take(1, WAIT).await.remove(0);
    assert_eq!(event.routing_key, "acme.connection.recovered");
    assert_eq!(event.body["data"]["status"], "CONNECTION_STATUS_ACTIVE");
    assert_eq!(event.body["data"]["lastValidation"]["state"], "VALIDATION_STATE_SUCCEEDED");
    app.finish().await;
}

#[tokio::test]
async fn replicas_validate_each_connection_once_per_interval() {
    let interval = Duration::from_secs(3);
    let tune = |b: cloudconn_tests::harness::app::TestAppBuilder| b.with_revalidation(interval, 10);
    let a = tune(TestApp::builder()).spawn().await;
    let (b, c) =
        tokio::join!(tune(TestApp::builder().joining(&a)).spawn(), tune(TestApp::builder().joining(&a)).spawn());
    let tags: Vec<String> = (0..6).map(|n| format!("fleet_{n}")).collect();
    for (n, tag) in tags.iter().enumerate() {
        activate(&a, tag, pb::Provider::Azure, &format!("sched-fleet-{n}-x")).await;
    }
    let probed = |marker: &str| [&a, &b, &c].iter().map(|r| r.probe.calls_with(marker)).sum::<u32>();

    // Five intervals and a bit.
    tokio::time::sleep(interval * 5 + Duration::from_secs(2)).await;
    let mut total = 0;
    for (n, tag) in tags.iter().enumerate() {
        let runs = scheduled(&a, tag).await;
        let finished: Vec<&Scheduled> = runs.iter().filter(|v| v.end_time.is_some()).collect();
        assert!(runs.len() >= 3, "{tag}: {} scheduled validations in 5 intervals: {runs:?}", runs.len());
        assert!(runs.iter().all(|v| v.state == "succeeded" || v.end_time.is_none()), "{tag}: {runs:?}");
        for pair in runs.windows(2) {
            let gap = seconds(pair[1].create_time - pair[0].create_time);
            // Never twice in one interval (± 10 %), never an interval skipped
            // (the outcome's jitter, a pass a second, a loaded machine).
            assert!(gap >= interval.as_secs_f64() * 0.85, "{tag}: validated again after {gap} s: {runs:?}");
            assert!(gap <= interval.as_secs_f64() * 1.1 + 3.0, "{tag}: {gap} s between validations: {runs:?}");
        }
        // One probe per validation, on whichever replica's worker took it:
        // the activation and each finished scheduled one (one may be in
        // flight now).
        let calls = probed(&format!("sched-fleet-{n}-x"));
        let expected = 1 + finished.len() as u32;
        assert!(
            calls == expected || calls == expected + 1,
            "{tag}: {calls} probes for {expected} finished validations (and perhaps one in flight)"
        );
        total += runs.len() as u64;
    }
    // Every scheduled validation was started by exactly one replica.
    let mut by_replica = Vec::new();
    for r in [&a, &b, &c] {
        by_replica.push(metric(r, "cloudconn_revalidations_total{action=\"started\"").await);
    }
    let counted: u64 = by_replica.iter().sum();
    println!("scheduled validations started per replica: {by_replica:?}; {total} recorded");
    // (A start committed while this was read may not be counted yet.)
    let slack = tags.len() as u64;
    assert!(counted + slack >= total && counted <= total + slack, "the replicas counted {counted} starts for {total}");
    b.finish().await;
    c.finish().await;
    a.finish().await;
}

#[tokio::test]
async fn a_validation_under_way_is_not_duplicated_by_the_scheduler() {
    let interval = Duration::from_secs(3);
    let mut app = TestApp::builder().with_revalidation(interval, 10).spawn().await;
    activate(&app, "busy", pb::Provider::Azure, "sched-busy").await;
    // No worker: the user's validation stays QUEUED while due times pass.
    app.stop_workers().await;
    let before = scheduled(&app, "busy").await.len();
    let manual = validate(&app, "busy", Duration::ZERO).await.unwrap().validation.unwrap();
    assert_eq!(manual.state(), pb::ValidationState::Queued);
    let probed = app.probe.calls_with("sched-busy");

    tokio::time::sleep(interval * 3).await;
    let connection = get(&app, "acme", "busy").await.unwrap();
    assert_eq!(connection.last_validation.as_ref().unwrap().id, manual.id, "no validation started over the user's");
    assert_eq!(scheduled(&app, "busy").await.len(), before, "the scheduler started nothing");
    assert!(metric(&app, "cloudconn_revalidations_total{action=\"postponed\"").await >= 1, "it postponed instead");
    let (next, _) = schedule_of(&app, "busy").await;
    assert!(next.is_some_and(|t| t > Utc::now()), "the due time moved on: {next:?}");

    // A worker arrives: the user's validation runs, once.
    app.start_worker();
    let done = validate(&app, "busy", WAIT).await.unwrap();
    let v = done.validation.unwrap();
    assert_eq!(v.id, manual.id);
    assert_eq!(v.state(), pb::ValidationState::Succeeded);
    assert_eq!(app.probe.calls_with("sched-busy"), probed + 1);
    app.finish().await;
}

#[tokio::test]
async fn after_a_failed_rotation_the_schedule_checks_the_revision_in_use() {
    let interval = Duration::from_secs(2);
    let app = TestApp::builder().with_revalidation(interval, 10).spawn().await;
    activate(&app, "rotating", pb::Provider::Gcp, "sched-inuse").await;
    // A rotation the provider refuses: revision 2 fails, revision 1 stays in use.
    app.probe.set("sched-rotation", "bad");
    complete(&app, "acme", "rotating", fixtures::credentials(pb::Provider::Gcp, "sched-rotation")).await.unwrap();
    let failed = validate(&app, "rotating", WAIT).await.unwrap();
    assert_eq!(failed.validation.unwrap().state(), pb::ValidationState::Failed);
    let connection = failed.connection.unwrap();
    assert_eq!(connection.status(), pb::ConnectionStatus::Active);
    let credentials = connection.credentials.unwrap();
    assert_eq!((credentials.revision, credentials.active_revision), (2, 1));
    let rotation_probes = app.probe.calls_with("sched-rotation");

    // The schedule validates what components use: revision 1, not the rotation.
    until("a scheduled validation of the revision in use", interval * 2 + WAIT, async || {
        let last = get(&app, "acme", "rotating").await.unwrap().last_validation.unwrap();
        last.trigger() == pb::ValidationTrigger::Scheduled && last.state() == pb::ValidationState::Succeeded
    })
    .await;
    let shown = get(&app, "acme", "rotating").await.unwrap();
    assert_eq!(shown.last_validation.as_ref().unwrap().revision, 1);
    assert_eq!(shown.status(), pb::ConnectionStatus::Active);
    assert_eq!(shown.credentials.as_ref().unwrap().active_revision, 1);
    assert_eq!(app.probe.calls_with("sched-rotation"), rotation_probes, "the failed rotation is not retried");

    // Revision 1 is revoked at the provider: the connection fails on its own.
    app.probe.set("sched-inuse", "bad");
    until("the connection fails on its own", interval * 2 + WAIT, async || {
        get(&app, "acme", "rotating").await.unwrap().status() == pb::ConnectionStatus::Failed
    })
    .await;
    let shown = get(&app, "acme", "rotating").await.unwrap();
    let last = shown.last_validation.unwrap();
    assert_eq!((last.revision, last.trigger()), (1, pb::ValidationTrigger::Scheduled));
    assert_eq!(last.error.unwrap().code, "INVALID_CREDENTIALS");
    assert_eq!(shown.credentials.unwrap().active_revision, 0);
    app.finish().await;
}

#[tokio::test]
async fn a_replica_starts_at_most_its_rate_per_provider_per_second() {
    // A long interval, so each connection is due once in this test; the
    // rate, not the schedule, decides when each starts.
    let interval = Duration::from_secs(3600);
    let app = TestApp::builder().with_revalidation(interval, 2).spawn().await;
    let tags: Vec<String> = (0..8).map(|n| format!("rated_{n}")).collect();
    for (n, tag) in tags.iter().enumerate() {
        activate(&app, tag, pb::Provider::Aws, &format!("sched-rated-{n}")).await;
    }
    // All due at once.
    let sql = "UPDATE connections SET next_validation_time = now() - interval '1 second' WHERE workspace = 'acme'";
    app.db.execute_unprepared(sql).await.unwrap();
    until("every due connection is validated", WAIT, async || {
        let mut all = true;
        for tag in &tags {
            all &= !scheduled(&app, tag).await.is_empty();
        }
        all
    })
    .await;
    let mut starts = Vec::new();
    for tag in &tags {
        starts.push(scheduled(&app, tag).await[0].create_time);
    }
    starts.sort();
    // 8 due at a rate of 2 a second: four passes, a second apart at least
    // (the third start comes no sooner than a pass after the first).
    for window in starts.windows(3) {
        let spread = seconds(window[2] - window[0]);
        assert!(spread >= 0.9, "three starts within {spread} s at a rate of 2 a second: {starts:?}");
    }
    assert!(seconds(starts[7] - starts[0]) >= 2.7, "{starts:?}");
    app.finish().await;
}
