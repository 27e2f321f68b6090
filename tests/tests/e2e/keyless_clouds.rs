//! Keyless connections as production runs them: the server (its JWKS from
//! Vault transit), a worker over RabbitMQ signing with the transit key
//! under its own Vault policy, and each cloud's stand-in verifying the
//! token against the JWKS it fetches from the server (the stand-in's
//! "DNS" sends the `https://` issuer to the server's loopback address).
//! For AWS, Google Cloud and Azure: the seed flow to ACTIVE, an issue, no
//! secret in Vault; a trust on another subject and another audience fails
//! naming the claim; a token signed by another key is refused.

use std::time::Duration;

use cloudconn_proto::v1::{self as pb, complete_connection_request::Credentials, issued_credentials};
use cloudconn_tests::{
    emulators::{magic, sandbox::Sandbox},
    harness::{
        app::TestApp,
        auth::{Bearer, TokenSpec},
        logs,
    },
};
use cloudconn_worker::config::Endpoints;

use crate::helpers::*;

/// The stand-ins, aimed at by the worker, trusting the app's issuer.
async fn keyless_app() -> (TestApp, Sandbox) {
    let sandbox = Sandbox::start().await;
    let endpoints = Endpoints {
        aws_endpoint: Some(sandbox.aws.url()),
        gcp_token_url: sandbox.gcp_token_url(),
        gcp_api_base: sandbox.gcp.url(),
        gcp_iam_base: sandbox.gcp.url(),
        gcp_sts_url: format!("{}/v1/token", sandbox.gcp.url()),
        gcp_iam_credentials_base: sandbox.gcp.url(),
        azure_authority: sandbox.azure.url(),
        azure_arm_base: sandbox.azure.url(),
        azure_graph_base: sandbox.azure.url(),
        atlas_base: sandbox.atlas.url(),
        aura_base: sandbox.aura.url(),
    };
    let app = TestApp::builder().with_oidc(Duration::from_secs(60)).with_real_probes(endpoints).spawn().await;
    let issuer = app.worker_config.oidc.oidc_issuer.clone().expect("issuer");
    sandbox.trust_issuer(&issuer, &format!("http://{}", app.addr));
    (app, sandbox)
}

fn aws(role: &str) -> Credentials {
    Credentials::Aws(pb::AwsCredentials {
        role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
        kind: "web_identity".into(),
    })
}

fn gcp(provider_id: &str) -> Credentials {
    Credentials::Gcp(pb::GcpCredentials {
        project_id: "acme-prod-123".into(),
        kind: "workload_identity".into(),
        workload_identity_provider: format!(
            "projects/123456789012/locations/global/workloadIdentityPools/cloudconn/providers/{provider_id}"
        ),
        service_account_email: "cloudconn-app@acme-prod-123.iam.gserviceaccount.com".into(),
        ..Default::default()
    })
}

fn azure(client_id: &str) -> Credentials {
    Credentials::Azure(pb::AzureCredentials {
        tenant_id: "11111111-1111-4111-8111-111111111111".into(),
        subscription_id: "22222222-2222-4222-8222-222222222222".into(),
        client_id: client_id.into(),
        kind: "federated".into(),
        ..Default::default()
    })
}

async fn connect(app: &TestApp, tag: &str, provider: pb::Provider, credentials: Credentials) -> pb::Validation {
    let request = pb::CreateConnectionRequest {
        workspace: "acme".into(),
        tag: tag.into(),
        provider: provider.into(),
        scopes: vec!["storage".into()],
        ..Default::default()
    };
    app.client.clone().create_connection(request).await.expect("create");
    complete(app, "acme", tag, credentials).await.expect("complete");
    validate(app, tag, Duration::from_secs(60)).await.expect("validate").validation.expect("validation")
}

async fn issue(app: &TestApp, tag: &str) -> pb::IssuedCredentials {
    let request = pb::IssueCredentialsRequest {
        workspace: "acme".into(),
        tag: tag.into(),
        scope: "storage".into(),
        consumer: "billing-api/prd".into(),
        ttl: None,
    };
    // A component's token: it may issue in `acme`, nothing else.
    let token = app.token(&TokenSpec {
        sub: "billing-api",
        workspaces: &["acme"],
        scope: "connections:use",
        ..TokenSpec::default()
    });
    app.client_with(Bearer::new(&token)).issue_credentials(request).await.expect("issue").into_inner()
}

/// The start of every token cloudconn signs (its header, `{"alg":"RS256","kid":"…`),
/// base64url-encoded: what a leaked token would show.
fn token_prefix() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&br#"{"alg":"RS256","kid":""#[..21])
}

