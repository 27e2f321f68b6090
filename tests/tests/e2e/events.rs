//! Public events: every lifecycle change is published to `<p>.events` as a
//! CloudEvent, through the outbox, even when RabbitMQ was down at the time.

use std::{collections::HashSet, time::Duration};

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, fixtures};
use prost_types::FieldMask;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn every_change_is_published_in_order_as_a_cloudevent() {
    let app = TestApp::spawn().await;
    let mut all = app.subscribe_events("*.connection.*").await;
    let mut other_workspace = app.subscribe_events("globex.connection.*").await;

    let created = create(&app, "acme", "prod_aws", pb::Provider::Aws).await;
    complete(&app, "acme", "prod_aws", fixtures::credentials(pb::Provider::Aws, "")).await.unwrap();
    app.client
        .clone()
        .update_connection(pb::UpdateConnectionRequest {
            workspace: "acme".into(),
            tag: "prod_aws".into(),
            display_name: Some("Prod".into()),
            update_mask: Some(FieldMask { paths: vec!["display_name".into()] }),
            ..Default::default()
        })
        .await
        .unwrap();
    delete(&app, "acme", "prod_aws").await.unwrap();

    let events = all.take(4, WAIT).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.routing_key.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "acme.connection.created",
            "acme.connection.credentials_saved",
            "acme.connection.updated",
            "acme.connection.deleted"
        ]
    );
    let mut ids = HashSet::new();
    for (event, name) in events.iter().zip(["created", "credentials_saved", "updated", "deleted"]) {
        let body = &event.body;
        assert_eq!(event.content_type, "application/cloudevents+json");
        assert_eq!(body["specversion"], "1.0");
        assert_eq!(body["type"], format!("cloudconn.connection.{name}.v1"));
        assert_eq!(body["source"], "/workspaces/acme/connections/prod_aws");
        assert_eq!(body["subject"], "prod_aws");
        assert_eq!(body["id"], event.message_id, "the AMQP message id is the event id");
        assert!(ids.insert(event.message_id.clone()), "event ids are unique");
        assert!(event.traceparent.is_some(), "every message carries a W3C traceparent");
        assert_eq!(body["data"]["uid"], created.uid);
        assert_eq!(body["data"]["externalId"], created.external_id, "proto3 JSON field names");
    }
    assert_eq!(events[1].body["data"]["credentials"]["revision"], "1");
    assert_eq!(events[1].body["data"]["credentials"]["fields"]["role_arn"], fixtures::ROLE_ARN);
    assert_eq!(events[2].body["data"]["displayName"], "Prod");
    assert_eq!(events[3].body["data"]["displayName"], "Prod", "deleted carries the connection as it was");

    // Routing keys start with the workspace: a subscriber to another
    // workspace sees none of this.
    create(&app, "globex", "other", pb::Provider::Gcp).await;
    let theirs = other_workspace.next(WAIT).await;
    assert_eq!(theirs.routing_key, "globex.connection.created");
    app.finish().await;
}

#[tokio::test]
async fn changes_made_while_rabbitmq_is_down_are_published_when_it_returns() {
    let app = TestApp::builder().with_amqp_proxy().spawn().await;
    let mut events = app.subscribe_events("*.connection.*").await;
    let proxy = app.amqp_proxy.as_ref().unwrap();
    proxy.down();

    // The API does not depend on the broker: changes commit with their
    // outbox rows, and the relay keeps them until it can publish.
    for i in 0..3 {
        create(&app, "acme", &format!("made_offline_{i}"), pb::Provider::Gcp).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Each create's event and its audit event.
    assert_eq!(app.unsent_outbox().await, 6, "events wait in the outbox while RabbitMQ is unreachable");

    proxy.up();
    let received = events.take(3, Duration::from_secs(20)).await;
    let tags: Vec<String> = received.iter().map(|e| e.body["subject"].as_str().unwrap().to_owned()).collect();
    assert_eq!(tags, ["made_offline_0", "made_offline_1", "made_offline_2"]);
    app.finish().await;
}

/// Published rows go once they are older than the retention; rows still
/// waiting for the broker stay, however old.
#[tokio::test]
async fn published_outbox_rows_are_pruned_after_the_retention_unsent_ones_kept() {
    let app = TestApp::builder().with_amqp_proxy().with_outbox_retention(Duration::from_millis(300)).spawn().await;
    create(&app, "acme", "published", pb::Provider::Gcp).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.unsent_outbox().await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "never published");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.amqp_proxy.as_ref().unwrap().down();
    create(&app, "acme", "waiting", pb::Provider::Gcp).await;
    while app.sent_outbox().await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "published rows never pruned");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(app.unsent_outbox().await, 2, "the unsent event and audit event outlive the retention");
    app.amqp_proxy.as_ref().unwrap().up();
    app.finish().await;
}

#[tokio::test]
async fn every_change_also_publishes_an_audit_event() {
    let app = TestApp::spawn().await;
    let mut audit = app.subscribe_events("acme.audit.*").await;
    create(&app, "acme", "prod_aws", pb::Provider::Aws).await;
    delete(&app, "acme", "prod_aws").await.unwrap();
    let received = audit.take(2, WAIT).await;
    let keys: Vec<&str> = received.iter().map(|e| e.routing_key.as_str()).collect();
    assert_eq!(keys, ["acme.audit.create_connection", "acme.audit.delete_connection"]);
    let body = &received[0].body;
    assert_eq!(body["type"], "cloudconn.audit.v1");
    assert_eq!(body["data"]["actor"], "test-admin");
    assert_eq!(body["data"]["tag"], "prod_aws");
    assert_eq!(body["id"], received[0].message_id, "the AMQP message id is the event id");
    app.finish().await;
}
