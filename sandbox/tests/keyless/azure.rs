//! Entra ID's client credentials grant with a federated client assertion.

use std::{collections::HashMap, sync::Arc};

use cloudconn_sandbox::{azure, serve};
use serde_json::Value;

use crate::issuer::{Issuer, SUBJECT, Signer};

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT: &str = "66666666-7777-8888-9999-000000000000";
const SUBSCRIPTION: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const AUD: &str = azure::DEFAULT_AUDIENCE;

/// A token request with `assertion`: (status, body).
pub async fn token(url: &str, tenant: &str, client_id: &str, assertion: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", "https://management.azure.com/.default"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion),
    ];
    let response =
        crate::client().post(format!("{url}/{tenant}/oauth2/v2.0/token")).form(&form).send().await.expect("token");
    (response.status().as_u16(), response.json().await.unwrap_or_default())
}

/// `GET /subscriptions/{id}` with `access_token`: the status.
pub async fn subscription(url: &str, id: &str, access_token: &str) -> u16 {
    let response = crate::client()
        .get(format!("{url}/subscriptions/{id}?api-version=2022-12-01"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("subscription");
    response.status().as_u16()
}

async fn configured() -> (Issuer, cloudconn_sandbox::Emulator) {
    let issuer = Issuer::start().await;
    let app = azure::App {
        tenant: TENANT.into(),
        secret: "not-used-by-keyless".into(),
        subscriptions: vec![SUBSCRIPTION.into()],
        permissions: vec![(vec!["*".into()], Vec::new())],
        ..Default::default()
    };
    let state = azure::Azure::new(
        HashMap::from([(CLIENT.to_owned(), app)]),
        vec![TENANT.into()],
        HashMap::from([(SUBSCRIPTION.to_owned(), ("Acme".to_owned(), "Enabled".to_owned()))]),
    );
    state.add_federated_credential(TENANT, CLIENT, issuer.verifier(), SUBJECT, AUD);
    let emulator = serve(azure::router(Arc::new(state))).await;
    (issuer, emulator)
}

#[tokio::test]
async fn a_federated_assertion_gets_a_token_that_works_like_a_secrets() {
    let (_issuer, entra) = configured().await;
    let (status, body) = token(&entra.url(), TENANT, CLIENT, &Issuer::token(AUD)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let access = body["access_token"].as_str().expect("access_token");
    assert_eq!(subscription(&entra.url(), SUBSCRIPTION, access).await, 200);
}

#[tokio::test]
async fn each_refusal_is_worded_as_entra_id_words_it() {
    let (_issuer, entra) = configured().await;
    let other_sub = Issuer::token_with(AUD, |c| c["sub"] = "workspace:acme:connection:someone-else".into());
    let cases = [
        (other_sub, 700213, "presented assertion subject 'workspace:acme:connection:someone-else'"),
        (Issuer::token("sts.amazonaws.com"), 700212, "presented assertion audience 'sts.amazonaws.com'"),
        (Issuer::sign(&Issuer::claims(AUD), Signer::Other), 700027, "invalid signature"),
        (Issuer::expired(AUD), 700024, "Client assertion is not within its valid time range"),
        (Issuer::foreign(AUD), 700211, "presented assertion issuer 'https://elsewhere.example.com'"),
    ];
    for (assertion, code, words) in cases {
        let (status, body) = token(&entra.url(), TENANT, CLIENT, &assertion).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
        assert_eq!(body["error_codes"][0], code, "{body}");
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(description.starts_with(&format!("AADSTS{code}: ")) && description.contains(words), "{body}");
    }
    // Another app of the tenant has no federated credential.
    let other_app = "99999999-9999-9999-9999-999999999999";
    let (status, body) = token(&entra.url(), TENANT, other_app, &Issuer::token(AUD)).await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(700016)), "{body}");
}
