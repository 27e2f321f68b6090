//! The run step end to end with the product's minters: the server, a real
//! worker over RabbitMQ and a provider emulator that counts its requests
//! and keeps the accounts minting creates (MongoDB Atlas's temporary
//! database users). What each minter sends a provider: `minting.rs`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use cloudconn_proto::v1::{self as pb, MongoDbAtlasCredentials, complete_connection_request::Credentials};
use cloudconn_tests::{
    emulators::{self, Emulator, Fault, mongodb_atlas},
    harness::{
        app::{TestApp, TestAppBuilder},
        auth::{Bearer, Client, TokenSpec},
        fixtures,
    },
};
use cloudconn_worker::config::Endpoints;
use tonic::Code;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(20);

fn atlas_key() -> Credentials {
    Credentials::MongodbAtlas(MongoDbAtlasCredentials {
        project_id: fixtures::ATLAS_PROJECT.into(),
        atlas_public_key: "goodkey1".into(),
        atlas_private_key: "atlas-private-1".into(),
    })
}

fn issue(consumer: &str) -> pb::IssueCredentialsRequest {
    pb::IssueCredentialsRequest {
        workspace: "acme".into(),
        tag: "prod_atlas".into(),
        scope: "database".into(),
        consumer: consumer.into(),
        ttl: None,
    }
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !check() {
        assert!(std::time::Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An Atlas stand-in holding the fixture project, for the key `goodkey1`.
fn atlas_state() -> Arc<mongodb_atlas::Atlas> {
    Arc::new(mongodb_atlas::Atlas::new(
        HashMap::from([(
            "goodkey1".to_owned(),
            mongodb_atlas::Key {
                private_key: "atlas-private-1".into(),
                projects: vec![fixtures::ATLAS_PROJECT.into()],
                can_read_clusters: true,
                ip_blocked: false,
            },
        )]),
        HashMap::from([(fixtures::ATLAS_PROJECT.to_owned(), "acme-prod".to_owned())]),
    ))
}

/// The app (its worker minting against `atlas`) with an ACTIVE Atlas
/// connection `prod_atlas`, and a caller holding `connections:use`.
async fn active_atlas(builder: TestAppBuilder, atlas: &Emulator) -> (TestApp, Client) {
    let app = builder.with_real_probes(Endpoints { atlas_base: atlas.url(), ..Default::default() }).spawn().await;
    create(&app, "acme", "prod_atlas", pb::Provider::MongodbAtlas).await;
    complete(&app, "acme", "prod_atlas", atlas_key()).await.unwrap();
    let done = validate(&app, "prod_atlas", WAIT).await.unwrap();
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Active);
    let token =
        app.token(&TokenSpec { sub: "etl", workspaces: &["acme"], scope: "connections:use", ..TokenSpec::default() });
    let caller = app.client_with(Bearer::new(&token));
    (app, caller)
}

/// The database user of an answer.
fn username(issued: pb::IssuedCredentials) -> String {
    match issued.credentials {
        Some(pb::issued_credentials::Credentials::MongodbAtlas(user)) => user.username,
        other => panic!("not a database user: {other:?}"),
    }
}

#[tokio::test]
async fn atlas_users_are_minted_once_per_key_and_removed_on_rotation_and_delete() {
    let state = atlas_state();
    let atlas = emulators::serve(mongodb_atlas::router(state.clone())).await;
    let (app, caller) = active_atlas(TestApp::builder(), &atlas).await;
    let users = || state.database_users(fixtures::ATLAS_PROJECT);

    // 50 concurrent first calls: one user at Atlas, the same one for all.
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let mut caller = caller.clone();
            tokio::spawn(async move { caller.issue_credentials(issue("etl/prd")).await })
        })
        .collect();
    let mut names = Vec::new();
    for call in calls {
        names.push(username(call.await.unwrap().unwrap().into_inner()));
    }
    names.dedup();
    assert_eq!(names.len(), 1, "{names:?}");
    let at_atlas = users();
    assert_eq!(at_atlas.len(), 1, "single flight: one user created");
    assert_eq!(at_atlas[0].username, names[0]);
    assert!(at_atlas[0].delete_after.is_some(), "the user expires at Atlas too");

    // A hit makes no provider call at all.
    let before = atlas.requests.total();
    caller.clone().issue_credentials(issue("etl/prd")).await.unwrap();
    assert_eq!(atlas.requests.total(), before, "a cache hit reached the provider");
    caller.clone().issue_credentials(issue("reports")).await.unwrap();
    assert_eq!(users().len(), 2, "another consumer, another user");

    // A rotation to revision 2 removes revision 1's users.
    complete(&app, "acme", "prod_atlas", atlas_key()).await.unwrap();
    validate(&app, "prod_atlas", WAIT).await.unwrap();
    until("revision 1's users removed", || users().is_empty()).await;
    let issued = caller.clone().issue_credentials(issue("etl/prd")).await.unwrap().into_inner();
    assert_eq!(issued.revision, 2, "minted anew from the new revision");
    assert_eq!(users().len(), 1);

    // A delete removes them all.
    delete(&app, "acme", "prod_atlas").await.unwrap();
    assert!(users().is_empty(), "the delete left users at Atlas: {:?}", users());
    app.finish().await;
}

