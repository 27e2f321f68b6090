//! Workload identity federation: STS's token exchange, then the service
//! account's access token, usable on the emulator's APIs.

use std::{collections::HashMap, sync::Arc};

use cloudconn_sandbox::{gcp, serve};
use serde_json::{Value, json};

use crate::issuer::{Issuer, SUBJECT, Signer};

pub const PROVIDER: &str = "projects/123456789012/locations/global/workloadIdentityPools/cloudconn/providers/acme";
const SA: &str = "cloudconn@acme-prod.iam.gserviceaccount.com";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

pub fn audience(provider: &str) -> String {
    format!("//iam.googleapis.com/{provider}")
}

/// STS `POST /v1/token` as a form: (status, body).
pub async fn exchange(url: &str, provider: &str, token: &str) -> (u16, Value) {
    let audience = audience(provider);
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        ("audience", audience.as_str()),
        ("scope", CLOUD_PLATFORM),
        ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ("subject_token", token),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
    ];
    let response = crate::client().post(format!("{url}/v1/token")).form(&form).send().await.expect("sts");
    (response.status().as_u16(), response.json().await.unwrap_or_default())
}

/// `generateAccessToken` for `email` with a federated token.
pub async fn generate(url: &str, email: &str, federated: &str) -> (u16, Value) {
    let response = crate::client()
        .post(format!("{url}/v1/projects/-/serviceAccounts/{email}:generateAccessToken"))
        .bearer_auth(federated)
        .json(&json!({ "scope": [CLOUD_PLATFORM], "lifetime": "3600s" }))
        .send()
        .await
        .expect("generateAccessToken");
    (response.status().as_u16(), response.json().await.unwrap_or_default())
}

async fn configured() -> (Issuer, cloudconn_sandbox::Emulator) {
    let issuer = Issuer::start().await;
    let account =
        gcp::Account { projects: HashMap::from([("acme-prod".into(), vec!["*".into()])]), ..Default::default() };
    let other =
        gcp::Account { projects: HashMap::from([("acme-prod".into(), vec!["*".into()])]), ..Default::default() };
    let state = gcp::Gcp::new(
        HashMap::from([(SA.to_owned(), account), ("unbound@acme-prod.iam.gserviceaccount.com".to_owned(), other)]),
        HashMap::from([("acme-prod".to_owned(), ("123456789012".to_owned(), "Acme".to_owned()))]),
    );
    state.add_workload_identity_provider(PROVIDER, issuer.verifier(), SUBJECT);
    state.grant_workload_identity_user(SA, PROVIDER, SUBJECT);
    let emulator = serve(gcp::router(Arc::new(state))).await;
    (issuer, emulator)
}

#[tokio::test]
async fn a_federated_subject_gets_the_service_accounts_token_which_works_like_a_keys() {
    let (_issuer, google) = configured().await;
    let url = google.url();
    let (status, sts) = exchange(&url, PROVIDER, &Issuer::token(&audience(PROVIDER))).await;
    assert_eq!(status, 200, "{sts}");
    assert_eq!(sts["token_type"], "Bearer");
    assert_eq!(sts["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token");
    assert!(sts["expires_in"].as_i64().is_some_and(|s| s > 3000));
    let federated = sts["access_token"].as_str().expect("access_token");

    // The federated token is not the service account's: the APIs refuse it.
    let project =
        |token: &str| crate::client().get(format!("{url}/v1/projects/acme-prod")).bearer_auth(token.to_owned()).send();
    assert_eq!(project(federated).await.expect("project").status().as_u16(), 401);

    let (status, generated) = generate(&url, SA, federated).await;
    assert_eq!(status, 200, "{generated}");
    let expire = chrono::DateTime::parse_from_rfc3339(generated["expireTime"].as_str().expect("expireTime"));
    assert!(expire.is_ok_and(|at| at.timestamp() > chrono::Utc::now().timestamp() + 3500));
    let access = generated["accessToken"].as_str().expect("accessToken");
    let answer = project(access).await.expect("project");
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.json::<Value>().await.expect("json")["projectNumber"], "123456789012");

    // The https form of the audience is the provider's default too, and a
    // JSON body is read like a form.
    let token = Issuer::token(&format!("https://iam.googleapis.com/{PROVIDER}"));
    let body = json!({
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "audience": audience(PROVIDER),
        "scope": CLOUD_PLATFORM,
        "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "subject_token": token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
    });
    let response = crate::client().post(format!("{url}/v1/token")).json(&body).send().await.expect("sts");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn each_refusal_is_worded_as_google_words_it() {
    let (_issuer, google) = configured().await;
    let url = google.url();
    let aud = audience(PROVIDER);
    let other_sub = Issuer::token_with(&aud, |c| c["sub"] = "workspace:acme:connection:someone-else".into());
    let cases = [
        (other_sub, "unauthorized_client", "The given credential is rejected by the attribute condition."),
        (
            Issuer::token("sts.amazonaws.com"),
            "invalid_grant",
            "The audience in ID Token [sts.amazonaws.com] does not match",
        ),
        (Issuer::sign(&Issuer::claims(&aud), Signer::Other), "invalid_grant", "Invalid JWT signature."),
        (Issuer::expired(&aud), "invalid_grant", "expired"),
        (Issuer::foreign(&aud), "invalid_grant", "The issuer in ID Token [https://elsewhere.example.com]"),
    ];
    for (token, error, words) in cases {
        let (status, body) = exchange(&url, PROVIDER, &token).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(error)), "{body}");
        assert!(body["error_description"].as_str().is_some_and(|d| d.contains(words)), "{body}");
    }
    let unknown = PROVIDER.replace("/acme", "/nobody");
    let (status, body) = exchange(&url, &unknown, &Issuer::token(&audience(&unknown))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")), "{body}");

    // A service account without the binding, or a token STS did not issue.
    let (_, sts) = exchange(&url, PROVIDER, &Issuer::token(&aud)).await;
    let federated = sts["access_token"].as_str().expect("access_token");
    let (status, body) = generate(&url, "unbound@acme-prod.iam.gserviceaccount.com", federated).await;
    assert_eq!((status, body["error"]["status"].as_str()), (403, Some("PERMISSION_DENIED")), "{body}");
    let message = "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).";
    assert_eq!(body["error"]["message"], message);
    let (status, _) = generate(&url, SA, "ya29.forged").await;
    assert_eq!(status, 401);
}
