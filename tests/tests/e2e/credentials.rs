//! CompleteConnection: revisions in Vault, blank-keeps, validation of
//! credentials, and the purge of secrets on delete (Vault up and down).

use std::time::Duration;

use cloudconn_proto::v1::{self as pb, AzureCredentials, complete_connection_request::Credentials};
use cloudconn_tests::harness::{app::TestApp, fixtures};
use tonic::Code;

use crate::helpers::*;

fn azure(tenant: &str, secret: &str) -> Credentials {
    Credentials::Azure(AzureCredentials {
        tenant_id: tenant.into(),
        subscription_id: if tenant.is_empty() { String::new() } else { fixtures::SUBSCRIPTION.into() },
        client_id: if tenant.is_empty() { String::new() } else { fixtures::CLIENT.into() },
        client_secret: secret.into(),
        ..Default::default()
    })
}

#[tokio::test]
async fn every_provider_saves_a_revision_in_vault_and_shows_no_secret() {
    let app = TestApp::spawn().await;
    for provider in fixtures::ALL_PROVIDERS {
        let tag = format!("c_{}", provider.as_str_name().to_lowercase());
        let created = create(&app, "acme", &tag, provider).await;
        let marker = format!("marker-{tag}");
        let done = complete(&app, "acme", &tag, fixtures::credentials(provider, &marker)).await.unwrap();
        let view = done.credentials.clone().unwrap();
        assert_eq!(view.revision, 1, "{provider:?}");
        assert_eq!(view.active_revision, 0, "saving is not validating");
        assert!(view.update_time.is_some());
        assert_eq!(done.status(), pb::ConnectionStatus::Pending);
        assert_ne!(done.etag, created.etag);
        assert!(!format!("{done:?}").contains(&marker), "{provider:?}: a secret came back");

        let stored = vault_read(&app, "acme", &done.uid, 1).await.unwrap();
        let secret_values: Vec<&str> =
            stored.values().filter_map(|v| v.as_str()).filter(|v| v.contains(&marker)).collect();
        // AWS has no secret field: the role ARN is all it needs.
        let expected = usize::from(provider != pb::Provider::Aws);
        assert_eq!(secret_values.len(), expected, "{provider:?}: the secret field is in Vault");
        assert_eq!(view.secret_fields_set.len(), usize::from(provider != pb::Provider::Aws));
        for (name, value) in &view.fields {
            assert_eq!(
                stored[name].as_str(),
                Some(value.as_str()),
                "{provider:?}: non-secret {name} is shown as stored"
            );
        }
        assert_eq!(get(&app, "acme", &tag).await.unwrap(), done);
    }
    app.finish().await;
}

#[tokio::test]
async fn blank_fields_keep_the_stored_values() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    let v1 = complete(&app, "acme", "azure_main", azure(fixtures::TENANT, "secret-one")).await.unwrap();

    // Rotate only the secret: every other field is blank and kept.
    let v2 = complete(&app, "acme", "azure_main", azure("", "secret-two")).await.unwrap();
    let view = v2.credentials.unwrap();
    assert_eq!(view.revision, 2);
    assert_eq!(view.fields["tenant_id"], fixtures::TENANT);
    let stored = vault_read(&app, "acme", &v1.uid, 2).await.unwrap();
    assert_eq!(stored["client_secret"], "secret-two");
    assert_eq!(stored["tenant_id"], fixtures::TENANT);
    assert_eq!(stored["client_id"], fixtures::CLIENT);

    // Change a non-secret field with the secret blank: the secret is kept.
    let other_tenant = "99999999-8888-7777-6666-555555555555";
    let v3 = complete(
        &app,
        "acme",
        "azure_main",
        Credentials::Azure(AzureCredentials { tenant_id: other_tenant.into(), ..Default::default() }),
    )
    .await
    .unwrap();
    assert_eq!(v3.credentials.unwrap().revision, 3);
    let stored = vault_read(&app, "acme", &v1.uid, 3).await.unwrap();
    assert_eq!(stored["client_secret"], "secret-two");
    assert_eq!(stored["tenant_id"], other_tenant);
    // Older revisions are still readable (validation reads an exact revision).
    assert_eq!(vault_read(&app, "acme", &v1.uid, 1).await.unwrap()["client_secret"], "secret-one");
    app.finish().await;
}