/// Atlas allows a project 100 database users, the customer's own included.
/// cloudconn stops at 90 of them all: the next new consumer is refused
/// RESOURCE_EXHAUSTED / QUOTA_EXCEEDED naming the cap and Atlas's limit,
/// before Atlas would refuse, and the users never pass the cap. A consumer
/// that already has a user keeps it: minted again (the one-entry cache
/// forgot it), it gets the same user with a new password, no second one.
#[tokio::test]
async fn atlas_consumers_beyond_the_project_cap_are_refused_and_known_ones_keep_their_user() {
    let state = atlas_state();
    let atlas = emulators::serve(mongodb_atlas::router(state.clone())).await;
    let (app, caller) = active_atlas(TestApp::builder().with_issue_cache_entries(1), &atlas).await;
    let users = || state.database_users(fixtures::ATLAS_PROJECT);
    state.add_own_user(fixtures::ATLAS_PROJECT, "billing-app");

    let mut first = String::new();
    for i in 0..89 {
        let name = username(caller.clone().issue_credentials(issue(&format!("c{i}"))).await.unwrap().into_inner());
        if i == 0 {
            first = name;
        }
    }
    assert_eq!(users().len(), 90, "89 consumers and the customer's own user");
    // The review's scenario went on to the 101st consumer: every one from
    // the 90th is refused now, Atlas never refuses.
    for i in 89..101 {
        let refused = caller.clone().issue_credentials(issue(&format!("c{i}"))).await.unwrap_err();
        assert_code(&refused, Code::ResourceExhausted, "QUOTA_EXCEEDED");
        let message = refused.message();
        assert!(
            message.contains("90 (CLOUDCONN_ATLAS_PROJECT_USER_CAP)") && message.contains("limit of 100"),
            "{message}"
        );
        assert!(message.contains("already has 90 database users (89 of them cloudconn's"), "{message}");
    }
    assert_eq!(users().len(), 90, "no user beyond the cap");

    let before: Vec<_> = users().into_iter().filter(|u| u.username == first).collect();
    let again = caller.clone().issue_credentials(issue("c0")).await.unwrap().into_inner();
    let password = match &again.credentials {
        Some(pb::issued_credentials::Credentials::MongodbAtlas(user)) => user.password.clone(),
        other => panic!("not a database user: {other:?}"),
    };
    assert_eq!(username(again), first, "the consumer's own user, renewed");
    let after: Vec<_> = users().into_iter().filter(|u| u.username == first).collect();
    assert_eq!((before.len(), after.len(), users().len()), (1, 1, 90));
    assert!(after[0].password_is(&password), "the new password is the user's");
    app.finish().await;
}

