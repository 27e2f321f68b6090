//! WatchConnections: live events over gRPC, scoped to a workspace (and tag).

use std::time::Duration;

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, fixtures};
use tonic::Streaming;

use crate::helpers::*;

pub(crate) async fn watch(app: &TestApp, workspace: &str, tag: &str) -> Streaming<pb::ConnectionEvent> {
    app.client
        .clone()
        .watch_connections(pb::WatchConnectionsRequest { workspace: workspace.into(), tag: tag.into() })
        .await
        .expect("watch")
        .into_inner()
}

pub(crate) async fn next(stream: &mut Streaming<pb::ConnectionEvent>, within: Duration) -> Option<pb::ConnectionEvent> {
    tokio::time::timeout(within, stream.message()).await.ok().map(|m| m.expect("stream ok").expect("stream open"))
}

/// The server's feed binds to the events exchange shortly after start;
/// make sure it is live before the part of the test that counts events.
pub(crate) async fn warm_up(app: &TestApp, stream: &mut Streaming<pb::ConnectionEvent>) {
    for i in 0..50 {
        create(app, "acme", &format!("warmup_{i}"), pb::Provider::Gcp).await;
        if next(stream, Duration::from_millis(200)).await.is_some() {
            // Drain anything else the warm-up produced.
            while next(stream, Duration::from_millis(200)).await.is_some() {}
            return;
        }
    }
    panic!("the watch feed never became live");
}

async fn watch_sees_the_lifecycle(app: &TestApp) {
    let mut all = watch(app, "acme", "").await;
    warm_up(app, &mut all).await;
    let mut one = watch(app, "acme", "prod_aws").await;
    let mut other = watch(app, "globex", "").await;

    create(app, "acme", "prod_aws", pb::Provider::Aws).await;
    create(app, "acme", "unrelated", pb::Provider::Gcp).await;
    let saved = complete_and_validate(app, "acme", "prod_aws", fixtures::credentials(pb::Provider::Aws, "")).await;
    assert!(saved.last_validation.is_some());

    let mut types = Vec::new();
    while types.len() < 4 {
        let event = next(&mut one, Duration::from_secs(15)).await.expect("an event for prod_aws");
        let connection = event.connection.unwrap();
        assert_eq!((connection.workspace.as_str(), connection.tag.as_str()), ("acme", "prod_aws"));
        assert!(!event.id.is_empty() && event.time.is_some());
        types.push(event.r#type);
    }
    assert_eq!(
        types,
        [
            "cloudconn.connection.created.v1",
            "cloudconn.connection.credentials_saved.v1",
            "cloudconn.connection.validation_requested.v1",
            "cloudconn.connection.activated.v1"
        ]
    );
    // The workspace-wide watcher also saw the other connection.
    let mut tags = Vec::new();
    while let Some(event) = next(&mut all, Duration::from_millis(500)).await {
        tags.push(event.connection.unwrap().tag);
    }
    assert!(tags.contains(&"unrelated".to_owned()) && tags.contains(&"prod_aws".to_owned()), "{tags:?}");
    // Another workspace's watcher saw nothing.
    assert!(next(&mut other, Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn watchers_get_their_workspaces_events_over_grpc() {
    let app = TestApp::spawn().await;
    watch_sees_the_lifecycle(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn watch_works_in_dev_mode() {
    let app = TestApp::builder().dev().spawn().await;
    watch_sees_the_lifecycle(&app).await;
    app.finish().await;
}

/// A replica subscribes to the events only while someone watches. The
/// first watcher's call returns once the subscription is live (its first
/// change is seen without any warm-up), and after the subscription was
/// dropped for want of watchers, the next watcher brings it back.
#[tokio::test]
async fn the_event_subscription_follows_the_watchers() {
    let app = TestApp::builder().with_watch_idle(Duration::from_millis(200)).spawn().await;
    for round in 0..2 {
        let mut stream = watch(&app, "acme", "").await;
        let tag = format!("round_{round}");
        create(&app, "acme", &tag, pb::Provider::Gcp).await;
        let event = next(&mut stream, Duration::from_secs(5)).await;
        let event =
            event.unwrap_or_else(|| panic!("round {round}: no event for the first change after Watch returned"));
        assert_eq!(event.connection.unwrap().tag, tag);
        drop(stream);
        // Long enough for the idle subscription to be dropped.
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    app.finish().await;
}

#[tokio::test]
async fn watch_checks_its_arguments() {
    let app = TestApp::spawn().await;
    let err = app
        .client
        .clone()
        .watch_connections(pb::WatchConnectionsRequest { workspace: "Bad!".into(), tag: "X".into() })
        .await
        .unwrap_err();
    assert_invalid(&err, &["workspace", "tag"]);
    app.finish().await;
}

#[tokio::test]
async fn watch_streams_are_bounded_per_caller_and_end_with_their_token() {
    use cloudconn_tests::harness::auth::{Bearer, TokenSpec};
    use tonic::Code;
    let app = TestApp::builder().without_worker().spawn().await;
    let open = |token: String| {
        let mut client = app.client_with(Bearer::new(&token));
        async move {
            client.watch_connections(pb::WatchConnectionsRequest { workspace: "acme".into(), tag: String::new() }).await
        }
    };

    // One subject's share of streams, then a refusal; others still watch.
    let greedy = app.token(&TokenSpec { sub: "greedy", ..Default::default() });
    let mut held = Vec::new();
    for _ in 0..cloudconn_server::watch::MAX_STREAMS_PER_SUBJECT {
        held.push(open(greedy.clone()).await.expect("within the share").into_inner());
    }
    let refused = open(greedy.clone()).await.expect_err("over the share");
    assert_code(&refused, Code::ResourceExhausted, "RATE_LIMITED");
    let mut other = open(app.token(&TokenSpec::default())).await.expect("another caller watches").into_inner();
    drop(held.pop());
    let _again = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(s) = open(greedy.clone()).await {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("a closed stream gives its share back");

    // A stream ends when its token does, even though events keep coming.
    let short = app.token(&TokenSpec { sub: "short", expires_in: 2, ..Default::default() });
    let mut expiring = open(short).await.expect("watch").into_inner();
    create(&app, "acme", "prod_aws", pb::Provider::Aws).await;
    assert!(next(&mut other, Duration::from_secs(10)).await.is_some(), "the other watcher sees the change");
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match expiring.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the stream ended without saying why"),
                Err(status) => return status,
            }
        }
    })
    .await
    .expect("the stream ends once its token expires");
    assert_eq!(ended.code(), Code::Unauthenticated, "{ended:?}");
    app.finish().await;
}
