//! What hostile callers can make the server hold or say (security review
//! H1–H3, N6): caller-chosen paths never become metric labels, body-less
//! calls cannot freeze the API (not even from many subjects of one
//! tenant), and one request cannot make a huge error.

use std::time::Duration;

use cloudconn_proto::v1 as pb;
use cloudconn_server::{
    api::admission::{BODY_DEADLINE, FIRST_BODY_DEADLINE},
    quota::QuotaConfig,
};
use cloudconn_tests::harness::{
    app::TestApp,
    auth::{Bearer, TokenSpec},
    raw_h2::{self, RawH2},
};
use rand::distr::{Alphanumeric, SampleString};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::*;

async fn metrics_body(app: &TestApp) -> String {
    reqwest::get(format!("http://{}/metrics", app.metrics_addr)).await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn paths_that_name_no_method_do_not_grow_the_metrics() {
    let app = TestApp::builder().without_worker().spawn().await;
    let before = metrics_body(&app).await.len();
    let mut raw = RawH2::connect(app.addr).await;
    for _ in 0..200 {
        let method = Alphanumeric.sample_string(&mut rand::rng(), 2000);
        let answer = raw.call(&format!("/cloudconn.v1.ConnectionService/{method}"), None, b"").await;
        assert!(answer.grpc_status.is_some(), "every call is answered: {answer:?}");
    }
    let after = metrics_body(&app).await;
    assert!(
        after.len() < before + 4_000,
        "200 unknown paths grew /metrics from {before} to {} bytes: labels must not come from the path",
        after.len()
    );
    assert!(after.contains(r#"method="unknown""#), "unknown paths are counted under one label");
    app.finish().await;
}

#[tokio::test]
async fn calls_without_a_body_cannot_freeze_the_api() {
    let app = TestApp::builder().without_worker().spawn().await;
    let attacker = app.token(&TokenSpec { sub: "attacker", ..Default::default() });

    // The review's recipe: 9 connections × 256 health checks that never
    // send their body (more than the old global limit of 2,048).
    let opened = tokio::time::Instant::now();
    let mut held = Vec::new();
    for _ in 0..9 {
        let mut raw = RawH2::connect(app.addr).await;
        for _ in 0..256 {
            held.push(raw.open_without_body("/grpc.health.v1.Health/Check", None).await);
        }
    }
    // Excess health checks are refused at once rather than queued (unless
    // this machine was so slow that the held ones already timed out).
    let health = tokio::time::timeout(
        Duration::from_secs(8),
        HealthClient::new(app.channel.clone()).check(HealthCheckRequest { service: String::new() }),
    )
    .await
    .expect("a health check is answered, not queued");
    if opened.elapsed() < FIRST_BODY_DEADLINE {
        assert_eq!(health.unwrap_err().code(), Code::Unavailable, "the public pool is full: shed");
    }

    // One tenant's 2 × 256 body-less API calls: its share is full, its next
    // call is refused at once.
    let opened = tokio::time::Instant::now();
    let mut api_held = Vec::new();
    for _ in 0..2 {
        let mut raw = RawH2::connect(app.addr).await;
        for _ in 0..256 {
            api_held
                .push(raw.open_without_body("/cloudconn.v1.ConnectionService/ListProviders", Some(&attacker)).await);
        }
    }
    let mut own = app.client_with(Bearer::new(&attacker));
    let refused = tokio::time::timeout(Duration::from_secs(8), own.list_providers(pb::ListProvidersRequest {}))
        .await
        .expect("the attacker's next call is answered, not queued");
    if opened.elapsed() < FIRST_BODY_DEADLINE {
        assert_code(&refused.unwrap_err(), Code::ResourceExhausted, "RATE_LIMITED");
    }

    // Everyone else is still served.
    let mut client = app.client_with(Bearer::new(&app.token(&TokenSpec { sub: "bystander", ..Default::default() })));
    let served = tokio::time::timeout(Duration::from_secs(8), client.list_providers(pb::ListProvidersRequest {}))
        .await
        .expect("an authenticated call is answered while body-less calls are open");
    assert!(served.is_ok(), "{served:?}");

    // The body-less calls end on their own once the body deadline passes,
    // and the slots they held come back.
    let ended = tokio::time::timeout(Duration::from_secs(30), raw_h2::answer(api_held.remove(0).response))
        .await
        .expect("a body-less call ends after the body deadline");
    assert_eq!(ended.grpc_status, Some(Code::DeadlineExceeded as i32), "{ended:?}");
    drop((held, api_held));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let again = HealthClient::new(app.channel.clone()).check(HealthCheckRequest { service: String::new() }).await;
        if again.is_ok() && own.list_providers(pb::ListProvidersRequest {}).await.is_ok() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "slots did not come back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.finish().await;
}

const LIST_PROVIDERS: &str = "/cloudconn.v1.ConnectionService/ListProviders";

/// A call that must be refused at once: its code and message.
async fn refused(raw: &mut RawH2, token: &str) -> (i32, String) {
    let call = raw.open_with_partial_body(LIST_PROVIDERS, Some(token)).await;
    let answer = tokio::time::timeout(Duration::from_secs(5), raw_h2::answer(call.response))
        .await
        .expect("a refusal is answered at once, not held");
    (answer.grpc_status.expect("a grpc-status"), answer.grpc_message)
}

#[tokio::test]
async fn many_subjects_of_one_tenant_cannot_take_the_api_from_the_others() {
    // The review's recipe (8 subjects × 256 body-less calls filled the
    // 2,048 slots), scaled down: 16 slots, 4 per subject, 8 per tenant, so
    // the last 4 are kept for tenants holding none.
    let quotas =
        QuotaConfig { max_api_calls: 16, max_calls_per_subject: 4, max_calls_per_workspace: 8, ..Default::default() };
    let app = TestApp::builder().without_worker().with_quotas(quotas).spawn().await;
    let token = |sub: &str, workspaces: &[&str]| {
        app.token(&TokenSpec { sub, workspaces, scope: "connections:read", ..Default::default() })
    };
    let mut raw = RawH2::connect(app.addr).await;
    // Calls whose body started and stopped: each holds its slot until the
    // whole-body deadline (10 s), long enough for the checks below on a
    // slow machine.
    let mut held = Vec::new();
    let acme: Vec<String> = (1..=3).map(|i| token(&format!("acme-{i}"), &["acme"])).collect();
    for caller in &acme[..2] {
        for _ in 0..4 {
            held.push(raw.open_with_partial_body(LIST_PROVIDERS, Some(caller)).await);
        }
    }
    let (code, message) = refused(&mut raw, &acme[0]).await;
    assert_eq!(code, Code::ResourceExhausted as i32, "{message}");
    assert!(message.contains("this token's subject already has 4 ConnectionService calls in progress"), "{message}");
    // A third subject of the same workspace: the workspace's share is full.
    let (code, message) = refused(&mut raw, &acme[2]).await;
    assert_eq!(code, Code::ResourceExhausted as i32, "{message}");
    assert!(message.contains("workspaces acme together have 8"), "{message}");

    // Platform (`*`) tokens count as one more tenant: they take 4 more,
    // then the pool is down to the slots kept for light tenants.
    let stars: Vec<String> = (1..=2).map(|i| token(&format!("platform-{i}"), &["*"])).collect();
    for _ in 0..4 {
        held.push(raw.open_with_partial_body(LIST_PROVIDERS, Some(&stars[0])).await);
    }
    let (code, message) = refused(&mut raw, &stars[1]).await;
    assert_eq!(code, Code::Unavailable as i32, "{message}");
    assert!(message.contains("the last 4 ConnectionService calls in progress of this server are kept"), "{message}");

    // Another workspace's caller is answered, with a real call.
    let mut bystander = app.client_with(Bearer::new(&token("globex-app", &["globex"])));
    let served = tokio::time::timeout(Duration::from_secs(5), bystander.list_providers(pb::ListProvidersRequest {}))
        .await
        .expect("answered at once");
    assert!(served.is_ok(), "{served:?}");

    // A call that never sends its body gives its slot back after the
    // first-body deadline, well before the whole-body one.
    let opened = tokio::time::Instant::now();
    let call = raw.open_without_body(LIST_PROVIDERS, Some(&token("globex-app", &["globex"]))).await;
    let ended = tokio::time::timeout(Duration::from_secs(30), raw_h2::answer(call.response)).await.expect("ended");
    assert_eq!(ended.grpc_status, Some(Code::DeadlineExceeded as i32), "{ended:?}");
    assert!(ended.grpc_message.contains("did not start within 3 s"), "{ended:?}");
    assert!(opened.elapsed() < BODY_DEADLINE, "held {:?}", opened.elapsed());
    drop(held);
    app.finish().await;
}

#[tokio::test]
async fn one_request_of_many_bad_elements_gets_one_small_error() {
    let app = TestApp::builder().without_worker().spawn().await;
    // ~1 MiB of empty scopes: one violation for the list, not 500,000.
    let status = app
        .client
        .clone()
        .create_connection(pb::CreateConnectionRequest {
            workspace: "acme".into(),
            tag: "prod_aws".into(),
            provider: pb::Provider::Aws.into(),
            scopes: vec![String::new(); 500_000],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&status, &["scopes"]);
    assert!(status.message().contains("at most 4 scopes"), "{}", status.message());

    create(&app, "acme", "prod_aws", pb::Provider::Aws).await;
    let status = app
        .client
        .clone()
        .update_connection(pb::UpdateConnectionRequest {
            workspace: "acme".into(),
            tag: "prod_aws".into(),
            update_mask: Some(prost_types::FieldMask { paths: vec![String::new(); 300_000] }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&status, &["update_mask.paths"]);

    // Free text with control characters: named, not a database error.
    let status = app
        .client
        .clone()
        .create_connection(pb::CreateConnectionRequest {
            workspace: "acme".into(),
            tag: "prod_gcp".into(),
            provider: pb::Provider::Gcp.into(),
            scopes: vec!["storage".into()],
            display_name: "nul\0byte".into(),
            description: "esc\u{1b}[31m".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&status, &["display_name", "description"]);
    app.finish().await;
}