#[tokio::test]
async fn bad_credentials_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let created = create(&app, "acme", "azure_main", pb::Provider::Azure).await;

    // First completion without every required field.
    let err = complete(&app, "acme", "azure_main", azure("", "only-a-secret")).await.unwrap_err();
    assert_invalid(&err, &["azure.tenant_id", "azure.subscription_id", "azure.client_id"]);
    // Malformed values, all named at once.
    let err = complete(
        &app,
        "acme",
        "azure_main",
        Credentials::Azure(AzureCredentials {
            tenant_id: "not-a-guid".into(),
            subscription_id: "1234".into(),
            client_id: fixtures::CLIENT.into(),
            client_secret: "s".into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap_err();
    assert_invalid(&err, &["azure.tenant_id", "azure.subscription_id"]);
    // Credentials of another provider.
    let err = complete(&app, "acme", "azure_main", fixtures::credentials(pb::Provider::Aws, "x")).await.unwrap_err();
    assert_code(&err, Code::FailedPrecondition, "PROVIDER_MISMATCH");
    // No credentials at all.
    let err = app
        .client
        .clone()
        .complete_connection(pb::CompleteConnectionRequest {
            workspace: "acme".into(),
            tag: "azure_main".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, &["credentials"]);
    // A stale etag.
    let ok = complete(&app, "acme", "azure_main", azure(fixtures::TENANT, "s1")).await.unwrap();
    let err = app
        .client
        .clone()
        .complete_connection(pb::CompleteConnectionRequest {
            workspace: "acme".into(),
            tag: "azure_main".into(),
            credentials: Some(azure("", "s2")),
            etag: created.etag.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_code(&err, Code::Aborted, "ETAG_MISMATCH");
    assert_eq!(get(&app, "acme", "azure_main").await.unwrap(), ok, "refusals changed nothing");
    assert_eq!(vault_version(&app, "acme", &created.uid).await, Some(1), "refusals wrote nothing to Vault");
    // Unknown connection.
    let err = complete(&app, "acme", "missing", azure(fixtures::TENANT, "s")).await.unwrap_err();
    assert_code(&err, Code::NotFound, "CONNECTION_NOT_FOUND");
    app.finish().await;
}

#[tokio::test]
async fn each_provider_format_is_checked() {
    let app = TestApp::spawn().await;
    use pb::{AwsCredentials, GcpCredentials, MongoDbAtlasCredentials};
    let cases: Vec<(pb::Provider, Credentials, Vec<&str>)> = vec![
        (
            pb::Provider::Aws,
            Credentials::Aws(AwsCredentials { role_arn: "arn:aws:iam::123:role/x".into(), ..Default::default() }),
            vec!["aws.role_arn"],
        ),
        (
            pb::Provider::Gcp,
            Credentials::Gcp(GcpCredentials {
                project_id: "Bad_Project".into(),
                service_account_json: "{\"type\":\"user\"}".into(),
                ..Default::default()
            }),
            vec!["gcp.project_id", "gcp.service_account_json"],
        ),
        (
            pb::Provider::MongodbAtlas,
            Credentials::MongodbAtlas(MongoDbAtlasCredentials {
                project_id: "not-hex".into(),
                atlas_public_key: "k".into(),
                atlas_private_key: "p".repeat(16 * 1024 + 1),
            }),
            vec!["mongodb_atlas.project_id", "mongodb_atlas.atlas_public_key", "mongodb_atlas.atlas_private_key"],
        ),
    ];
    for (provider, credentials, fields) in cases {
        let tag = format!("f_{}", provider.as_str_name().to_lowercase());
        create(&app, "acme", &tag, provider).await;
        let err = complete(&app, "acme", &tag, credentials).await.unwrap_err();
        assert_invalid(&err, &fields);
    }
    app.finish().await;
}

#[tokio::test]
async fn delete_destroys_every_version() {
    let app = TestApp::spawn().await;
    let created = create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", azure(fixtures::TENANT, "one")).await.unwrap();
    complete(&app, "acme", "azure_main", azure("", "two")).await.unwrap();
    assert_eq!(vault_version(&app, "acme", &created.uid).await, Some(2));

    delete(&app, "acme", "azure_main").await.unwrap();
    assert_eq!(vault_version(&app, "acme", &created.uid).await, None, "metadata and all versions are gone");
    assert!(vault_read(&app, "acme", &created.uid, 1).await.is_err());
    assert_eq!(app.pending_purges().await, 0);
    app.finish().await;
}

#[tokio::test]
async fn delete_while_vault_is_down_is_purged_once_it_returns() {
    let app = TestApp::builder().with_vault_proxy().spawn().await;
    let created = create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", azure(fixtures::TENANT, "one")).await.unwrap();

    let proxy = app.vault_proxy.as_ref().unwrap();
    proxy.down();
    // Saving needs Vault: refused promptly, and nothing half-written.
    let err = complete(&app, "acme", "azure_main", azure("", "two")).await.unwrap_err();
    assert_code(&err, Code::Unavailable, "DEPENDENCY_UNAVAILABLE");
    assert_eq!(get(&app, "acme", "azure_main").await.unwrap().credentials.unwrap().revision, 1);

    // Deleting does not wait for Vault: the row goes, the purge is queued.
    delete(&app, "acme", "azure_main").await.unwrap();
    assert_eq!(get(&app, "acme", "azure_main").await.unwrap_err().code(), Code::NotFound);
    assert_eq!(app.pending_purges().await, 1);
    assert_eq!(vault_version(&app, "acme", &created.uid).await, Some(1), "still in Vault while it is unreachable");

    proxy.up();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while app.pending_purges().await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "purge did not complete within 30 s of Vault returning");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(vault_version(&app, "acme", &created.uid).await, None, "the orphan was destroyed");
    app.finish().await;
}
