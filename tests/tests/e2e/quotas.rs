//! Per-workspace quotas (security review M7): rates on the expensive calls,
//! a cap on connections, a bound on waiting callers, and validation history
//! and audit rows that do not grow forever.

use std::time::Duration;

use cloudconn_proto::v1 as pb;
use cloudconn_server::{outbox::prune::VALIDATIONS_KEPT, quota::QuotaConfig};
use cloudconn_tests::harness::{app::TestApp, fixtures};
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::*;

async fn validate_in(
    app: &TestApp,
    workspace: &str,
    tag: &str,
) -> Result<pb::ValidateConnectionResponse, tonic::Status> {
    let request = pb::ValidateConnectionRequest { workspace: workspace.into(), tag: tag.into(), wait: None };
    app.client.clone().validate_connection(request).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn validations_and_saves_beyond_a_workspaces_rate_are_refused_with_a_retry_delay() {
    let quotas = QuotaConfig { rate_validate_per_minute: 3, rate_complete_per_minute: 4, ..QuotaConfig::default() };
    let app = TestApp::builder().without_worker().with_quotas(quotas).spawn().await;
    for workspace in ["acme", "globex"] {
        create(&app, workspace, "prod_gcp", pb::Provider::Gcp).await;
        complete(&app, workspace, "prod_gcp", fixtures::credentials(pb::Provider::Gcp, "")).await.unwrap();
    }
    for _ in 0..3 {
        validate_in(&app, "acme", "prod_gcp").await.expect("within the rate");
    }
    let refused = validate_in(&app, "acme", "prod_gcp").await.unwrap_err();
    assert_code(&refused, Code::ResourceExhausted, "RATE_LIMITED");
    let retry = refused.get_details_retry_info().and_then(|r| r.retry_delay).expect("RetryInfo");
    assert!(retry > Duration::ZERO && retry <= Duration::from_secs(20), "{retry:?}");
    validate_in(&app, "globex", "prod_gcp").await.expect("another workspace has its own allowance");

    // Saves: one already spent above; three more, then refused.
    for _ in 0..3 {
        complete(&app, "acme", "prod_gcp", fixtures::credentials(pb::Provider::Gcp, "")).await.expect("within");
    }
    let refused = complete(&app, "acme", "prod_gcp", fixtures::credentials(pb::Provider::Gcp, "")).await.unwrap_err();
    assert_code(&refused, Code::ResourceExhausted, "RATE_LIMITED");
    app.finish().await;
}

#[tokio::test]
async fn a_workspace_holds_at_most_its_quota_of_connections() {
    let quotas = QuotaConfig { max_connections_per_workspace: 2, ..QuotaConfig::default() };
    let app = TestApp::builder().without_worker().with_quotas(quotas).spawn().await;
    create(&app, "acme", "one", pb::Provider::Aws).await;
    create(&app, "acme", "two", pb::Provider::Aws).await;
    let third = pb::CreateConnectionRequest {
        workspace: "acme".into(),
        tag: "three".into(),
        provider: pb::Provider::Aws.into(),
        scopes: vec!["storage".into()],
        ..Default::default()
    };
    let refused = app.client.clone().create_connection(third.clone()).await.unwrap_err();
    assert_code(&refused, Code::ResourceExhausted, "QUOTA_EXCEEDED");
    assert!(refused.message().contains("2 connections"), "{}", refused.message());
    create(&app, "globex", "three", pb::Provider::Aws).await;
    delete(&app, "acme", "one").await.unwrap();
    let retried = pb::CreateConnectionRequest { request_id: "create-three-1".into(), ..third };
    let created = app.client.clone().create_connection(retried.clone()).await.expect("room again after a delete");
    // The workspace is full again; a retry of the call that filled it is
    // still answered with its connection, not refused.
    let replayed = app.client.clone().create_connection(retried.clone()).await.expect("a retry at the limit");
    assert_eq!(replayed.get_ref().uid, created.get_ref().uid);
    let other = pb::CreateConnectionRequest { tag: "four".into(), ..retried };
    let reused = app.client.clone().create_connection(other).await.unwrap_err();
    assert_code(&reused, Code::FailedPrecondition, "REQUEST_ID_REUSED");
    app.finish().await;
}

#[tokio::test]
async fn callers_beyond_the_waiter_bound_are_answered_at_once() {
    let quotas = QuotaConfig { max_waiters: 1, ..QuotaConfig::default() };
    let app = TestApp::builder().without_worker().with_quotas(quotas).spawn().await;
    for tag in ["first", "second"] {
        create(&app, "acme", tag, pb::Provider::Gcp).await;
        complete(&app, "acme", tag, fixtures::credentials(pb::Provider::Gcp, "")).await.unwrap();
    }
    // No worker: the first caller waits its full 20 s for an outcome.
    let waiting = tokio::spawn({
        let client = app.client.clone();
        async move {
            let mut client = client;
            let request = pb::ValidateConnectionRequest {
                workspace: "acme".into(),
                tag: "first".into(),
                wait: Some(prost_types::Duration { seconds: 20, nanos: 0 }),
            };
            client.validate_connection(request).await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answered = tokio::time::timeout(Duration::from_secs(10), validate(&app, "second", Duration::from_secs(20)))
        .await
        .expect("the second caller is answered without waiting")
        .unwrap();
    assert_eq!(answered.validation.unwrap().state(), pb::ValidationState::Queued);
    assert!(!waiting.is_finished(), "the first caller is still waiting");
    waiting.abort();
    app.finish().await;
}

#[tokio::test]
async fn a_connection_keeps_its_recent_validations_only() {
    let app = TestApp::builder().with_outbox_retention(Duration::from_millis(400)).spawn().await;
    create(&app, "acme", "busy", pb::Provider::Gcp).await;
    complete(&app, "acme", "busy", fixtures::credentials(pb::Provider::Gcp, "")).await.unwrap();
    let runs = VALIDATIONS_KEPT + 5;
    for _ in 0..runs {
        let done = validate(&app, "busy", Duration::from_secs(15)).await.unwrap();
        assert_eq!(done.validation.unwrap().state(), pb::ValidationState::Succeeded);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let kept = validations_of(&app).await;
        if kept == VALIDATIONS_KEPT as i64 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{kept} validations left of {runs}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = get(&app, "acme", "busy").await.unwrap();
    assert_eq!(seen.last_validation.unwrap().state(), pb::ValidationState::Succeeded, "the latest is kept");
    app.finish().await;
}

#[tokio::test]
async fn audit_rows_are_deleted_past_their_retention() {
    let app = TestApp::builder()
        .with_outbox_retention(Duration::from_millis(400))
        .with_audit_retention(Duration::from_secs(2))
        .spawn()
        .await;
    let trail = || async {
        let request = pb::ListAuditEventsRequest { workspace: "acme".into(), page_size: 100, ..Default::default() };
        let page = app.client.clone().list_audit_events(request).await.unwrap().into_inner();
        page.audit_events.into_iter().map(|e| e.tag).collect::<Vec<_>>()
    };
    create(&app, "acme", "old", pb::Provider::Gcp).await;
    assert_eq!(trail().await, ["old"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !trail().await.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the audit row outlived its retention");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    create(&app, "acme", "new", pb::Provider::Gcp).await;
    assert_eq!(trail().await, ["new"], "rows within the retention stay");
    app.finish().await;
}

async fn validations_of(app: &TestApp) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    let sql = "SELECT COUNT(*) AS n FROM validations".to_owned();
    let row = app.db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}
