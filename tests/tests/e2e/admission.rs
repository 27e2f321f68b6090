//! What hostile callers can make the server hold or say (security review
//! H1–H3): caller-chosen paths never become metric labels, body-less calls
//! cannot freeze the API, and one request cannot make a huge error.

use std::time::Duration;

use cloudconn_proto::v1 as pb;
use cloudconn_server::api::admission::BODY_DEADLINE;
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
    if opened.elapsed() < BODY_DEADLINE {
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
    if opened.elapsed() < BODY_DEADLINE {
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
