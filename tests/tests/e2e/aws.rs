//! The AWS probe, with the official SDK, against moto: the shared moto of
//! the test stack (no IAM enforcement) and a private one that enforces IAM,
//! trust policies and their `sts:ExternalId` condition.

use std::time::Duration;

use cloudconn_proto::v1::{self as pb, AwsCredentials, complete_connection_request::Credentials};
use cloudconn_tests::harness::{app::TestApp, env, fixtures, moto::MotoIam};
use cloudconn_worker::config::Endpoints;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(30);

/// moto is a Python server that loads each service on first use: give the
/// nine calls of one AWS probe room.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

fn moto_at(endpoint: String) -> Endpoints {
    Endpoints { aws_endpoint: Some(endpoint), ..Endpoints::default() }
}

async fn aws_connection(app: &TestApp, tag: &str, scopes: &[&str]) -> pb::Connection {
    app.client
        .clone()
        .create_connection(pb::CreateConnectionRequest {
            workspace: "acme".into(),
            tag: tag.into(),
            provider: pb::Provider::Aws.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner()
}

/// A private moto with the platform's user `cloudconn-platform` (allowed
/// sts:AssumeRole), and an app whose AWS probe signs as that user. Roles
/// are created next, then [`MotoIam::enforce`] turns IAM on.
async fn enforcing_moto_app() -> (MotoIam, TestApp) {
    let moto = MotoIam::start().await;
    let platform = moto.user("cloudconn-platform", &["sts:AssumeRole"]).await;
    let app = TestApp::builder()
        .with_real_probes(moto_at(moto.endpoint.clone()))
        .with_aws_platform_key(platform)
        .with_probe_timeout(PROBE_TIMEOUT)
        .spawn()
        .await;
    (moto, app)
}

async fn save_and_validate(app: &TestApp, tag: &str, role_arn: &str) -> pb::ValidateConnectionResponse {
    complete(app, "acme", tag, Credentials::Aws(AwsCredentials { role_arn: role_arn.into(), ..Default::default() }))
        .await
        .unwrap();
    validate(app, tag, WAIT).await.unwrap()
}

#[tokio::test]
async fn aws_probe_assumes_the_role_through_sts_on_moto() {
    let app = TestApp::builder()
        .with_real_probes(moto_at(env::aws_endpoint()))
        .with_probe_timeout(PROBE_TIMEOUT)
        .spawn()
        .await;
    let c = aws_connection(&app, "prod_aws", &["storage", "database", "messaging", "functions"]).await;
    let done = save_and_validate(&app, "prod_aws", fixtures::ROLE_ARN).await;
    let v = done.validation.unwrap();
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{v:?}");
    assert_eq!(v.identity["account_id"], "123456789012");
    assert!(v.identity["arn"].contains("assumed-role/cloudconn-access/cloudconn-validate-"), "{:?}", v.identity);
    assert_eq!(v.scope_checks.len(), 4);
    assert!(v.scope_checks.iter().all(|s| s.granted), "{:?}", v.scope_checks);
    // This moto enforces no trust policy, so AssumeRole without the
    // external id works too: exactly what the warning is for.
    assert!(v.warnings.iter().any(|w| w.contains(&c.external_id)), "{:?}", v.warnings);
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Active);
    app.finish().await;
}

/// With IAM enforced: a role that grants only some scopes fails with
/// ACCESS_DENIED naming the missing permissions, and a trust policy that
/// wants another external id fails with EXTERNAL_ID_MISMATCH and a hint
/// quoting this connection's id (the spec's code for AccessDenied on
/// AssumeRole; AWS does not tell "wrong external id" from "not trusted").
#[tokio::test]
async fn aws_denials_on_an_iam_enforcing_moto() {
    let (moto, app) = enforcing_moto_app().await;

    // Connections first: each role's trust policy names an external id.
    let partial = aws_connection(&app, "partial", &["storage", "messaging"]).await;
    aws_connection(&app, "foreign", &["storage"]).await;
    let partial_role =
        moto.role("partial", "cloudconn-platform", Some(&partial.external_id), &["s3:ListAllMyBuckets"]).await;
    let foreign_role =
        moto.role("foreign", "cloudconn-platform", Some("another-tenants-external-id"), &["s3:ListAllMyBuckets"]).await;
    moto.enforce().await;

    let done = save_and_validate(&app, "partial", &partial_role).await;
    let v = done.validation.unwrap();
    assert_eq!(v.state(), pb::ValidationState::Failed, "{v:?}");
    assert_eq!(v.error.as_ref().unwrap().code, "ACCESS_DENIED", "{v:?}");
    let scope = |name: &str| v.scope_checks.iter().find(|c| c.scope == name).unwrap().clone();
    assert!(scope("storage").granted);
    assert_eq!(scope("messaging").missing_permissions, ["sqs:ListQueues", "sns:ListTopics"]);
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Failed);

    let done = save_and_validate(&app, "foreign", &foreign_role).await;
    let v = done.validation.unwrap();
    assert_eq!(v.state(), pb::ValidationState::Failed, "{v:?}");
    let error = v.error.unwrap();
    assert_eq!(error.code, "EXTERNAL_ID_MISMATCH");
    assert!(error.message.contains(&foreign_role), "{}", error.message);
    let foreign = get(&app, "acme", "foreign").await.unwrap();
    assert!(error.hint.contains(&format!("\"sts:ExternalId\": \"{}\"", foreign.external_id)), "{}", error.hint);
    app.finish().await;
}

