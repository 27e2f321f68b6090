//! Secrets never leave Vault: a unique canary in every secret field, the
//! whole lifecycle, then a search of the database (every table), the logs
//! and every response.

use cloudconn_proto::v1::{self as pb, GcpCredentials, complete_connection_request::Credentials};
use cloudconn_tests::harness::{app::TestApp, fixtures, logs};
use tonic::Status;

use crate::helpers::*;

/// Everything a caller received, as text: messages, and statuses with
/// their message and encoded details.
#[derive(Default)]
struct Seen(String);

impl Seen {
    fn ok<T: std::fmt::Debug>(&mut self, value: &T) {
        self.0.push_str(&format!("{value:?}\n"));
    }
    fn err(&mut self, status: &Status) {
        self.0.push_str(status.message());
        self.0.push_str(&String::from_utf8_lossy(status.details()));
        self.0.push_str(&format!("{:?}\n", status.metadata()));
    }
}

async fn lifecycle_with_canary(app: &TestApp) {
    let canary = format!("CANARY{}", uuid::Uuid::new_v4().simple());
    let mut seen = Seen::default();
    let mut client = app.client.clone();
    let mut events =
        (app.mode == cloudconn_server::config::Mode::Production).then_some(app.subscribe_events("#").await);

    for provider in fixtures::ALL_PROVIDERS {
        let tag = format!("k_{}", provider.as_str_name().to_lowercase());
        seen.ok(&create(app, "acme", &tag, provider).await);
        seen.ok(&complete(app, "acme", &tag, fixtures::credentials(provider, &canary)).await.unwrap());
        // A rotation with blank fields, reading the canary back from Vault.
        seen.ok(&complete(app, "acme", &tag, fixtures::blank(provider)).await.unwrap());
        seen.ok(&get(app, "acme", &tag).await.unwrap());
        seen.ok(&client
            .update_connection(pb::UpdateConnectionRequest {
                workspace: "acme".into(),
                tag: tag.clone(),
                description: Some("rotated".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner());
    }
    // Failing requests that carry the canary: errors must not echo it.
    create(app, "acme", "gcp_bad", pb::Provider::Gcp).await;
    let bad_key = fixtures::service_account_json(&canary).replace("service_account", "user");
    let err = complete(
        app,
        "acme",
        "gcp_bad",
        Credentials::Gcp(GcpCredentials {
            project_id: format!("p{canary}"),
            service_account_json: bad_key,
            ..Default::default()
        }),
    )
    .await
    .unwrap_err();
    seen.err(&err);
    let err =
        complete(app, "acme", "k_provider_aws", fixtures::credentials(pb::Provider::Azure, &canary)).await.unwrap_err();
    seen.err(&err);
    let err = client
        .create_connection(pb::CreateConnectionRequest {
            workspace: "acme".into(),
            tag: canary.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    seen.err(&err);

    let list = client
        .list_connections(pb::ListConnectionsRequest { workspace: "acme".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    seen.ok(&list);
    // Positive control: the canary really was stored, so the searches below
    // would have found it had it leaked.
    let azure = list.connections.iter().find(|c| c.provider() == pb::Provider::Azure).unwrap();
    let stored = vault_read(app, "acme", &azure.uid, 2).await.unwrap();
    assert!(stored["client_secret"].as_str().unwrap().contains(&canary));

    for connection in &list.connections {
        client
            .delete_connection(pb::DeleteConnectionRequest {
                workspace: "acme".into(),
                tag: connection.tag.clone(),
                etag: String::new(),
            })
            .await
            .unwrap();
    }

    assert!(!seen.0.contains(&canary), "a response carried a secret");
    if let Some(events) = events.as_mut() {
        // Connection events: 5 × (created, credentials_saved ×2, updated) +
        // gcp_bad created + 6 deletes; and as many audit events.
        let received = events.take(2 * (5 * 4 + 1 + 6), std::time::Duration::from_secs(10)).await;
        assert!(received.iter().any(|e| e.raw.contains("secretFieldsSet")), "events show which secrets are set");
        assert!(received.iter().any(|e| e.routing_key.contains(".audit.")), "audit events are searched too");
        assert!(!received.iter().any(|e| e.raw.contains(&canary)), "an event carried a secret");
    }
    let dump = app.dump_database().await;
    assert!(dump.contains("CompleteConnection"), "the dump sees the audit table");
    assert!(!dump.contains(&canary), "the database holds a secret");
    let logs = logs::captured();
    assert!(!logs.is_empty(), "logs were captured");
    assert!(!logs.contains(&canary), "a log line holds a secret");
    // What an OTLP collector would receive: names, attributes, events.
    let spans = format!("{:?}", logs::finished_spans());
    assert!(spans.contains("CompleteConnection"), "spans were collected");
    assert!(!spans.contains(&canary), "a span holds a secret");
}

#[tokio::test]
async fn canary_never_leaks_on_postgres() {
    let app = TestApp::spawn().await;
    lifecycle_with_canary(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn canary_never_leaks_on_sqlite() {
    let app = TestApp::builder().sqlite().spawn().await;
    lifecycle_with_canary(&app).await;
    app.finish().await;
}
