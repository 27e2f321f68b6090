//! The run step (docs/run.md) through the public API, with a scripted
//! minter that counts its calls: who may ask, what is refused before any
//! provider call, the cache and its single flight, deadlines when no worker
//! answers, and that the issued secret goes nowhere but to the caller.
//! The product's minters against the provider emulators: `minting.rs`.

use std::time::Duration;

use cloudconn_proto::v1::{self as pb, issued_credentials::Credentials};
use cloudconn_tests::harness::{
    app::TestApp,
    auth::{Bearer, TokenSpec},
    fixtures, logs,
    scripted_mint::{Script, ScriptedMint},
};
use cloudconn_worker::probe::ErrorCode;
use tonic::Code;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(20);

fn request(tag: &str, scope: &str, consumer: &str) -> pb::IssueCredentialsRequest {
    pb::IssueCredentialsRequest {
        workspace: "acme".into(),
        tag: tag.into(),
        scope: scope.into(),
        consumer: consumer.into(),
        ttl: None,
    }
}

/// A client whose token may issue credentials in `acme` (and nothing else).
fn component(app: &TestApp) -> cloudconn_tests::harness::auth::Client {
    let token = app.token(&TokenSpec {
        sub: "billing-api",
        workspaces: &["acme"],
        scope: "connections:use",
        ..TokenSpec::default()
    });
    app.client_with(Bearer::new(&token))
}

/// An ACTIVE connection (the scripted probe accepts these credentials).
async fn active(app: &TestApp, tag: &str, provider: pb::Provider) -> pb::Connection {
    create(app, "acme", tag, provider).await;
    complete(app, "acme", tag, fixtures::credentials(provider, "run")).await.unwrap();
    let done = validate(app, tag, WAIT).await.unwrap();
    let connection = done.connection.unwrap();
    assert_eq!(connection.status(), pb::ConnectionStatus::Active, "{connection:?}");
    connection
}

fn token_of(issued: &pb::IssuedCredentials) -> String {
    match issued.credentials.as_ref() {
        Some(Credentials::Gcp(t) | Credentials::Azure(t) | Credentials::Neo4jAura(t)) => t.access_token.clone(),
        other => panic!("not a token: {other:?}"),
    }
}

#[tokio::test]
async fn refusals_come_before_any_provider_call() {
    let mint = ScriptedMint::new("tok");
    let app = TestApp::builder().with_minters(mint.everywhere()).spawn().await;
    let mut caller = component(&app);
    create(&app, "acme", "pending_gcp", pb::Provider::Gcp).await;
    let err = caller.issue_credentials(request("pending_gcp", "storage", "billing-api")).await.unwrap_err();
    assert_code(&err, Code::FailedPrecondition, "NOT_ACTIVE");
    assert!(err.message().contains("PENDING"), "{}", err.message());

    active(&app, "prod_gcp", pb::Provider::Gcp).await;
    let err = caller.issue_credentials(request("prod_gcp", "functions", "billing-api")).await.unwrap_err();
    assert_code(&err, Code::FailedPrecondition, "SCOPE_NOT_GRANTED");
    assert!(err.message().contains("storage, database"), "names the scopes it has: {}", err.message());

    let err = caller.issue_credentials(request("no_such", "storage", "billing-api")).await.unwrap_err();
    assert_code(&err, Code::NotFound, "CONNECTION_NOT_FOUND");

    // Another workspace's token, and operators' tokens without the use scope.
    let other = app.token(&TokenSpec { workspaces: &["globex"], scope: "connections:use", ..TokenSpec::default() });
    let err =
        app.client_with(Bearer::new(&other)).issue_credentials(request("prod_gcp", "storage", "x")).await.unwrap_err();
    assert_code(&err, Code::PermissionDenied, "PERMISSION_DENIED");
    let operator = app.token(&TokenSpec { scope: "connections:read connections:write", ..TokenSpec::default() });
    let err = app
        .client_with(Bearer::new(&operator))
        .issue_credentials(request("prod_gcp", "storage", "x"))
        .await
        .unwrap_err();
    assert_code(&err, Code::PermissionDenied, "PERMISSION_DENIED");
    assert_eq!(err.message(), "the token lacks the connections:use scope");
    // And the use scope implies nothing else.
    let err = caller
        .get_connection(pb::GetConnectionRequest { workspace: "acme".into(), tag: "prod_gcp".into() })
        .await
        .unwrap_err();
    assert_code(&err, Code::PermissionDenied, "PERMISSION_DENIED");

    // Bad input names every bad field.
    let mut bad = request("prod_gcp", "everything", "billing api!");
    bad.ttl = Some(prost_types::Duration { seconds: -1, nanos: 0 });
    assert_invalid(&caller.issue_credentials(bad).await.unwrap_err(), &["scope", "consumer", "ttl"]);
    assert_invalid(&caller.issue_credentials(request("prod_gcp", "storage", "")).await.unwrap_err(), &["consumer"]);
    assert_eq!(mint.calls(), 0, "nothing reached a provider");
    app.finish().await;
}

