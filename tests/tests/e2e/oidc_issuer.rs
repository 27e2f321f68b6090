//! cloudconn as an OpenID Connect issuer: the documents a cloud fetches, the
//! tokens a worker signs with the Vault transit key (with the worker's own
//! least-privilege Vault policy), checked by an OIDC library of someone
//! else's (PyJWT), and a key rotation that keeps earlier tokens valid.

use std::{process::Stdio, sync::Arc, time::Duration};

use cloudconn_infra::{
    oidc::{Issuer, Subject, transit::TransitKeys},
    vault::VaultStore,
};
use cloudconn_tests::harness::{app::TestApp, env};
use secrecy::ExposeSecret;
use tokio::io::AsyncWriteExt;

/// The JWKS cache period the tests run with: a new key version signs 1.25 s
/// after it was made.
const MAX_AGE: Duration = Duration::from_secs(1);

/// The worker's side: an issuer signing with the transit key through a
/// token holding only the worker's policy.
async fn worker_issuer(app: &TestApp) -> Arc<Issuer> {
    let vault = Arc::new(VaultStore::connect(&app.worker_config.vault, Duration::from_secs(5)).await.expect("vault"));
    let oidc = &app.worker_config.oidc;
    let keys = TransitKeys { vault, mount: oidc.oidc_transit_mount.clone(), name: oidc.oidc_key.clone() };
    Issuer::from_config(oidc, Arc::new(keys)).expect("an issuer is configured")
}

fn subject(app: &TestApp) -> Subject {
    Subject {
        workspace: "acme".into(),
        connection_id: "6f1c1a3e-4c4e-4f7a-9a57-0d1f1f5e2b11".into(),
        tag: "prod_aws".into(),
        scope: "storage".into(),
        consumer: format!("billing-api/{}", app.vault_prefix),
    }
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{}{path}", app.addr)).await.expect("GET")
}

/// PyJWT's verdict on `token`: the verified claims and kid, or its refusal.
async fn pyjwt(app: &TestApp, token: &str, audience: &str) -> Result<serde_json::Value, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oidc_verify.py");
    let issuer = app.worker_config.oidc.oidc_issuer.clone().expect("issuer");
    let mut child = tokio::process::Command::new(env::python_jwt())
        .args([script, &issuer, &format!("http://{}", app.addr), audience])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    child.stdin.take().expect("stdin").write_all(token.as_bytes()).await.expect("write token");
    let out = child.wait_with_output().await.expect("python");
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("json"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The kids the JWKS lists; none while the server has not read the key
/// list yet (it answers 503 then).
async fn published_kids(app: &TestApp) -> Vec<String> {
    let answer = get(app, "/.well-known/jwks.json").await;
    if answer.status() == 503 {
        return Vec::new();
    }
    let jwks: serde_json::Value = answer.json().await.expect("jwks");
    jwks["keys"].as_array().expect("keys").iter().map(|k| k["kid"].as_str().expect("kid").to_owned()).collect()
}

/// The first key list is read just after start.
async fn wait_for_kids(app: &TestApp, count: usize) -> Vec<String> {
    for _ in 0..100 {
        let kids = published_kids(app).await;
        if kids.len() == count {
            return kids;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the JWKS never listed {count} keys: {:?}", published_kids(app).await);
}

#[tokio::test]
async fn the_documents_name_the_issuer_and_its_keys_and_are_cacheable() {
    let app = TestApp::builder().with_oidc(MAX_AGE).spawn().await;
    let issuer = app.worker_config.oidc.oidc_issuer.clone().expect("issuer");
    wait_for_kids(&app, 1).await;

    let discovery = get(&app, "/.well-known/openid-configuration").await;
    assert_eq!(discovery.status(), 200);
    assert_eq!(discovery.headers()["content-type"], "application/json");
    assert_eq!(discovery.headers()["cache-control"], "public, max-age=1");
    let discovery: serde_json::Value = discovery.json().await.expect("json");
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(discovery["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(discovery["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));

    // Under the issuer's own path too (`https://issuer.test/<prefix>`), for
    // a front that passes the path through.
    let under_path = get(&app, &format!("/{}/.well-known/jwks.json", app.vault_prefix)).await;
    assert_eq!(under_path.status(), 200);
    let jwks: serde_json::Value = under_path.json().await.expect("json");
    let key = &jwks["keys"][0];
    assert_eq!((&key["kty"], &key["alg"], &key["use"]), (&"RSA".into(), &"RS256".into(), &"sig".into()));
    assert!(key["kid"].as_str().is_some_and(|k| k.len() == 43), "an RFC 7638 thumbprint: {key}");
    assert!(key.get("d").is_none() && key.get("p").is_none(), "a private member in the JWKS: {key}");

    // Anything else on the port is still the gRPC server's.
    assert_ne!(get(&app, "/.well-known/other").await.status(), 200);
    app.finish().await;
}

#[tokio::test]
async fn a_token_the_worker_signs_in_vault_verifies_with_an_independent_library() {
    let app = TestApp::builder().with_oidc(MAX_AGE).spawn().await;
    let kids = wait_for_kids(&app, 1).await;
    let issuer = worker_issuer(&app).await;
    let token = issuer.token(&subject(&app), "sts.amazonaws.com").await.expect("signed");

    let verified = pyjwt(&app, token.expose_secret(), "sts.amazonaws.com").await.expect("PyJWT accepts it");
    assert_eq!(verified["kid"], kids[0].as_str());
    let claims = &verified["claims"];
    assert_eq!(claims["sub"], "workspace:acme:connection:6f1c1a3e-4c4e-4f7a-9a57-0d1f1f5e2b11");
    assert_eq!(claims["aud"], "sts.amazonaws.com");
    assert_eq!(
        (&claims["workspace"], &claims["connection_tag"], &claims["scope"]),
        (&"acme".into(), &"prod_aws".into(), &"storage".into())
    );
    let (iat, exp) = (claims["iat"].as_i64().expect("iat"), claims["exp"].as_i64().expect("exp"));
    assert!(exp - iat <= 300 && exp > iat, "lives at most 5 minutes: {claims}");

    // Addressed to another cloud: refused for this one.
    let refusal = pyjwt(&app, token.expose_secret(), "api://AzureADTokenExchange").await.unwrap_err();
    assert!(refusal.contains("InvalidAudienceError"), "{refusal}");
    // One changed byte in the claims: the signature no longer holds.
    let parts: Vec<&str> = token.expose_secret().split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[1]).expect("b64"),
    )
    .expect("claims");
    claims["sub"] = "workspace:acme:connection:someone-else".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims.to_string()),
        parts[2]
    );
    let refusal = pyjwt(&app, &forged, "sts.amazonaws.com").await.unwrap_err();
    assert!(refusal.contains("InvalidSignatureError"), "{refusal}");
    app.finish().await;
}

