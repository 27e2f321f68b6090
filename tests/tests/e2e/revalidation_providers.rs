//! Scheduled re-validation with the real Azure probe against the Entra ID
//! and Resource Manager emulator (docs/api.md#scheduled-re-validation): a
//! client secret deleted by the customer turns the connection FAILED on its
//! own, with the code, the hint and the event; Entra ID being down leaves
//! it ACTIVE. The provider, not a scripted stand-in, says what happened.

use std::{collections::HashMap, sync::Arc, time::Duration};

use cloudconn_proto::v1::{self as pb, AzureCredentials, complete_connection_request::Credentials};
use cloudconn_tests::{
    emulators::{self, ALWAYS, Emulator, Fault, azure},
    harness::{app::TestApp, fixtures},
};
use cloudconn_worker::config::Endpoints;

use crate::{
    helpers::*,
    scale_out::until,
    watch::{next, warm_up, watch},
};

const WAIT: Duration = Duration::from_secs(30);
const INTERVAL: Duration = Duration::from_secs(2);

/// An Entra ID tenant with one app that may read the subscription, and an
/// app running the real probes against it, re-validating every 2 s.
async fn stack() -> (Arc<azure::Azure>, Emulator, TestApp) {
    let app = azure::App {
        tenant: fixtures::TENANT.into(),
        secret: "az-drift".into(),
        subscriptions: vec![fixtures::SUBSCRIPTION.into()],
        permissions: vec![(vec!["*/read".into()], vec![])],
        ..Default::default()
    };
    let entra = Arc::new(azure::Azure::new(
        HashMap::from([(fixtures::CLIENT.to_owned(), app)]),
        vec![fixtures::TENANT.to_owned()],
        HashMap::from([(fixtures::SUBSCRIPTION.to_owned(), ("Acme Production".to_owned(), "Enabled".to_owned()))]),
    ));
    let emulator = emulators::serve(azure::router(entra.clone())).await;
    let endpoints = Endpoints {
        azure_authority: emulator.url(),
        azure_arm_base: emulator.url(),
        azure_graph_base: emulator.url(),
        ..Endpoints::default()
    };
    let app = TestApp::builder().with_real_probes(endpoints).with_revalidation(INTERVAL, 10).spawn().await;
    (entra, emulator, app)
}

async fn activate(app: &TestApp, tag: &str) {
    let create = pb::CreateConnectionRequest {
        workspace: "acme".into(),
        tag: tag.into(),
        provider: pb::Provider::Azure.into(),
        scopes: vec!["storage".into()],
        ..Default::default()
    };
    app.client.clone().create_connection(create).await.expect("create");
    let credentials = Credentials::Azure(AzureCredentials {
        tenant_id: fixtures::TENANT.into(),
        subscription_id: fixtures::SUBSCRIPTION.into(),
        client_id: fixtures::CLIENT.into(),
        client_secret: "az-drift".into(),
    });
    complete(app, "acme", tag, credentials).await.unwrap();
    let done = validate(app, tag, WAIT).await.unwrap();
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Active, "{tag}");
}

#[tokio::test]
async fn a_client_secret_deleted_at_the_provider_fails_the_connection_on_its_own() {
    let (entra, _emulator, app) = stack().await;
    activate(&app, "azure_drift").await;
    let mut events = watch(&app, "acme", "").await;
    warm_up(&app, &mut events).await;

    entra.revoke_secret(fixtures::CLIENT);
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
    let (_entra, emulator, app) = stack().await;
    activate(&app, "azure_outage").await;
    let first = get(&app, "acme", "azure_outage").await.unwrap().last_validation.unwrap().id;

    emulator.faults.on(azure::CALLS[0], Fault::Unavailable, ALWAYS);
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
