//! Create, get, update and delete: happy paths and every error code.

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::app::TestApp;
use prost_types::FieldMask;
use tonic::Code;

use crate::helpers::*;

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

async fn lifecycle_round_trip(app: &TestApp) {
    let created = create(app, "acme", "prod_aws", pb::Provider::Aws).await;
    assert_eq!(created.status(), pb::ConnectionStatus::Pending);
    assert_eq!(created.display_name, "prod_aws", "display_name defaults to the tag");
    assert_eq!(created.external_id.len(), 32);
    assert!(created.external_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(!created.etag.is_empty() && !created.uid.is_empty());
    assert_eq!(created.credentials.as_ref().map(|c| c.revision), Some(0));

    let fetched = get(app, "acme", "prod_aws").await.unwrap();
    assert_eq!(fetched, created, "a get returns what the create returned");

    let updated = app
        .client
        .clone()
        .update_connection(pb::UpdateConnectionRequest {
            workspace: "acme".into(),
            tag: "prod_aws".into(),
            display_name: Some("Production AWS".into()),
            description: Some("main account".into()),
            scopes: vec!["functions".into()],
            update_mask: mask(&["display_name", "description", "scopes"]),
            etag: created.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.display_name, "Production AWS");
    assert_eq!(updated.description, "main account");
    assert_eq!(updated.scopes, ["functions"]);
    assert_ne!(updated.etag, created.etag);
    assert_eq!(updated.external_id, created.external_id, "the external id never changes");
    assert_eq!(get(app, "acme", "prod_aws").await.unwrap(), updated);

    app.client
        .clone()
        .delete_connection(pb::DeleteConnectionRequest {
            workspace: "acme".into(),
            tag: "prod_aws".into(),
            etag: updated.etag,
        })
        .await
        .unwrap();
    let gone = get(app, "acme", "prod_aws").await.unwrap_err();
    assert_code(&gone, Code::NotFound, "CONNECTION_NOT_FOUND");

    // The tag is free again; the new connection is a different one.
    let again = create(app, "acme", "prod_aws", pb::Provider::Aws).await;
    assert_ne!(again.uid, created.uid);
    assert_ne!(again.external_id, created.external_id);
}

#[tokio::test]
async fn lifecycle_round_trip_on_postgres() {
    let app = TestApp::spawn().await;
    lifecycle_round_trip(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn lifecycle_round_trip_on_sqlite() {
    let app = TestApp::builder().sqlite().spawn().await;
    lifecycle_round_trip(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn create_names_every_bad_field_and_refuses_a_taken_tag() {
    let app = TestApp::spawn().await;
    let mut client = app.client.clone();

    let err = client
        .create_connection(pb::CreateConnectionRequest {
            workspace: "Acme!".into(),
            tag: "1-bad".into(),
            provider: 0,
            display_name: "x".repeat(129),
            description: "y".repeat(1025),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, &["workspace", "tag", "provider", "display_name", "description"]);

    let err = client
        .create_connection(pb::CreateConnectionRequest {
            workspace: "acme".into(),
            tag: "atlas".into(),
            provider: pb::Provider::MongodbAtlas.into(),
            scopes: vec!["database".into(), "storage".into(), "database".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, &["scopes[1]", "scopes[2]"]);

    let err = client
        .create_connection(pb::CreateConnectionRequest {
            workspace: "acme".into(),
            tag: "no_scopes".into(),
            provider: pb::Provider::Gcp.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, &["scopes"]);

    let first = create(&app, "acme", "shared_tag", pb::Provider::Gcp).await;
    let err = client
        .create_connection(pb::CreateConnectionRequest {
            workspace: "acme".into(),
            tag: "shared_tag".into(),
            provider: pb::Provider::Azure.into(),
            scopes: vec!["storage".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_code(&err, Code::AlreadyExists, "TAG_ALREADY_EXISTS");
    assert_eq!(get(&app, "acme", "shared_tag").await.unwrap(), first, "the existing connection is untouched");

    // Tags are unique per workspace, not globally.
    let other = create(&app, "globex", "shared_tag", pb::Provider::Gcp).await;
    assert_ne!(other.uid, first.uid);
    assert!(first.external_id.is_empty(), "only AWS connections get an external id");
    app.finish().await;
}

#[tokio::test]
async fn create_is_idempotent_on_request_id() {
    let app = TestApp::spawn().await;
    let request = pb::CreateConnectionRequest {
        workspace: "acme".into(),
        tag: "prod_aws".into(),
        provider: pb::Provider::Aws.into(),
        scopes: vec!["storage".into()],
        request_id: "9b2f4c1e-3a57-4d8e-9c0f-1a2b3c4d5e6f".into(),
        ..Default::default()
    };
    // Two concurrent retries and a late one all get the same connection.
    let (mut c1, mut c2) = (app.client.clone(), app.client.clone());
    let (a, b) = tokio::join!(c1.create_connection(request.clone()), c2.create_connection(request.clone()));
    let (a, b) = (a.unwrap().into_inner(), b.unwrap().into_inner());
    let c = app.client.clone().create_connection(request.clone()).await.unwrap().into_inner();
    assert_eq!(a.uid, b.uid);
    assert_eq!(a.uid, c.uid);
    assert_eq!(a.external_id, c.external_id);

    // The same key with different content is a client bug, not a retry.
    let err = app
        .client
        .clone()
        .create_connection(pb::CreateConnectionRequest { tag: "other_tag".into(), ..request.clone() })
        .await
        .unwrap_err();
    assert_code(&err, Code::FailedPrecondition, "REQUEST_ID_REUSED");
    assert_eq!(get(&app, "acme", "other_tag").await.unwrap_err().code(), Code::NotFound);

    // Without a key, a repeat is a new create and hits the taken tag.
    let err = app
        .client
        .clone()
        .create_connection(pb::CreateConnectionRequest { request_id: String::new(), ..request })
        .await
        .unwrap_err();
    assert_code(&err, Code::AlreadyExists, "TAG_ALREADY_EXISTS");
    app.finish().await;
}

#[tokio::test]
async fn update_follows_aip_134_and_etags() {
    let app = TestApp::spawn().await;
    let created = create(&app, "acme", "analytics", pb::Provider::Gcp).await;
    let mut client = app.client.clone();
    let base = pb::UpdateConnectionRequest { workspace: "acme".into(), tag: "analytics".into(), ..Default::default() };

    // Empty mask: only the fields the request sets change.
    let u1 = client
        .update_connection(pb::UpdateConnectionRequest { description: Some("BigQuery".into()), ..base.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(u1.description, "BigQuery");
    assert_eq!(u1.display_name, "analytics");
    assert_eq!(u1.scopes, created.scopes);
    assert_ne!(u1.etag, created.etag);

    // display_name "" reverts to the tag.
    let u2 = client
        .update_connection(pb::UpdateConnectionRequest { display_name: Some("Analytics".into()), ..base.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(u2.display_name, "Analytics");
    let u3 = client
        .update_connection(pb::UpdateConnectionRequest { display_name: Some(String::new()), ..base.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(u3.display_name, "analytics");

    // A masked field that the request leaves unset is cleared.
    let u4 = client
        .update_connection(pb::UpdateConnectionRequest { update_mask: mask(&["description"]), ..base.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(u4.description, "");

    // A no-op changes nothing, not even the etag.
    let u5 = client
        .update_connection(pb::UpdateConnectionRequest { description: Some(String::new()), ..base.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(u5.etag, u4.etag);

    // Immutable and unknown mask paths, scopes the provider does not allow.
    let err = client
        .update_connection(pb::UpdateConnectionRequest {
            update_mask: mask(&["tag", "provider", "colour"]),
            ..base.clone()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, &["update_mask.paths[0]", "update_mask.paths[1]", "update_mask.paths[2]"]);
    let err = client
        .update_connection(pb::UpdateConnectionRequest {
            scopes: vec!["storage".into(), "mail".into()],
            ..base.clone()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, &["scopes[1]"]);
    let err = client
        .update_connection(pb::UpdateConnectionRequest { update_mask: mask(&["scopes"]), ..base.clone() })
        .await
        .unwrap_err();
    assert_invalid(&err, &["scopes"]);
    let err = client
        .update_connection(pb::UpdateConnectionRequest { display_name: Some("d".repeat(129)), ..base.clone() })
        .await
        .unwrap_err();
    assert_invalid(&err, &["display_name"]);

    // A stale etag is refused and changes nothing.
    let err = client
        .update_connection(pb::UpdateConnectionRequest {
            description: Some("lost update".into()),
            etag: created.etag.clone(),
            ..base.clone()
        })
        .await
        .unwrap_err();
    assert_code(&err, Code::Aborted, "ETAG_MISMATCH");
    assert_eq!(get(&app, "acme", "analytics").await.unwrap(), u5);

    let err = client
        .update_connection(pb::UpdateConnectionRequest { tag: "missing".into(), description: Some("x".into()), ..base })
        .await
        .unwrap_err();
    assert_code(&err, Code::NotFound, "CONNECTION_NOT_FOUND");
    app.finish().await;
}

#[tokio::test]
async fn delete_honours_the_etag_and_reports_missing_connections() {
    let app = TestApp::spawn().await;
    let created = create(&app, "acme", "aura", pb::Provider::Neo4jAura).await;
    let mut client = app.client.clone();
    let err = client
        .delete_connection(pb::DeleteConnectionRequest {
            workspace: "acme".into(),
            tag: "aura".into(),
            etag: "stale-1".into(),
        })
        .await
        .unwrap_err();
    assert_code(&err, Code::Aborted, "ETAG_MISMATCH");
    assert!(get(&app, "acme", "aura").await.is_ok(), "a refused delete deletes nothing");

    // Another workspace cannot delete it, and sees NOT_FOUND.
    let err = client
        .delete_connection(pb::DeleteConnectionRequest {
            workspace: "globex".into(),
            tag: "aura".into(),
            etag: String::new(),
        })
        .await
        .unwrap_err();
    assert_code(&err, Code::NotFound, "CONNECTION_NOT_FOUND");

    client
        .delete_connection(pb::DeleteConnectionRequest {
            workspace: "acme".into(),
            tag: "aura".into(),
            etag: created.etag,
        })
        .await
        .unwrap();
    let err = client
        .delete_connection(pb::DeleteConnectionRequest {
            workspace: "acme".into(),
            tag: "aura".into(),
            etag: String::new(),
        })
        .await
        .unwrap_err();
    assert_code(&err, Code::NotFound, "CONNECTION_NOT_FOUND");
    let err = client
        .delete_connection(pb::DeleteConnectionRequest {
            workspace: "acme".into(),
            tag: "A".into(),
            etag: String::new(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, &["tag"]);
    app.finish().await;
}
