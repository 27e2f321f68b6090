//! Scheduled re-validation with the real Azure probe against the Entra ID
//! and Resource Manager emulator (docs/api.md#scheduled-re-validation): a
//! client secret deleted by the customer turns the connection FAILED on its
//! own, with the code, the hint and the event; Entra ID being down leaves
//! it ACTIVE. The provider, not a scripted stand-in, says what happened.

use std::time::Duration;

use cloudconn_proto::v1 as pb;
use cloudconn_tests::{
    emulators::{ALWAYS, Fault, azure},
    harness::{app::TestApp, entra, fixtures},
};

use crate::{
    helpers::*,
    scale_out::until,
    watch::{next, warm_up, watch},
};

const WAIT: Duration = Duration::from_secs(30);
const INTERVAL: Duration = Duration::from_secs(2);

/// An Entra ID tenant with one app that may read the subscription, and an
/// app running the real probes against it, re-validating every 2 s.
async fn stack() -> (entra::Tenant, TestApp) {
    let tenant = entra::Tenant::start(vec![(fixtures::CLIENT, entra::reader("az-drift"))]).await;
    let app =
        TestApp::builder().with_real_probes(tenant.endpoints.clone()).with_revalidation(INTERVAL, 10).spawn().await;
    (tenant, app)
}

async fn activate(app: &TestApp, tag: &str) {
    create(app, "acme", tag, pb::Provider::Azure).await;
    complete(app, "acme", tag, entra::credentials(fixtures::CLIENT, "az-drift")).await.unwrap();
    let done = validate(app, tag, WAIT).await.unwrap();
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Active, "{tag}");
}

#[tokio::test]
async fn a_client_secret_deleted_at_the_provider_fails_the_connection_on_its_own() {
    let (tenant, app) = stack().await;
    activate(&app, "azure_drift").await;
    let mut events = watch(&app, "acme", "").await;
    warm_up(&app, &mut events).await;

    tenant.state.revoke_secret(fixtures::CLIENT);
    until("the connection fails on its own", INTERVAL * 2 + WAIT, async || {
        get(&app, "acme", "azure_drift").await.unwrap().status() == pb::ConnectionStatus::Failed
    })
    .await;
    let connection = get(&app, "acme", "azure_drift").await.unwrap();
    assert_eq!(connection.credentials.unwrap().active_revision, 0);
    assert_eq!(connection.next_validation_time, None);
    let last = connection.last_validation.unwrap();
    assert_eq!(last.trigger(), pb::ValidationTrigger::Scheduled);
    let error = last.error.unwrap();
    assert_eq!((error.code.as_str(), error.retryable), ("INVALID_CREDENTIALS", false));
    assert!(error.message.contains("AADSTS7000215"), "{}", error.message);
    assert!(error.hint.contains("client secret"), "the hint says what to fix: {}", error.hint);

    // Subscribers learn it from the event, with the failed validation.
    let failed = loop {
        let event = next(&mut events, WAIT).await.expect("an event");
        if event.r#type == "cloudconn.connection.validation_failed.v1" {
            break event;
        }
    };
    let shown = failed.connection.unwrap();
    assert_eq!((shown.tag.as_str(), shown.status()), ("azure_drift", pb::ConnectionStatus::Failed));
    assert_eq!(shown.last_validation.unwrap().error.unwrap().code, "INVALID_CREDENTIALS");
    app.finish().await;
}

#[tokio::test]
async fn entra_id_being_down_leaves_the_connection_active() {
    let (tenant, app) = stack().await;
    activate(&app, "azure_outage").await;
    let first = get(&app, "acme", "azure_outage").await.unwrap().last_validation.unwrap().id;

    tenant.emulator.faults.on(azure::CALLS[0], Fault::Unavailable, ALWAYS);
    until("a scheduled validation fails on the outage", INTERVAL * 2 + WAIT, async || {
        let last = get(&app, "acme", "azure_outage").await.unwrap().last_validation.unwrap();
        last.id != first && last.state() == pb::ValidationState::Failed
    })
    .await;
    let connection = get(&app, "acme", "azure_outage").await.unwrap();
    assert_eq!(connection.status(), pb::ConnectionStatus::Active, "an outage never breaks a connection");
    assert_eq!(connection.credentials.unwrap().active_revision, 1);
    let error = connection.last_validation.unwrap().error.unwrap();
    assert_eq!((error.code.as_str(), error.retryable), ("PROVIDER_UNAVAILABLE", true));
    assert!(connection.next_validation_time.is_some(), "tried again later");
    app.finish().await;
}