/// The confused-deputy check (security review H5), with the default
/// CLOUDCONN_AWS_EXTERNAL_ID_CHECK=fail: a role whose trust policy has no
/// `sts:ExternalId` condition, or one that matches any id (`StringLike
/// "*"`), lets cloudconn in with a foreign external id, so its validation
/// fails with EXTERNAL_ID_NOT_ENFORCED (final) and a hint quoting the exact
/// condition; a role that requires this connection's id goes ACTIVE
/// without a warning.
#[tokio::test]
async fn aws_role_without_an_external_id_condition_fails_validation() {
    let (moto, app) = enforcing_moto_app().await;
    let open = aws_connection(&app, "open", &["storage"]).await;
    let wildcard = aws_connection(&app, "wildcard", &["storage"]).await;
    let guarded = aws_connection(&app, "guarded", &["storage"]).await;
    let open_role = moto.role("open", "cloudconn-platform", None, &["s3:ListAllMyBuckets"]).await;
    // A condition that is there but matches every id: the attack works too.
    let any_id = serde_json::json!({"StringLike": {"sts:ExternalId": "*"}});
    let wildcard_role =
        moto.role_with_condition("wildcard", "cloudconn-platform", Some(any_id), &["s3:ListAllMyBuckets"]).await;
    let guarded_role =
        moto.role("guarded", "cloudconn-platform", Some(&guarded.external_id), &["s3:ListAllMyBuckets"]).await;
    moto.enforce().await;

    let done = save_and_validate(&app, "open", &open_role).await;
    let v = done.validation.unwrap();
    assert_eq!(v.state(), pb::ValidationState::Failed, "{v:?}");
    let error = v.error.clone().unwrap();
    assert_eq!(error.code, "EXTERNAL_ID_NOT_ENFORCED", "{v:?}");
    assert!(!error.retryable, "{error:?}");
    assert!(error.message.contains(&open_role), "{}", error.message);
    let condition = format!("\"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"{}\"}}}}", open.external_id);
    assert!(error.hint.contains(&condition), "{}", error.hint);
    // Nothing about the role is reported: no identity, no permission map.
    assert!(v.identity.is_empty() && v.scope_checks.is_empty(), "{v:?}");
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Failed);
    assert_ne!(get(&app, "acme", "open").await.unwrap().status(), pb::ConnectionStatus::Active);

    let done = save_and_validate(&app, "wildcard", &wildcard_role).await;
    let v = done.validation.unwrap();
    assert_eq!(v.error.as_ref().map(|e| e.code.as_str()), Some("EXTERNAL_ID_NOT_ENFORCED"), "{v:?}");
    assert!(v.error.unwrap().hint.contains(&wildcard.external_id));
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Failed);

    let done = save_and_validate(&app, "guarded", &guarded_role).await;
    let v = done.validation.unwrap();
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{v:?}");
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Active);
    app.finish().await;
}