#[tokio::test]
async fn the_cache_serves_mints_once_and_forgets_on_rotation_and_scope_removal() {
    let mint = ScriptedMint::new("tok-1");
    let app = TestApp::builder().with_minters(mint.everywhere()).spawn().await;
    let before = active(&app, "prod_gcp", pb::Provider::Gcp).await;
    let caller = component(&app);

    // 50 concurrent first calls: one mint, one answer for all.
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let mut caller = caller.clone();
            tokio::spawn(async move { caller.issue_credentials(request("prod_gcp", "storage", "billing-api")).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for call in calls {
        tokens.push(token_of(&call.await.unwrap().unwrap().into_inner()));
    }
    assert_eq!(mint.calls(), 1, "single flight");
    assert!(tokens.iter().all(|t| t == "tok-1"));
    let issued =
        caller.clone().issue_credentials(request("prod_gcp", "storage", "billing-api")).await.unwrap().into_inner();
    assert_eq!(mint.calls(), 1, "a hit makes no provider call");
    assert_eq!((issued.tag.as_str(), issued.scope.as_str(), issued.revision), ("prod_gcp", "storage", 1));
    assert_eq!(issued.provider(), pb::Provider::Gcp);
    let lifetime = issued.expire_time.unwrap().seconds - chrono::Utc::now().timestamp();
    assert!((880..=900).contains(&lifetime), "15 minutes by default: {lifetime}");
    let asked = mint.requests.lock().unwrap()[0].clone();
    assert_eq!(
        (asked.scope.as_str(), asked.consumer.as_str(), asked.ttl),
        ("storage", "billing-api", Duration::from_secs(900))
    );

    // Another consumer or scope is another entry.
    caller.clone().issue_credentials(request("prod_gcp", "storage", "reports")).await.unwrap();
    caller.clone().issue_credentials(request("prod_gcp", "database", "billing-api")).await.unwrap();
    assert_eq!(mint.calls(), 3);

    // A rotation to a new active revision: minted anew, from revision 2.
    mint.answer(Script::Token("tok-2".into()));
    complete(&app, "acme", "prod_gcp", fixtures::credentials(pb::Provider::Gcp, "rotated")).await.unwrap();
    assert_eq!(
        validate(&app, "prod_gcp", WAIT).await.unwrap().connection.unwrap().credentials.unwrap().active_revision,
        2
    );
    let issued =
        caller.clone().issue_credentials(request("prod_gcp", "storage", "billing-api")).await.unwrap().into_inner();
    assert_eq!((token_of(&issued), issued.revision, mint.calls()), ("tok-2".into(), 2, 4));

    // A scope removed is refused; added back, it is minted anew.
    let update = |scopes: &[&str]| pb::UpdateConnectionRequest {
        workspace: "acme".into(),
        tag: "prod_gcp".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        update_mask: Some(prost_types::FieldMask { paths: vec!["scopes".into()] }),
        ..Default::default()
    };
    app.client.clone().update_connection(update(&["database"])).await.unwrap();
    let err = caller.clone().issue_credentials(request("prod_gcp", "storage", "billing-api")).await.unwrap_err();
    assert_code(&err, Code::FailedPrecondition, "SCOPE_NOT_GRANTED");
    app.client.clone().update_connection(update(&["database", "storage"])).await.unwrap();
    caller.clone().issue_credentials(request("prod_gcp", "storage", "billing-api")).await.unwrap();
    assert_eq!(mint.calls(), 5);

    // Who depends on it: consumers, newest first, and every first receipt audited.
    let after = get(&app, "acme", "prod_gcp").await.unwrap();
    let consumers: Vec<&str> = after.consumers.iter().map(|c| c.consumer.as_str()).collect();
    assert_eq!(consumers.len(), 2, "{consumers:?}");
    assert!(consumers.contains(&"billing-api") && consumers.contains(&"reports"));
    assert!(before.last_used_time.is_none() && after.last_used_time.is_some());
    let listed = app
        .client
        .clone()
        .list_connections(pb::ListConnectionsRequest { workspace: "acme".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.connections[0].last_used_time, after.last_used_time);
    let trail = app
        .client
        .clone()
        .list_audit_events(pb::ListAuditEventsRequest {
            workspace: "acme".into(),
            tag: "prod_gcp".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let issues: Vec<serde_json::Value> = trail
        .audit_events
        .iter()
        .filter(|e| e.action == "IssueCredentials")
        .map(|e| {
            assert_eq!(e.actor, "billing-api");
            serde_json::from_str(&e.details_json).unwrap()
        })
        .collect();
    // One row per first receipt (each mint, for this one subject); the 51
    // repeats are counted instead (run_hits.rs).
    assert_eq!(issues.len(), 5, "first receipts only");
    assert!(issues.iter().all(|d| d["expire_time"].is_string() && d["scope"].is_string() && d["revision"].is_number()));

    // Newest first, and every response that shows the connection shows
    // them as Get does: a save, a validation, an update.
    let times: Vec<_> = after.consumers.iter().map(|c| c.last_used_time.unwrap()).collect();
    assert!(times.windows(2).all(|w| (w[0].seconds, w[0].nanos) >= (w[1].seconds, w[1].nanos)), "{times:?}");
    assert_eq!(after.last_used_time.as_ref(), times.first());
    let saved = complete(&app, "acme", "prod_gcp", fixtures::credentials(pb::Provider::Gcp, "again")).await.unwrap();
    assert_eq!(saved.consumers, after.consumers, "CompleteConnection's answer");
    let validated = validate(&app, "prod_gcp", WAIT).await.unwrap().connection.unwrap();
    assert_eq!(validated.consumers, after.consumers, "ValidateConnection's answer");
    let rename = pb::UpdateConnectionRequest {
        workspace: "acme".into(),
        tag: "prod_gcp".into(),
        display_name: Some("GCP, production".into()),
        update_mask: Some(prost_types::FieldMask { paths: vec!["display_name".into()] }),
        ..Default::default()
    };
    let renamed = app.client.clone().update_connection(rename).await.unwrap().into_inner();
    assert_eq!((renamed.display_name.as_str(), &renamed.consumers), ("GCP, production", &after.consumers));
    app.finish().await;
}

#[tokio::test]
async fn atlas_users_are_revoked_on_rotation_and_delete_and_other_providers_leave_nothing() {
    let mint = ScriptedMint::new("tok");
    let app = TestApp::builder().with_minters(mint.everywhere()).spawn().await;
    let atlas = active(&app, "prod_atlas", pb::Provider::MongodbAtlas).await;
    active(&app, "prod_aura", pb::Provider::Neo4jAura).await;
    let mut caller = component(&app);
    caller.issue_credentials(request("prod_atlas", "database", "etl")).await.unwrap();
    assert!(mint.revokes.lock().unwrap().is_empty());

    // Rotation: revision 2 becomes active; revision 1's users go.
    complete(&app, "acme", "prod_atlas", fixtures::credentials(pb::Provider::MongodbAtlas, "rotated")).await.unwrap();
    validate(&app, "prod_atlas", WAIT).await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while mint.revokes.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no revoke after the rotation");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rotated = mint.revokes.lock().unwrap()[0].clone();
    assert_eq!((rotated.connection_id.as_str(), rotated.keep_revision), (atlas.uid.as_str(), Some(2)));

    // Delete: every user goes, before the credentials are purged.
    delete(&app, "acme", "prod_atlas").await.unwrap();
    let revokes = mint.revokes.lock().unwrap().clone();
    assert_eq!(revokes.len(), 2, "{revokes:?}");
    assert_eq!((revokes[1].connection_id.as_str(), revokes[1].keep_revision), (atlas.uid.as_str(), None));
    // Aura's tokens just expire.
    delete(&app, "acme", "prod_aura").await.unwrap();
    assert_eq!(mint.revokes.lock().unwrap().len(), 2);
    app.finish().await;
}

#[tokio::test]
async fn provider_refusals_and_outages_carry_the_validation_codes() {
    let mint = ScriptedMint::new("tok");
    let app = TestApp::builder().with_minters(mint.everywhere()).spawn().await;
    active(&app, "prod_azure", pb::Provider::Azure).await;
    let mut caller = component(&app);
    mint.answer(Script::Fail { code: ErrorCode::AccessDenied, retryable: false });
    let err = caller.issue_credentials(request("prod_azure", "storage", "etl")).await.unwrap_err();
    assert_code(&err, Code::FailedPrecondition, "ACCESS_DENIED");
    assert!(err.message().contains("scripted hint"), "the hint travels: {}", err.message());
    mint.answer(Script::Fail { code: ErrorCode::ProviderUnavailable, retryable: true });
    let err = caller.issue_credentials(request("prod_azure", "storage", "etl")).await.unwrap_err();
    assert_code(&err, Code::Unavailable, "PROVIDER_UNAVAILABLE");
    // Failures are not cached: the next call asks again.
    assert_eq!(mint.calls(), 2);
    app.finish().await;
}

#[tokio::test]
async fn without_workers_the_call_is_unavailable_within_its_deadline_and_never_minted_later() {
    let mint = ScriptedMint::new("tok");
    let mut app =
        TestApp::builder().with_minters(mint.everywhere()).with_issue_timeout(Duration::from_secs(2)).spawn().await;
    active(&app, "prod_aura", pb::Provider::Neo4jAura).await;
    app.stop_workers().await;
    let started = std::time::Instant::now();
    let err = component(&app).issue_credentials(request("prod_aura", "database", "etl")).await.unwrap_err();
    assert_code(&err, Code::Unavailable, "WORKERS_UNAVAILABLE");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1900) && waited < Duration::from_secs(8), "{waited:?}");

    // A worker that comes back does not run the expired request.
    app.start_worker();
    let issued = component(&app).issue_credentials(request("prod_aura", "database", "etl")).await.unwrap().into_inner();
    assert_eq!(token_of(&issued), "tok");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mint.calls(), 1, "only the live request was minted");

    // A request past its deadline that does reach a worker (no broker
    // expiration on it) is dropped there, unminted.
    let connection = get(&app, "acme", "prod_aura").await.unwrap();
    let late = cloudconn_infra::amqp::issue::IssueRequest {
        version: cloudconn_infra::amqp::issue::ISSUE_VERSION,
        tag: String::new(),
        workspace: "acme".into(),
        connection_id: connection.uid,
        provider: "neo4j_aura".into(),
        revision: 1,
        scope: "database".into(),
        consumer: "late".into(),
        ttl_secs: 900,
        external_id: None,
        deadline_unix_ms: chrono::Utc::now().timestamp_millis() as u64 - 1,
        action: Default::default(),
    };
    let expired_before = expired_count(&app).await;
    let amqp = cloudconn_tests::harness::amqp::connect().await;
    let channel = amqp.create_channel().await.unwrap();
    // Sent as the server sends: to a reply queue, signed with its key.
    let reply_to = app.topology.reply_queue(&channel).await.unwrap();
    let body = serde_json::to_vec(&late).unwrap();
    let signature = app
        .message_keys
        .server
        .sign(cloudconn_infra::amqp::signing::Context::IssueRequest, &[reply_to.as_bytes(), b"late", &body]);
    channel
        .basic_publish(
            "".into(),
            app.topology.issue_queue().into(),
            Default::default(),
            &body,
            lapin::BasicProperties::default()
                .with_reply_to(reply_to.into())
                .with_correlation_id("late".into())
                .with_headers(cloudconn_infra::amqp::signing::signature_headers(signature)),
        )
        .await
        .unwrap();
    // (The first request may have reached the new worker past its deadline
    // too, if the broker had not expired it yet: count from here.)
    let deadline = std::time::Instant::now() + WAIT;
    while expired_count(&app).await < expired_before + 1 {
        assert!(std::time::Instant::now() < deadline, "the worker never dropped the late request");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mint.calls(), 1, "the late request reached no provider");
    app.finish().await;
}

/// Issue requests the in-process worker dropped past their deadline.
async fn expired_count(app: &TestApp) -> u64 {
    let metrics = format!("http://{}/metrics", app.worker_metrics_addr.unwrap());
    let body = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix(r#"cloudconn_worker_issue_requests_total{outcome="expired"} "#))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test]
async fn the_issued_secret_goes_to_the_caller_and_nowhere_else() {
    let canary = format!("CANARY{}", uuid::Uuid::new_v4().simple());
    let mint = ScriptedMint::new(&canary);
    let app = TestApp::builder().with_minters(mint.everywhere()).spawn().await;
    let mut events = app.subscribe_events("#").await;
    active(&app, "prod_gcp", pb::Provider::Gcp).await;
    let mut caller = component(&app);
    for consumer in ["billing-api", "billing-api", "reports"] {
        let issued = caller.issue_credentials(request("prod_gcp", "storage", consumer)).await.unwrap().into_inner();
        assert_eq!(token_of(&issued), canary, "positive control: the caller gets it");
    }
    mint.answer(Script::Fail { code: ErrorCode::AccessDenied, retryable: false });
    let err = caller.issue_credentials(request("prod_gcp", "database", "x")).await.unwrap_err();
    assert!(!err.message().contains(&canary) && !String::from_utf8_lossy(err.details()).contains(&canary));

    // Everything up to the second first receipt's audit event (the repeat
    // for billing-api is counted, not audited).
    let mut received = Vec::new();
    while received
        .iter()
        .filter(|e: &&cloudconn_tests::harness::amqp::ReceivedEvent| {
            e.routing_key.ends_with(".audit.issue_credentials")
        })
        .count()
        < 2
    {
        received.push(events.next(WAIT).await);
    }
    assert!(!received.iter().any(|e| e.raw.contains(&canary)), "an event carried the credential");
    let dump = app.dump_database().await;
    assert!(dump.contains("IssueCredentials"), "the dump sees the audit rows");
    assert!(!dump.contains(&canary), "the database holds the credential");
    assert!(!logs::captured().contains(&canary), "a log line holds the credential");
    assert!(!format!("{:?}", logs::finished_spans()).contains(&canary), "a span holds the credential");
    app.finish().await;
}