/// When Atlas itself refuses a new user (a project whose limit is lower
/// than the cap assumes), the caller gets QUOTA_EXCEEDED too, not an
/// "unexpected answer".
#[tokio::test]
async fn atlas_refusing_a_user_for_its_limit_is_quota_exceeded() {
    let state = atlas_state();
    let atlas = emulators::serve(mongodb_atlas::router(state.clone())).await;
    let source = cloudconn_infra::config::Source::load(None, std::iter::empty()).unwrap();
    let mut worker = cloudconn_worker::config::WorkerConfig::from_source(&source).unwrap();
    worker.endpoints.atlas_base = atlas.url();
    worker.atlas_project_user_cap = 1_000;
    let minters = cloudconn_worker::mint::Minters::production(&worker);
    let (app, caller) = active_atlas(TestApp::builder().with_minters(minters), &atlas).await;
    for i in 0..mongodb_atlas::USERS_PER_PROJECT - 1 {
        state.add_own_user(fixtures::ATLAS_PROJECT, &format!("own-{i}"));
    }
    caller.clone().issue_credentials(issue("c0")).await.unwrap();
    let refused = caller.clone().issue_credentials(issue("c1")).await.unwrap_err();
    assert_code(&refused, Code::ResourceExhausted, "QUOTA_EXCEEDED");
    assert!(refused.message().contains("is at its limit of database users"), "{}", refused.message());
    app.finish().await;
}

/// An IssueCredentials call under way.
type Minting = tokio::task::JoinHandle<Result<tonic::Response<pb::IssuedCredentials>, tonic::Status>>;

/// An ACTIVE Atlas connection with one consumer's user, and a second
/// consumer's mint in flight: Atlas answers its create [`emulators::LATE`]
/// late, so the user appears after whatever revoke starts meanwhile.
async fn mint_in_flight() -> (TestApp, Emulator, Arc<mongodb_atlas::Atlas>, Minting) {
    let state = atlas_state();
    let atlas = emulators::serve(mongodb_atlas::router(state.clone())).await;
    // Long enough for the worker to wait for the late answer.
    let builder = TestApp::builder().with_probe_timeout(emulators::LATE * 2);
    let (app, caller) = active_atlas(builder, &atlas).await;
    caller.clone().issue_credentials(issue("etl/prd")).await.unwrap();
    let create = mongodb_atlas::MINT_CALLS[0];
    atlas.faults.on(create, Fault::Late, 1);
    let mut late = caller.clone();
    let minting = tokio::spawn(async move { late.issue_credentials(issue("reports")).await });
    until("the late create reached Atlas", || !atlas.faults.seen(create).is_empty()).await;
    assert_eq!(state.database_users(fixtures::ATLAS_PROJECT).len(), 1, "the late user is not there yet");
    (app, atlas, state, minting)
}

/// A mint in flight when the connection is deleted creates its user after
/// the delete's revoke listed the users. The revoke waits for that mint and
/// runs again, so the delete leaves nothing at Atlas.
#[tokio::test]
async fn a_mint_in_flight_during_a_delete_leaves_no_user_behind() {
    let (app, _atlas, state, minting) = mint_in_flight().await;
    let users = || state.database_users(fixtures::ATLAS_PROJECT);
    delete(&app, "acme", "prod_atlas").await.unwrap();
    // Atlas has answered the create by now.
    minting.await.unwrap().expect("the late mint succeeded");
    assert!(users().is_empty(), "the delete left users at Atlas: {:?}", users());
    app.finish().await;
}

/// The same during a rotation: the in-flight mint of revision 1 creates its
/// user after the rotation's revoke listed the users; the revoke runs
/// again, and no revision 1 user is left.
#[tokio::test]
async fn a_mint_in_flight_during_a_rotation_leaves_no_user_of_the_old_revision() {
    let (app, _atlas, state, minting) = mint_in_flight().await;
    let old = |name: &str| name.contains("-r1-");
    complete(&app, "acme", "prod_atlas", atlas_key()).await.unwrap();
    validate(&app, "prod_atlas", WAIT).await.unwrap();
    let issued = minting.await.unwrap().expect("the late mint succeeded").into_inner();
    assert!(old(&username(issued)), "minted from revision 1");
    until("revision 1's users removed", || {
        state.database_users(fixtures::ATLAS_PROJECT).iter().all(|u| !old(&u.username))
    })
    .await;
    app.finish().await;
}
