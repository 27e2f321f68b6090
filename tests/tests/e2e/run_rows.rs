//! A repeat IssueCredentials is answered from the replica's copy of the
//! connection row (docs/run.md, "How it behaves"): a change made on the
//! replica stops its repeats at once, a change made on another replica
//! within `CLOUDCONN_ISSUE_ROW_MAX_AGE_MS`.

use std::time::{Duration, Instant};

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, env::SharedDatabase, scripted_mint::ScriptedMint};
use tonic::Code;

use crate::{
    helpers::*,
    run_hits::{active, component, request},
};

/// Takes the `storage` scope away from `tag`, through `app`.
async fn only_database(app: &TestApp, tag: &str) {
    app.client
        .clone()
        .update_connection(pb::UpdateConnectionRequest {
            workspace: "acme".into(),
            tag: tag.into(),
            scopes: vec!["database".into()],
            update_mask: Some(prost_types::FieldMask { paths: vec!["scopes".into()] }),
            ..Default::default()
        })
        .await
        .unwrap();
}

/// With copies that would otherwise live a minute, a scope removed and a
/// connection deleted on this replica stop its repeats on the next call.
#[tokio::test]
async fn this_replicas_changes_stop_its_repeats_at_once() {
    let mint = ScriptedMint::new("tok");
    let app = TestApp::builder()
        .with_minters(mint.everywhere())
        .with_issue_row_max_age(Duration::from_secs(60))
        .spawn()
        .await;
    active(&app, "acme", "prod_gcp").await;
    active(&app, "acme", "gone_gcp").await;
    let mut caller = component(&app, "billing-api", "acme");
    for tag in ["prod_gcp", "gone_gcp"] {
        for _ in 0..2 {
            caller.issue_credentials(request("acme", tag, "billing-api")).await.unwrap();
        }
    }
    assert_eq!(mint.calls(), 2, "the second call of each was a repeat");

    only_database(&app, "prod_gcp").await;
    let refused = caller.issue_credentials(request("acme", "prod_gcp", "billing-api")).await.unwrap_err();
    assert_code(&refused, Code::FailedPrecondition, "SCOPE_NOT_GRANTED");

    delete(&app, "acme", "gone_gcp").await.unwrap();
    let refused = caller.issue_credentials(request("acme", "gone_gcp", "billing-api")).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    app.finish().await;
}

/// Two replicas on one database: a scope removed on the other one stops
/// this one's repeats once its copy ages out (1 s here), not never.
#[tokio::test]
async fn another_replicas_change_stops_repeats_within_the_row_max_age() {
    let database = SharedDatabase::create().await;
    let mint = ScriptedMint::new("tok");
    let here = TestApp::builder().with_minters(mint.everywhere()).on_database(&database.name).spawn().await;
    let there = TestApp::builder().without_worker().on_database(&database.name).spawn().await;
    active(&here, "acme", "prod_gcp").await;
    let mut caller = component(&here, "billing-api", "acme");
    caller.issue_credentials(request("acme", "prod_gcp", "billing-api")).await.unwrap();

    only_database(&there, "prod_gcp").await;
    let changed = Instant::now();
    let refused = loop {
        match caller.issue_credentials(request("acme", "prod_gcp", "billing-api")).await {
            Ok(_) => {
                assert!(changed.elapsed() < Duration::from_secs(5), "repeats still served 5 s after the change");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(refused) => break refused,
        }
    };
    assert_code(&refused, Code::FailedPrecondition, "SCOPE_NOT_GRANTED");
    assert_eq!(mint.calls(), 1, "nothing minted meanwhile");
    here.finish().await;
    there.finish().await;
    database.drop_now().await;
}