#[tokio::test]
async fn a_rotation_publishes_the_new_key_before_it_signs_and_keeps_the_old_one() {
    let app = TestApp::builder().with_oidc(MAX_AGE).spawn().await;
    let before = wait_for_kids(&app, 1).await;
    let issuer = worker_issuer(&app).await;
    let old_token = issuer.token(&subject(&app), "sts.amazonaws.com").await.expect("signed");

    vaultrs::transit::key::rotate(&app.vault, "transit", &app.worker_config.oidc.oidc_key).await.expect("rotate");
    let rotated_at = std::time::Instant::now();
    // Published within the refresh period (a quarter of the cache period)…
    let both = wait_for_kids(&app, 2).await;
    assert!(both.contains(&before[0]));
    let new_kid = both.iter().find(|k| **k != before[0]).expect("a new kid").clone();
    // …while tokens are still signed with the old key, which every cached JWKS holds.
    if rotated_at.elapsed() < Duration::from_millis(900) {
        let early = issuer.token(&subject(&app), "sts.amazonaws.com").await.expect("signed");
        assert_eq!(
            pyjwt(&app, early.expose_secret(), "sts.amazonaws.com").await.expect("ok")["kid"],
            before[0].as_str()
        );
    }
    // A cache period (plus the refresh) after the rotation, the new key signs.
    tokio::time::sleep(Duration::from_millis(1_600).saturating_sub(rotated_at.elapsed())).await;
    let new_token = issuer.token(&subject(&app), "sts.amazonaws.com").await.expect("signed");
    assert_eq!(pyjwt(&app, new_token.expose_secret(), "sts.amazonaws.com").await.expect("ok")["kid"], new_kid.as_str());
    // The token signed before the rotation still verifies: its key stays
    // published for the token lifetime and a cache period after retiring.
    assert_eq!(
        pyjwt(&app, old_token.expose_secret(), "sts.amazonaws.com").await.expect("ok")["kid"],
        before[0].as_str()
    );
    assert_eq!(published_kids(&app).await.len(), 2);
    app.finish().await;
}

#[tokio::test]
async fn dev_mode_is_its_own_issuer_with_a_local_key() {
    let app = TestApp::builder().dev().spawn().await;
    let discovery: serde_json::Value =
        get(&app, "/.well-known/openid-configuration").await.json().await.expect("discovery");
    assert_eq!(discovery["issuer"], format!("http://127.0.0.1:{}", app.addr.port()));
    assert_eq!(wait_for_kids(&app, 1).await.len(), 1);
    app.finish().await;
}
