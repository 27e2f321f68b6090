//! The Google Cloud and Azure setup kits, proven against the emulators:
//! an identity granted exactly what the kit's custom role lists validates
//! with every scope; without one of its permissions, validation fails
//! naming that one.

use std::{collections::HashMap, sync::Arc, time::Duration};

use cloudconn_proto::v1::{self as pb, AzureCredentials, GcpCredentials, complete_connection_request::Credentials};
use cloudconn_tests::{
    emulators::{self, azure, gcp},
    harness::{app::TestApp, fixtures},
};
use cloudconn_worker::config::Endpoints;

use crate::helpers::*;

const SCOPES: [&str; 4] = ["storage", "database", "messaging", "functions"];
const GCP_PROJECT: &str = "acme-prod-123";
const GCP_KEY: &str = include_str!("../../fixtures/gcp-test-key.pem");
const GCP_PUBLIC_KEY: &str = include_str!("../../fixtures/gcp-test-key.pub.pem");
const APP_FULL: &str = "22222222-0000-0000-0000-000000000001";
const APP_MINUS: &str = "22222222-0000-0000-0000-000000000002";

/// The kit's artifact `name` for a new `provider` connection with every scope.
async fn kit_artifact(provider: pb::Provider, name: &str) -> String {
    let app = TestApp::builder().dev().spawn().await;
    let request = pb::CreateConnectionRequest {
        workspace: "acme".into(),
        tag: "kit".into(),
        provider: provider.into(),
        scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    app.client.clone().create_connection(request).await.expect("create");
    let request = pb::GetSetupInstructionsRequest { workspace: "acme".into(), tag: "kit".into(), ..Default::default() };
    let kit = app.client.clone().get_setup_instructions(request).await.expect("kit").into_inner();
    let content =
        kit.steps.iter().flat_map(|s| &s.artifacts).find(|a| a.name == name).expect("artifact").content.clone();
    app.finish().await;
    content
}

async fn validate_with(app: &TestApp, tag: &str, provider: pb::Provider, credentials: Credentials) -> pb::Validation {
    let request = pb::CreateConnectionRequest {
        workspace: "acme".into(),
        tag: tag.into(),
        provider: provider.into(),
        scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    app.client.clone().create_connection(request).await.expect("create");
    complete(app, "acme", tag, credentials).await.expect("complete");
    validate(app, tag, Duration::from_secs(30)).await.expect("validate").validation.expect("validation")
}

/// The one missing permission of the validation, and the scope it is in.
fn missing(v: &pb::Validation) -> Vec<(String, Vec<String>)> {
    v.scope_checks.iter().filter(|c| !c.granted).map(|c| (c.scope.clone(), c.missing_permissions.clone())).collect()
}

#[tokio::test]
async fn a_service_account_with_the_gcp_kits_role_validates_and_each_permission_matters() {
    let role = kit_artifact(pb::Provider::Gcp, "custom-role.yaml").await;
    let permissions: Vec<String> = role
        .lines()
        .filter_map(|l| l.strip_prefix("  - "))
        .map(|p| serde_json::from_str(p).expect("a quoted permission"))
        .collect();
    let without = |dropped: &str| permissions.iter().filter(|p| *p != dropped).cloned().collect::<Vec<_>>();
    let account = |held: Vec<String>| gcp::Account {
        public_key_pem: GCP_PUBLIC_KEY.into(),
        key_disabled: false,
        projects: HashMap::from([(GCP_PROJECT.to_owned(), held)]),
        ..Default::default()
    };
    let google = Arc::new(gcp::Gcp::new(
        HashMap::from([
            ("full@acme-prod-123.iam.gserviceaccount.com".to_owned(), account(permissions.clone())),
            ("minus@acme-prod-123.iam.gserviceaccount.com".to_owned(), account(without("pubsub.topics.list"))),
        ]),
        HashMap::from([(GCP_PROJECT.to_owned(), ("123456789012".to_owned(), "Acme Prod".to_owned()))]),
    ));
    let emulator = emulators::serve(gcp::router(google.clone())).await;
    *google.audience.lock().unwrap() = format!("{}/token", emulator.url());
    let endpoints = Endpoints {
        gcp_token_url: format!("{}/token", emulator.url()),
        gcp_api_base: emulator.url(),
        gcp_iam_base: emulator.url(),
        ..Endpoints::default()
    };
    let app = TestApp::builder().with_real_probes(endpoints).spawn().await;
    let credentials = |email: &str| {
        let key = serde_json::json!({
            "type": "service_account", "project_id": GCP_PROJECT, "private_key": GCP_KEY, "client_email": email,
        });
        Credentials::Gcp(GcpCredentials {
            project_id: GCP_PROJECT.into(),
            service_account_json: key.to_string(),
            ..Default::default()
        })
    };
    let v =
        validate_with(&app, "gcp_full", pb::Provider::Gcp, credentials("full@acme-prod-123.iam.gserviceaccount.com"))
            .await;
    assert!(v.error.is_none() && v.scope_checks.iter().all(|c| c.granted), "the kit's role validates: {v:?}");
    let v =
        validate_with(&app, "gcp_minus", pb::Provider::Gcp, credentials("minus@acme-prod-123.iam.gserviceaccount.com"))
            .await;
    assert_eq!(v.error.as_ref().map(|e| e.code.as_str()), Some("ACCESS_DENIED"));
    assert_eq!(missing(&v), [("messaging".to_owned(), vec!["pubsub.topics.list".to_owned()])]);
    app.finish().await;
}

#[tokio::test]
async fn an_app_with_the_azure_kits_role_validates_and_each_action_matters() {
    let role: serde_json::Value =
        serde_json::from_str(&kit_artifact(pb::Provider::Azure, "custom-role.json").await).expect("JSON");
    let actions: Vec<String> =
        role["Actions"].as_array().expect("Actions").iter().map(|a| a.as_str().expect("a string").to_owned()).collect();
    let dropped = "Microsoft.DocumentDB/databaseAccounts/read";
    let app_with = |actions: Vec<String>| azure::App {
        tenant: fixtures::TENANT.into(),
        secret: "kit-secret".into(),
        secret_expired: false,
        subscriptions: vec![fixtures::SUBSCRIPTION.into()],
        permissions: vec![(actions, Vec::new())],
        ..Default::default()
    };
    let entra = azure::Azure::new(
        HashMap::from([
            (APP_FULL.to_owned(), app_with(actions.clone())),
            (APP_MINUS.to_owned(), app_with(actions.iter().filter(|a| *a != dropped).cloned().collect())),
        ]),
        vec![fixtures::TENANT.to_owned()],
        HashMap::from([(fixtures::SUBSCRIPTION.to_owned(), ("Acme Production".to_owned(), "Enabled".to_owned()))]),
    );
    let emulator = emulators::serve(azure::router(entra)).await;
    let endpoints = Endpoints {
        azure_authority: emulator.url(),
        azure_arm_base: emulator.url(),
        azure_graph_base: emulator.url(),
        ..Endpoints::default()
    };
    let app = TestApp::builder().with_real_probes(endpoints).spawn().await;
    let credentials = |client: &str| {
        Credentials::Azure(AzureCredentials {
            tenant_id: fixtures::TENANT.into(),
            subscription_id: fixtures::SUBSCRIPTION.into(),
            client_id: client.into(),
            client_secret: "kit-secret".into(),
            ..Default::default()
        })
    };
    let v = validate_with(&app, "az_full", pb::Provider::Azure, credentials(APP_FULL)).await;
    assert!(v.error.is_none() && v.scope_checks.iter().all(|c| c.granted), "the kit's role validates: {v:?}");
    let v = validate_with(&app, "az_minus", pb::Provider::Azure, credentials(APP_MINUS)).await;
    assert_eq!(v.error.as_ref().map(|e| e.code.as_str()), Some("ACCESS_DENIED"));
    assert_eq!(missing(&v), [("database".to_owned(), vec![dropped.to_owned()])]);
    app.finish().await;
}