#[tokio::test]
async fn each_cloud_connects_and_issues_with_nothing_secret_in_vault() {
    logs::init();
    let (app, _sandbox) = keyless_app().await;
    let cases = [
        ("prod_aws", pb::Provider::Aws, aws("app")),
        ("prod_gcp", pb::Provider::Gcp, gcp("cloudconn")),
        ("prod_azure", pb::Provider::Azure, azure("33333333-3333-4333-8333-333333333333")),
    ];
    for (tag, provider, credentials) in cases {
        let validation = connect(&app, tag, provider, credentials).await;
        assert_eq!(validation.state(), pb::ValidationState::Succeeded, "{tag}: {:?}", validation.error);
        let connection = get(&app, "acme", tag).await.expect("get");
        assert_eq!(connection.status(), pb::ConnectionStatus::Active, "{tag}");
        // Vault holds identifiers and the kind, nothing secret.
        let stored = vault_read(&app, "acme", &connection.uid, 1).await.expect("vault");
        for secret in ["client_secret", "service_account_json"] {
            assert!(!stored.contains_key(secret), "{tag}: {secret} stored");
        }
        assert!(connection.credentials.expect("view").secret_fields_set.is_empty(), "{tag}");
        let issued = issue(&app, tag).await;
        match issued.credentials.expect("credentials") {
            issued_credentials::Credentials::Aws(s) => assert!(!s.session_token.is_empty()),
            issued_credentials::Credentials::Gcp(t) | issued_credentials::Credentials::Azure(t) => {
                assert!(!t.access_token.is_empty(), "{tag}")
            }
            other => panic!("{tag}: {other:?}"),
        }
    }
    // The tokens signed for those six exchanges are credentials for five
    // minutes: in no log line (dependencies at debug included), span or row.
    let (prefix, logged) = (token_prefix(), logs::captured());
    assert!(logged.contains("validation result recorded"), "logs were captured");
    assert!(!logged.contains(&prefix), "a log line holds a signed token");
    assert!(!format!("{:?}", logs::finished_spans()).contains(&prefix), "a span holds a signed token");
    assert!(!app.dump_database().await.contains(&prefix), "the database holds a signed token");
    app.finish().await;
}

#[tokio::test]
async fn a_trust_on_another_subject_or_audience_fails_naming_the_claim() {
    let (app, _sandbox) = keyless_app().await;
    let subject = magic::guid("sandbox-wrong-subject").expect("guid");
    let audience = magic::guid("sandbox-wrong-audience").expect("guid");
    let cases = [
        ("aws_sub", pb::Provider::Aws, aws("sandbox-wrong-subject"), "(sub)"),
        ("aws_aud", pb::Provider::Aws, aws("sandbox-wrong-audience"), "(aud)"),
        ("gcp_sub", pb::Provider::Gcp, gcp("sandbox-wrong-subject"), "(sub)"),
        ("gcp_aud", pb::Provider::Gcp, gcp("sandbox-wrong-audience"), "(aud)"),
        ("azure_sub", pb::Provider::Azure, azure(&subject), "(sub)"),
        ("azure_aud", pb::Provider::Azure, azure(&audience), "(aud)"),
    ];
    for (tag, provider, credentials, claim) in cases {
        let validation = connect(&app, tag, provider, credentials).await;
        let error = validation.error.unwrap_or_else(|| panic!("{tag}: no error"));
        assert!(error.message.contains(claim), "{tag}: {error:?}");
        assert!(error.hint.contains("workspace:acme:connection:") || claim == "(aud)", "{tag}: {error:?}");
        assert!(!error.retryable, "{tag}: {error:?}");
    }
    app.finish().await;
}

/// Serves `discovery` and `jwks` as an issuer's documents on a free port.
async fn documents(discovery: serde_json::Value, jwks: serde_json::Value) -> std::net::SocketAddr {
    use axum::{Json, Router, routing::get};
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(move || async move { Json(discovery) }))
        .route("/.well-known/jwks.json", get(move || async move { Json(jwks) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

#[tokio::test]
async fn a_token_the_published_keys_did_not_sign_is_refused_by_every_cloud() {
    let (app, sandbox) = keyless_app().await;
    let issuer = app.worker_config.oidc.oidc_issuer.clone().expect("issuer");
    // The same issuer and kid, but another key: what a cloud that fetched
    // an impostor's JWKS (or cloudconn's tokens signed by a stolen-looking
    // key) would hold. One changed character of the modulus is another key.
    let base = format!("http://{}", app.addr);
    let discovery: serde_json::Value =
        reqwest::get(format!("{base}/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    let mut jwks: serde_json::Value =
        reqwest::get(format!("{base}/.well-known/jwks.json")).await.unwrap().json().await.unwrap();
    let n = jwks["keys"][0]["n"].as_str().expect("n").to_owned();
    let middle = n.len() / 2;
    let flipped = if &n[middle..=middle] == "A" { "B" } else { "A" };
    jwks["keys"][0]["n"] = format!("{}{flipped}{}", &n[..middle], &n[middle + 1..]).into();
    let impostor = documents(discovery, jwks).await;
    sandbox.trust_issuer(&issuer, &format!("http://{impostor}"));

    let cases = [
        ("forged_aws", pb::Provider::Aws, aws("app")),
        ("forged_gcp", pb::Provider::Gcp, gcp("cloudconn")),
        ("forged_azure", pb::Provider::Azure, azure("44444444-4444-4444-8444-444444444444")),
    ];
    for (tag, provider, credentials) in cases {
        let validation = connect(&app, tag, provider, credentials).await;
        let error = validation.error.unwrap_or_else(|| panic!("{tag}: accepted a token its keys did not sign"));
        assert_eq!(error.code, "INVALID_CREDENTIALS", "{tag}: {error:?}");
        assert!(error.message.contains("(iss)"), "{tag}: {error:?}");
    }
    app.finish().await;
}
