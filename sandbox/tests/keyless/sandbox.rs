//! `--dev`'s sandbox with an issuer: every account trusts the first
//! subject presented, with the default audiences, and names steer.

use cloudconn_sandbox::{aws::DEFAULT_AUDIENCE, azure, magic::guid, sandbox::Sandbox};

use crate::{
    aws::{assume, call_with_session, tag},
    azure::token,
    gcp::{audience, exchange, generate},
    issuer::{ISSUER, Issuer, Signer},
};

fn role(name: &str) -> String {
    format!("arn:aws:iam::123456789012:role/{name}")
}

fn provider(id: &str) -> String {
    format!("projects/123456789012/locations/global/workloadIdentityPools/cloudconn/providers/{id}")
}

const TENANT: &str = "11111111-2222-3333-4444-555555555555";

async fn sandbox() -> (Issuer, Sandbox) {
    let issuer = Issuer::start().await;
    let sandbox = Sandbox::start_with_issuer(Some((ISSUER.into(), issuer.server.url()))).await;
    (issuer, sandbox)
}

fn other_subject(aud: &str) -> String {
    Issuer::token_with(aud, |c| c["sub"] = "workspace:acme:connection:another".into())
}

#[tokio::test]
async fn aws_roles_trust_the_first_subject_and_their_names_steer() {
    let (_issuer, sandbox) = sandbox().await;
    let url = sandbox.aws.url();
    let token = Issuer::token(DEFAULT_AUDIENCE);
    let (status, body) = assume(&url, &role("DuctapeAccess"), &token, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(call_with_session(&url, &body, "s3", None).await, 200);
    let (status, body) = assume(&url, &role("DuctapeAccess"), &other_subject(DEFAULT_AUDIENCE), &[]).await;
    assert_eq!((status, tag(&body, "Code")), (403, "AccessDenied"), "the role pinned the first subject");

    let (_, body) = assume(&url, &role("sandbox-wrong-subject"), &token, &[]).await;
    assert_eq!(tag(&body, "Code"), "AccessDenied");
    let (_, body) = assume(&url, &role("sandbox-wrong-audience"), &token, &[]).await;
    assert_eq!((tag(&body, "Code"), tag(&body, "Message")), ("InvalidIdentityToken", "Incorrect token audience"));
    let (status, body) = assume(&url, &role("sandbox-denied"), &token, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(call_with_session(&url, &body, "s3", None).await, 403, "sandbox-denied: the permissions are missing");
    let (_, body) = assume(&url, &role("sandbox-throttled"), &token, &[]).await;
    assert_eq!(tag(&body, "Code"), "Throttling");
    let signed_elsewhere = Issuer::sign(&Issuer::claims(DEFAULT_AUDIENCE), Signer::Other);
    let (_, body) = assume(&url, &role("fresh"), &signed_elsewhere, &[]).await;
    assert_eq!(tag(&body, "Code"), "InvalidIdentityToken");
    // The forged token pinned nothing: the role still takes the real one.
    assert_eq!(assume(&url, &role("fresh"), &token, &[]).await.0, 200);
}

#[tokio::test]
async fn google_providers_trust_the_first_subject_and_their_ids_steer() {
    let (_issuer, sandbox) = sandbox().await;
    let url = sandbox.gcp.url();
    let acme = provider("acme");
    let (status, sts) = exchange(&url, &acme, &Issuer::token(&audience(&acme))).await;
    assert_eq!(status, 200, "{sts}");
    let federated = sts["access_token"].as_str().expect("federated");
    let (status, generated) = generate(&url, "dev@acme-prod.iam.gserviceaccount.com", federated).await;
    assert_eq!(status, 200, "{generated}");
    let access = generated["accessToken"].as_str().expect("accessToken");
    let project =
        crate::client().get(format!("{url}/v1/projects/acme-prod")).bearer_auth(access).send().await.expect("project");
    assert_eq!(project.status().as_u16(), 200);
    let (status, denied) = generate(&url, "sandbox-wrong-secret@acme-prod.iam.gserviceaccount.com", federated).await;
    assert_eq!((status, denied["error"]["status"].as_str()), (403, Some("PERMISSION_DENIED")));

    let (_, body) = exchange(&url, &acme, &other_subject(&audience(&acme))).await;
    assert_eq!(body["error"], "unauthorized_client", "the provider pinned the first subject");
    let wrong_subject = provider("sandbox-wrong-subject");
    let (_, body) = exchange(&url, &wrong_subject, &Issuer::token(&audience(&wrong_subject))).await;
    assert_eq!(body["error"], "unauthorized_client");
    let wrong_audience = provider("sandbox-wrong-audience");
    let (_, body) = exchange(&url, &wrong_audience, &Issuer::token(&audience(&wrong_audience))).await;
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].as_str().is_some_and(|d| d.contains("audience")), "{body}");
    let gone = provider("sandbox-not-found");
    assert_eq!(exchange(&url, &gone, &Issuer::token(&audience(&gone))).await.1["error"], "invalid_target");
}

#[tokio::test]
async fn entra_apps_trust_the_first_subject_and_their_client_ids_steer() {
    let (_issuer, sandbox) = sandbox().await;
    let url = sandbox.azure.url();
    let app = "0a0b0c0d-1111-4222-8333-444455556666";
    let aud = azure::DEFAULT_AUDIENCE;
    let (status, body) = token(&url, TENANT, app, &Issuer::token(aud)).await;
    assert_eq!(status, 200, "{body}");
    let subscription = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    let access = body["access_token"].as_str().expect("access_token");
    assert_eq!(crate::azure::subscription(&url, subscription, access).await, 200);
    let (_, body) = token(&url, TENANT, app, &other_subject(aud)).await;
    assert_eq!(body["error_codes"][0], 700213, "the app pinned the first subject");

    let code = |body: serde_json::Value| body["error_codes"][0].as_u64();
    let steered = |word: &str| guid(word).expect("a word");
    let wrong_subject = steered("sandbox-wrong-subject");
    assert_eq!(code(token(&url, TENANT, &wrong_subject, &Issuer::token(aud)).await.1), Some(700213));
    let wrong_audience = steered("sandbox-wrong-audience");
    assert_eq!(code(token(&url, TENANT, &wrong_audience, &Issuer::token(aud)).await.1), Some(700212));
    let wrong_secret = steered("sandbox-wrong-secret");
    assert_eq!(code(token(&url, TENANT, &wrong_secret, &Issuer::token(aud)).await.1), Some(700211));
    assert_eq!(code(token(&url, TENANT, app, &Issuer::expired(aud)).await.1), Some(700024));
    let (status, _) = token(&url, TENANT, &steered("sandbox-down"), &Issuer::token(aud)).await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn without_an_issuer_keyless_tokens_are_refused_as_unknown() {
    let sandbox = Sandbox::start().await;
    let (_, body) = assume(&sandbox.aws.url(), &role("DuctapeAccess"), &Issuer::token(DEFAULT_AUDIENCE), &[]).await;
    assert_eq!(tag(&body, "Message"), format!("No OpenIDConnect provider found in your account for {ISSUER}"));
    let acme = provider("acme");
    assert_eq!(
        exchange(&sandbox.gcp.url(), &acme, &Issuer::token(&audience(&acme))).await.1["error"],
        "invalid_target"
    );
    let (_, body) =
        token(&sandbox.azure.url(), TENANT, "0a0b0c0d-1111-4222-8333-444455556666", &Issuer::token("x")).await;
    assert_eq!(body["error_codes"][0], 700211);
}
