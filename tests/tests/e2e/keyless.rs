//! Keyless connections through the public API: the catalogue offers the
//! keyless kind first; an AWS `web_identity` connection stores no secret,
//! goes ACTIVE and issues credentials through a stand-in that verifies
//! cloudconn's token against the JWKS the server publishes (`--dev` is its
//! own issuer, the provider sandbox trusts it); a trust on another subject
//! fails naming `sub`; a server that is no issuer refuses the kind.

use std::time::Duration;

use cloudconn_proto::v1::{self as pb, complete_connection_request::Credentials, issued_credentials};
use cloudconn_tests::harness::app::TestApp;

use crate::helpers::*;

fn web_identity(role: &str) -> Credentials {
    Credentials::Aws(pb::AwsCredentials {
        role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
        kind: "web_identity".into(),
    })
}

async fn create_aws(app: &TestApp, tag: &str) {
    let request = pb::CreateConnectionRequest {
        workspace: "acme".into(),
        tag: tag.into(),
        provider: pb::Provider::Aws.into(),
        scopes: vec!["storage".into()],
        ..Default::default()
    };
    app.client.clone().create_connection(request).await.expect("create");
}

#[tokio::test]
async fn an_aws_web_identity_connection_stores_no_secret_goes_active_and_issues() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;

    let catalogue = app.client.clone().list_providers(pb::ListProvidersRequest {}).await.expect("catalogue");
    let aws = catalogue.into_inner().providers.into_iter().find(|p| p.provider() == pb::Provider::Aws).expect("aws");
    assert_eq!(aws.default_kind, "assume_role");
    let first = &aws.kinds[0];
    assert_eq!((first.name.as_str(), first.keyless), ("web_identity", true));
    assert_eq!(first.issuer_url, format!("http://127.0.0.1:{}", app.addr.port()));

    create_aws(&app, "prod_aws").await;
    let saved = complete(&app, "acme", "prod_aws", web_identity("app")).await.expect("complete");
    let view = saved.credentials.expect("credentials view");
    assert_eq!(view.fields["kind"], "web_identity");
    assert!(view.secret_fields_set.is_empty());

    let done = validate(&app, "prod_aws", Duration::from_secs(60)).await.expect("validate");
    let validation = done.validation.expect("validation");
    assert_eq!(validation.state(), pb::ValidationState::Succeeded, "{:?}", validation.error);
    assert_eq!(get(&app, "acme", "prod_aws").await.expect("get").status(), pb::ConnectionStatus::Active);

    let issued = app
        .client
        .clone()
        .issue_credentials(pb::IssueCredentialsRequest {
            workspace: "acme".into(),
            tag: "prod_aws".into(),
            scope: "storage".into(),
            consumer: "billing-api/prd".into(),
            ttl: None,
        })
        .await
        .expect("issue")
        .into_inner();
    let Some(issued_credentials::Credentials::Aws(session)) = issued.credentials else { panic!("AWS credentials") };
    assert!(!session.access_key_id.is_empty() && !session.session_token.is_empty());
    assert!(session.assumed_role_arn.contains("role/app/cc-billing-api-prd"), "{}", session.assumed_role_arn);
    app.finish().await;
}

#[tokio::test]
async fn a_trust_on_another_subject_fails_naming_sub() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    create_aws(&app, "prod_aws").await;
    complete(&app, "acme", "prod_aws", web_identity("sandbox-wrong-subject")).await.expect("complete");
    let done = validate(&app, "prod_aws", Duration::from_secs(60)).await.expect("validate");
    let error = done.validation.expect("validation").error.expect("an error");
    assert_eq!(error.code, "ACCESS_DENIED", "{error:?}");
    assert!(error.message.contains("(sub)"), "{error:?}");
    assert!(error.hint.contains(":sub\": \"workspace:acme:connection:"), "{error:?}");
    app.finish().await;
}

#[tokio::test]
async fn a_server_that_is_no_issuer_refuses_keyless_kinds_naming_the_field() {
    let app = TestApp::builder().spawn().await;
    create_aws(&app, "prod_aws").await;
    let refused = complete(&app, "acme", "prod_aws", web_identity("app")).await.unwrap_err();
    assert_invalid(&refused, &["aws.kind"]);
    assert!(
        refused.message().contains("CLOUDCONN_OIDC_ISSUER") || format!("{refused:?}").contains("CLOUDCONN_OIDC_ISSUER")
    );
    app.finish().await;
}

#[tokio::test]
async fn the_keyless_kits_trust_the_issuer_for_this_connection_only_and_grant_the_table() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let issuer = format!("http://127.0.0.1:{}", app.addr.port());
    let scratch = crate::setup_kit::tempdir();
    for (provider, kind, trust_file) in [
        (pb::Provider::Aws, "web_identity", "trust-policy.json"),
        (pb::Provider::Gcp, "workload_identity", "setup.sh"),
        (pb::Provider::Azure, "federated", "federated-credential.json"),
    ] {
        let tag = format!("kit_{kind}");
        let request = pb::CreateConnectionRequest {
            workspace: "acme".into(),
            tag: tag.clone(),
            provider: provider.into(),
            scopes: vec!["storage".into(), "messaging".into()],
            ..Default::default()
        };
        let created = app.client.clone().create_connection(request).await.expect("create").into_inner();
        let subject = format!("workspace:acme:connection:{}", created.uid);
        let request = pb::GetSetupInstructionsRequest { workspace: "acme".into(), tag: tag.clone(), kind: kind.into() };
        let kit = app.client.clone().get_setup_instructions(request).await.expect("kit").into_inner();
        let artifacts: Vec<&pb::SetupArtifact> = kit.steps.iter().flat_map(|s| &s.artifacts).collect();
        for artifact in &artifacts {
            crate::setup_kit::lint(artifact, &scratch);
            // Nothing secret is made: no key file, no client secret.
            assert!(!artifact.content.contains("keys create") && !artifact.content.contains("credential reset"));
        }
        let trust = artifacts.iter().find(|a| a.name == trust_file).unwrap_or_else(|| panic!("{kind}: {trust_file}"));
        // IAM names the provider by the issuer's host (`<host>:sub`).
        let host = issuer.trim_start_matches("http://");
        assert!(trust.content.contains(&subject) && trust.content.contains(host), "{kind}: {}", trust.content);
        let save = artifacts.iter().find(|a| a.name == "setup.sh").expect("setup.sh");
        assert!(save.content.contains(&format!("kind={kind}")), "{kind}: saves the kind");
    }
    // A kind the provider does not have is refused naming `kind`.
    let request = pb::GetSetupInstructionsRequest {
        workspace: "acme".into(),
        tag: "kit_federated".into(),
        kind: "web_identity".into(),
    };
    let refused = app.client.clone().get_setup_instructions(request).await.unwrap_err();
    assert_invalid(&refused, &["kind"]);
    app.finish().await;
}
