//! ListConnections: pages, filters, and tokens bound to their listing.

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::app::TestApp;

use crate::helpers::*;

async fn list(app: &TestApp, req: pb::ListConnectionsRequest) -> Result<pb::ListConnectionsResponse, tonic::Status> {
    app.client.clone().list_connections(req).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn pages_cover_every_connection_once_in_tag_order() {
    let app = TestApp::spawn().await;
    let providers = [pb::Provider::Aws, pb::Provider::Gcp, pb::Provider::Azure, pb::Provider::MongodbAtlas];
    let mut tags = Vec::new();
    for i in 0..7 {
        let tag = format!("conn_{i:02}");
        create(&app, "acme", &tag, providers[i % providers.len()]).await;
        tags.push(tag);
    }
    create(&app, "globex", "conn_99", pb::Provider::Aws).await;

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = list(
            &app,
            pb::ListConnectionsRequest {
                workspace: "acme".into(),
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        pages += 1;
        assert!(page.connections.len() <= 3);
        seen.extend(page.connections.into_iter().map(|c| c.tag));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, tags, "every connection of the workspace, once, ordered by tag");

    // page_size 0 means the default (50): one page.
    let all = list(&app, pb::ListConnectionsRequest { workspace: "acme".into(), ..Default::default() }).await.unwrap();
    assert_eq!(all.connections.len(), 7);
    assert!(all.next_page_token.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn filters_by_provider_and_status() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "a_aws", pb::Provider::Aws).await;
    create(&app, "acme", "b_gcp", pb::Provider::Gcp).await;
    create(&app, "acme", "c_aws", pb::Provider::Aws).await;

    let aws = list(
        &app,
        pb::ListConnectionsRequest {
            workspace: "acme".into(),
            provider: pb::Provider::Aws.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let tags: Vec<_> = aws.connections.iter().map(|c| c.tag.as_str()).collect();
    assert_eq!(tags, ["a_aws", "c_aws"]);

    let pending = list(
        &app,
        pb::ListConnectionsRequest {
            workspace: "acme".into(),
            status: pb::ConnectionStatus::Pending.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(pending.connections.len(), 3);
    let active = list(
        &app,
        pb::ListConnectionsRequest {
            workspace: "acme".into(),
            status: pb::ConnectionStatus::Active.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(active.connections.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn bad_page_requests_are_invalid_arguments() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        create(&app, "acme", &format!("t_{i}"), pb::Provider::Gcp).await;
    }
    let first = list(&app, pb::ListConnectionsRequest { workspace: "acme".into(), page_size: 1, ..Default::default() })
        .await
        .unwrap();
    let token = first.next_page_token;
    assert!(!token.is_empty());

    let err = list(&app, pb::ListConnectionsRequest { workspace: "acme".into(), page_size: -1, ..Default::default() })
        .await
        .unwrap_err();
    assert_invalid(&err, &["page_size"]);
    let err = list(
        &app,
        pb::ListConnectionsRequest { workspace: "acme".into(), page_token: "not-a-token".into(), ..Default::default() },
    )
    .await
    .unwrap_err();
    assert_invalid(&err, &["page_token"]);
    // A token only continues the listing it came from.
    let err = list(
        &app,
        pb::ListConnectionsRequest { workspace: "globex".into(), page_token: token.clone(), ..Default::default() },
    )
    .await
    .unwrap_err();
    assert_invalid(&err, &["page_token"]);
    let err = list(
        &app,
        pb::ListConnectionsRequest {
            workspace: "acme".into(),
            page_token: token.clone(),
            provider: pb::Provider::Gcp.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_invalid(&err, &["page_token"]);
    let err = list(&app, pb::ListConnectionsRequest { workspace: String::new(), provider: 42, ..Default::default() })
        .await
        .unwrap_err();
    assert_invalid(&err, &["workspace", "provider"]);
    // Over 1000 is coerced, not refused.
    let big =
        list(&app, pb::ListConnectionsRequest { workspace: "acme".into(), page_size: 5000, ..Default::default() })
            .await
            .unwrap();
    assert_eq!(big.connections.len(), 3);
    app.finish().await;
}
