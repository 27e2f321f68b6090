//! The run step end to end with the product's minters: the server, a real
//! worker over RabbitMQ and a provider emulator that counts its requests
//! and keeps the accounts minting creates (MongoDB Atlas's temporary
//! database users). What each minter sends a provider: `minting.rs`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use cloudconn_proto::v1::{self as pb, MongoDbAtlasCredentials, complete_connection_request::Credentials};
use cloudconn_tests::{
    emulators::{self, mongodb_atlas},
    harness::{
        app::TestApp,
        auth::{Bearer, TokenSpec},
        fixtures,
    },
};
use cloudconn_worker::config::Endpoints;

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

#[tokio::test]
async fn atlas_users_are_minted_once_per_key_and_removed_on_rotation_and_delete() {
    let state = Arc::new(mongodb_atlas::Atlas::new(
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
    ));
    let atlas = emulators::serve(mongodb_atlas::router(state.clone())).await;
    let app =
        TestApp::builder().with_real_probes(Endpoints { atlas_base: atlas.url(), ..Default::default() }).spawn().await;
    let users = || state.database_users(fixtures::ATLAS_PROJECT);
    create(&app, "acme", "prod_atlas", pb::Provider::MongodbAtlas).await;
    complete(&app, "acme", "prod_atlas", atlas_key()).await.unwrap();
    let done = validate(&app, "prod_atlas", WAIT).await.unwrap();
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Active);
    let token =
        app.token(&TokenSpec { sub: "etl", workspaces: &["acme"], scope: "connections:use", ..TokenSpec::default() });
    let caller = app.client_with(Bearer::new(&token));

    // 50 concurrent first calls: one user at Atlas, the same one for all.
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let mut caller = caller.clone();
            tokio::spawn(async move { caller.issue_credentials(issue("etl/prd")).await })
        })
        .collect();
    let mut names = Vec::new();
    for call in calls {
        let issued = call.await.unwrap().unwrap().into_inner();
        let Some(pb::issued_credentials::Credentials::MongodbAtlas(user)) = issued.credentials else {
            panic!("not a database user: {issued:?}")
        };
        names.push(user.username);
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
