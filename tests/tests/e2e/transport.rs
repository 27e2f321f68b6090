//! What production trusts on the wire: TLS to Vault, RabbitMQ and the JWKS
//! (loopback aside), Vault trust only from our configuration, secrets from
//! files, a JWKS that is fetched carefully and fails closed when stale, and
//! Vault tokens that are re-read from a Vault Agent's sink file.

use std::time::Duration;

use cloudconn_infra::config::Source;
use cloudconn_proto::v1 as pb;
use cloudconn_server::{
    auth::{AuthConfig, Authenticator},
    config::{Mode, ServerConfig},
};
use cloudconn_tests::harness::{
    app::TestApp,
    auth::{AUDIENCE, Bearer, ISSUER},
    fixtures,
    jwks::{self, Answer, JwksServer, RSA_KEY_A, RSA_KEY_B},
    logs,
};
use cloudconn_worker::config::WorkerConfig;
use jsonwebtoken::Algorithm;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use tonic::Code;

use crate::helpers::*;

/// A valid production environment, all TLS, with `extra` added (a later
/// entry of the same name wins).
fn env(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    // The run step's signing keys (any valid pair serves either process).
    static KEYS: std::sync::OnceLock<cloudconn_tests::harness::message_keys::KeyFiles> = std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cc-transport-keys-{}", uuid::Uuid::new_v4().simple()));
        cloudconn_tests::harness::message_keys::KeyPairs::generate().write_server_files(&dir)
    });
    let (signing, peers) = (keys.signing_key.display().to_string(), keys.peer_keys.display().to_string());
    let base = [
        ("CLOUDCONN_AMQP_SIGNING_KEY_FILE", signing.as_str()),
        ("CLOUDCONN_AMQP_PEER_KEYS_FILE", peers.as_str()),
        ("CLOUDCONN_DATABASE_URL", "postgres://u:pw@db.internal/cc"),
        ("CLOUDCONN_VAULT_ADDR", "https://vault.internal:8200"),
        ("CLOUDCONN_VAULT_TOKEN", "t"),
        ("CLOUDCONN_AMQP_URL", "amqps://mquser:mq-password@mq.internal:5671/%2f"),
        ("CLOUDCONN_AUTH_HS256_SECRET", "0123456789abcdef0123456789abcdef"),
        ("CLOUDCONN_AUTH_AUDIENCE", "cloudconn"),
    ];
    let mut vars: Vec<(String, String)> = Vec::new();
    for (k, v) in base.iter().chain(extra) {
        vars.retain(|(name, _)| name != k);
        vars.push((k.to_string(), v.to_string()));
    }
    vars
}

fn server_config(vars: Vec<(String, String)>) -> ServerConfig {
    ServerConfig::from_source(&Source::load(None, vars).expect("load")).expect("server config")
}

fn production_error(vars: Vec<(String, String)>) -> String {
    server_config(vars).validate(Mode::Production).expect_err("production must refuse this").to_string()
}

fn worker_config(vars: Vec<(String, String)>) -> WorkerConfig {
    WorkerConfig::from_source(&Source::load(None, vars).expect("load")).expect("worker config")
}

#[test]
fn production_refuses_plaintext_vault_amqp_and_jwks_off_loopback_naming_every_variable_at_once() {
    let plaintext = [
        ("CLOUDCONN_VAULT_ADDR", "http://vault.internal:8200"),
        ("CLOUDCONN_AMQP_URL", "amqp://mquser:mq-password@mq.internal:5672/%2f"),
    ];
    let err = production_error(env(&plaintext));
    for name in ["CLOUDCONN_VAULT_ADDR", "CLOUDCONN_AMQP_URL", "CLOUDCONN_ALLOW_INSECURE_TRANSPORT", "https://"] {
        assert!(err.contains(name), "one start names every plaintext endpoint and the fix: {err}");
    }
    assert!(!err.contains("mq-password"), "credentials in the URL must not be echoed: {err}");
    // The worker's validation refuses the same.
    let err = worker_config(env(&plaintext)).validate().unwrap_err().to_string();
    assert!(err.contains("CLOUDCONN_VAULT_ADDR") && err.contains("CLOUDCONN_AMQP_URL"), "{err}");

    // A JWKS URL over plain http to a host that is not this machine.
    let jwks = [
        ("CLOUDCONN_AUTH_HS256_SECRET", ""),
        ("CLOUDCONN_AUTH_JWKS", "http://idp.example/.well-known/jwks.json"),
        ("CLOUDCONN_AUTH_ISSUER", "https://idp.example"),
    ];
    let err = production_error(env(&jwks));
    assert!(err.contains("CLOUDCONN_AUTH_JWKS"), "{err}");
    let https = [
        ("CLOUDCONN_AUTH_HS256_SECRET", ""),
        ("CLOUDCONN_AUTH_JWKS", "https://idp.example/.well-known/jwks.json"),
        ("CLOUDCONN_AUTH_ISSUER", "https://idp.example"),
    ];
    server_config(env(&https)).validate(Mode::Production).unwrap();

    // Loopback never leaves the machine (a sidecar, a Vault Agent): allowed.
    for (vault, amqp) in [
        ("http://127.0.0.1:8200", "amqp://u:p@127.0.0.1:5672/%2f"),
        ("http://localhost:8200", "amqp://u:p@localhost:5672/%2f"),
        ("http://[::1]:8200", "amqp://u:p@[::1]:5672/%2f"),
    ] {
        let vars = env(&[("CLOUDCONN_VAULT_ADDR", vault), ("CLOUDCONN_AMQP_URL", amqp)]);
        server_config(vars.clone()).validate(Mode::Production).unwrap();
        worker_config(vars).validate().unwrap();
    }
    // --dev talks to none of them (and takes the configured database only
    // when told to).
    let dev = ServerConfig { dev_database: true, ..server_config(env(&plaintext)) };
    dev.validate(Mode::Dev).unwrap();
}

#[test]
fn allowing_insecure_transport_starts_with_a_warning_per_endpoint_without_its_credentials() {
    logs::init();
    let vars = env(&[
        ("CLOUDCONN_VAULT_ADDR", "http://vault.internal:8200"),
        ("CLOUDCONN_AMQP_URL", "amqp://mquser:mq-password@mq.internal:5672/%2f"),
        ("CLOUDCONN_ALLOW_INSECURE_TRANSPORT", "true"),
    ]);
    server_config(vars.clone()).validate(Mode::Production).unwrap();
    worker_config(vars).validate().unwrap();
    let logged = logs::captured();
    let warnings: Vec<&str> = logged.lines().filter(|l| l.contains("INSECURE TRANSPORT ALLOWED")).collect();
    assert!(warnings.iter().any(|l| l.contains("CLOUDCONN_VAULT_ADDR") && l.contains("vault.internal:8200")));
    assert!(warnings.iter().any(|l| l.contains("CLOUDCONN_AMQP_URL") && l.contains("mq.internal:5672")));
    assert!(warnings.iter().all(|l| l.contains("\"level\":\"WARN\"")), "{warnings:?}");
    assert!(!logged.contains("mq-password") && !logged.contains("mquser"), "the URL's credentials were logged");
}

#[test]
fn an_ambient_vault_skip_verify_refuses_production_and_other_vault_tls_variables_change_nothing() {
    // Any value, the empty string included (vaultrs reads that as "skip").
    for value in ["", "true", "1"] {
        let mut vars = env(&[]);
        vars.push(("VAULT_SKIP_VERIFY".into(), value.into()));
        let err = production_error(vars.clone());
        assert!(err.contains("VAULT_SKIP_VERIFY"), "{err}");
        let err = worker_config(vars).validate().unwrap_err().to_string();
        assert!(err.contains("VAULT_SKIP_VERIFY"), "{err}");
    }
    // VAULT_CACERT & co. are ignored (trust comes from CLOUDCONN_VAULT_CA_CERT).
    let mut vars = env(&[]);
    vars.push(("VAULT_CACERT".into(), "/nonexistent/ca.pem".into()));
    vars.push(("VAULT_CLIENT_CERT".into(), "/nonexistent/c.pem".into()));
    server_config(vars).validate(Mode::Production).unwrap();
    // Our own CA variable must name a PEM bundle.
    let scratch = scratch_dir();
    let not_pem = scratch.join("ca.txt");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let err = production_error(env(&[("CLOUDCONN_VAULT_CA_CERT", not_pem.to_str().unwrap())]));
    assert!(err.contains("CLOUDCONN_VAULT_CA_CERT"), "{err}");
}

fn scratch_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cc-transport-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn secret_variables_can_come_from_files_and_setting_both_forms_names_both() {
    let dir = scratch_dir();
    let file = |name: &str, content: &str| {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    };
    let db = file("db", "postgres://u:from-file@db.internal/cc\n");
    let amqp = file("amqp", "amqps://u:from-file@mq.internal:5671/%2f\n");
    let hs256 = file("hs256", "fedcba9876543210fedcba9876543210\r\n");
    let secret_id = file("secret-id", "approle-secret-from-file\n");
    let vars = env(&[
        ("CLOUDCONN_DATABASE_URL", ""),
        ("CLOUDCONN_AMQP_URL", ""),
        ("CLOUDCONN_AUTH_HS256_SECRET", ""),
        ("CLOUDCONN_VAULT_TOKEN", ""),
        ("CLOUDCONN_DATABASE_URL_FILE", &db),
        ("CLOUDCONN_AMQP_URL_FILE", &amqp),
        ("CLOUDCONN_AUTH_HS256_SECRET_FILE", &hs256),
        ("CLOUDCONN_VAULT_ROLE_ID", "role"),
        ("CLOUDCONN_VAULT_SECRET_ID_FILE", &secret_id),
    ]);
    let c = server_config(vars.clone());
    c.validate(Mode::Production).unwrap();
    assert_eq!(c.database_url.unwrap().expose_secret(), "postgres://u:from-file@db.internal/cc");
    assert_eq!(c.amqp.amqp_url.unwrap().expose_secret(), "amqps://u:from-file@mq.internal:5671/%2f");
    assert_eq!(c.auth.auth_hs256_secret.unwrap().expose_secret(), "fedcba9876543210fedcba9876543210");
    assert_eq!(c.vault.vault_secret_id.unwrap().expose_secret(), "approle-secret-from-file");
    let w = worker_config(vars);
    assert_eq!(w.amqp.amqp_url.unwrap().expose_secret(), "amqps://u:from-file@mq.internal:5671/%2f");

    // Both forms: an error naming both, for each secret at once.
    let err =
        Source::load(None, env(&[("CLOUDCONN_DATABASE_URL_FILE", &db), ("CLOUDCONN_AUTH_HS256_SECRET_FILE", &hs256)]))
            .err()
            .expect("both forms set")
            .to_string();
    for name in [
        "CLOUDCONN_DATABASE_URL and CLOUDCONN_DATABASE_URL_FILE",
        "CLOUDCONN_AUTH_HS256_SECRET and CLOUDCONN_AUTH_HS256_SECRET_FILE",
    ] {
        assert!(err.contains(name), "{err}");
    }
    let token_file = file("token", "s.token\n");
    let err = production_error(env(&[("CLOUDCONN_VAULT_TOKEN_FILE", &token_file)]));
    assert!(err.contains("CLOUDCONN_VAULT_TOKEN and CLOUDCONN_VAULT_TOKEN_FILE"), "{err}");
    // A missing file is named, with its path.
    let missing = dir.join("missing").display().to_string();
    let err = Source::load(None, env(&[("CLOUDCONN_DATABASE_URL", ""), ("CLOUDCONN_DATABASE_URL_FILE", &missing)]))
        .err()
        .expect("missing file")
        .to_string();
    assert!(err.contains("CLOUDCONN_DATABASE_URL_FILE") && err.contains(&missing), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn production_requires_an_audience_and_with_a_jwks_an_issuer() {
    let err = production_error(env(&[("CLOUDCONN_AUTH_AUDIENCE", "")]));
    assert!(err.contains("CLOUDCONN_AUTH_AUDIENCE"), "{err}");
    let err = production_error(env(&[
        ("CLOUDCONN_AUTH_HS256_SECRET", ""),
        ("CLOUDCONN_AUTH_JWKS", "/etc/cloudconn/jwks.json"),
    ]));
    assert!(err.contains("CLOUDCONN_AUTH_ISSUER"), "{err}");
    // Explicitly disabled authentication needs neither.
    server_config(env(&[
        ("CLOUDCONN_AUTH_HS256_SECRET", ""),
        ("CLOUDCONN_AUTH_AUDIENCE", ""),
        ("CLOUDCONN_AUTH_DISABLED", "true"),
    ]))
    .validate(Mode::Production)
    .unwrap();
}

fn jwks_config(url: String) -> AuthConfig {
    AuthConfig {
        auth_jwks: Some(url),
        auth_issuer: Some(ISSUER.into()),
        auth_audience: Some(AUDIENCE.into()),
        ..AuthConfig::default()
    }
}

async fn authenticator(url: String) -> anyhow::Result<Authenticator> {
    let stop = CancellationToken::new();
    Authenticator::new(&jwks_config(url), Duration::from_secs(3600), Duration::from_secs(7200), stop).await
}

#[tokio::test]
async fn a_redirecting_jwks_is_not_followed() {
    let valid = jwks::set(&[jwks::rsa_jwk("key-a", RSA_KEY_A, serde_json::json!({}))]);
    let real = JwksServer::start(Answer::Body(valid)).await;
    let redirecting = JwksServer::start(Answer::Redirect(real.url())).await;
    let err = authenticator(redirecting.url()).await.err().expect("a redirect must not be followed");
    assert!(format!("{err:#}").contains("redirect"), "{err:#}");
    assert_eq!(real.fetches(), 0, "the redirect target was fetched");
    // The same JWKS at its own URL is fine.
    authenticator(real.url()).await.unwrap();
}

#[tokio::test]
async fn a_jwks_over_256_kib_is_refused() {
    let key = jwks::rsa_jwk("key-a", RSA_KEY_A, serde_json::json!({}));
    // Valid JSON, padded past the cap with whitespace.
    let big = format!("{{\"keys\": [{key}]{}}}", " ".repeat(256 * 1024));
    let server = JwksServer::start(Answer::Body(big)).await;
    let err = authenticator(server.url()).await.err().expect("an oversized JWKS must be refused");
    assert!(format!("{err:#}").contains("256 KiB"), "{err:#}");
    // Just under it is read.
    let fits = format!("{{\"keys\": [{key}]{}}}", " ".repeat(200 * 1024));
    server.answer(Answer::Body(fits));
    authenticator(server.url()).await.unwrap();
}

async fn list(app: &TestApp, token: &str) -> Result<(), tonic::Status> {
    app.client_with(Bearer::new(token)).list_providers(pb::ListProvidersRequest {}).await.map(drop)
}

#[tokio::test]
async fn only_signature_keys_whose_alg_matches_their_type_verify_tokens() {
    let ec = jwks::ec_key();
    let set = jwks::set(&[
        // An encryption key, even an RSA one, verifies nothing.
        jwks::rsa_jwk("enc-key", RSA_KEY_A, serde_json::json!({ "use": "enc" })),
        // A P-256 key that claims to be for RS256.
        jwks::ec_jwk("confused-key", &ec, serde_json::json!({ "alg": "RS256" })),
        jwks::rsa_jwk("sig-key", RSA_KEY_B, serde_json::json!({ "use": "sig", "alg": "RS256" })),
    ]);
    let server = JwksServer::start(Answer::Body(set)).await;
    let app = TestApp::builder().with_jwks_url(server.url()).spawn().await;
    let refused = list(&app, &jwks::token("enc-key", Algorithm::RS256, RSA_KEY_A)).await.unwrap_err();
    assert_code(&refused, Code::Unauthenticated, "UNAUTHENTICATED");
    let refused = list(&app, &jwks::token("confused-key", Algorithm::ES256, &ec)).await.unwrap_err();
    assert_code(&refused, Code::Unauthenticated, "UNAUTHENTICATED");
    list(&app, &jwks::token("sig-key", Algorithm::RS256, RSA_KEY_B)).await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn tokens_are_refused_while_the_jwks_is_stale_and_accepted_after_it_is_refreshed() {
    let set = jwks::set(&[jwks::rsa_jwk("key-a", RSA_KEY_A, serde_json::json!({}))]);
    let server = JwksServer::start(Answer::Body(set.clone())).await;
    let app = TestApp::builder()
        .with_jwks_url(server.url())
        .with_jwks_timing(Duration::from_millis(200), Duration::from_secs(2))
        .spawn()
        .await;
    let token = jwks::token("key-a", Algorithm::RS256, RSA_KEY_A);
    list(&app, &token).await.unwrap();

    // The issuer cannot be reached (or someone blocks it): after the max
    // staleness, no key is trusted any more.
    server.answer(Answer::Fail);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let refused = loop {
        match list(&app, &token).await {
            Err(status) => break status,
            Ok(()) => {
                assert!(tokio::time::Instant::now() < deadline, "stale keys are still trusted");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_code(&refused, Code::Unauthenticated, "UNAUTHENTICATED");
    assert!(refused.message().contains("signing keys are stale"), "{}", refused.message());

    server.answer(Answer::Body(set));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while list(&app, &token).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "a successful refresh did not restore the keys");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.finish().await;
}

#[tokio::test]
async fn a_key_published_after_start_is_accepted_at_once_and_unknown_kids_refetch_at_most_every_30_s() {
    let key_a = jwks::rsa_jwk("key-a", RSA_KEY_A, serde_json::json!({}));
    let server = JwksServer::start(Answer::Body(jwks::set(std::slice::from_ref(&key_a)))).await;
    // Hourly refreshes: only the unknown-kid refetch can find the new key.
    let app = TestApp::builder()
        .with_jwks_url(server.url())
        .with_jwks_timing(Duration::from_secs(3600), Duration::from_secs(3 * 3600))
        .spawn()
        .await;
    list(&app, &jwks::token("key-a", Algorithm::RS256, RSA_KEY_A)).await.unwrap();

    // The issuer publishes key B and signs with it right away.
    let key_b = jwks::rsa_jwk("key-b", RSA_KEY_B, serde_json::json!({}));
    server.answer(Answer::Body(jwks::set(&[key_a, key_b])));
    list(&app, &jwks::token("key-b", Algorithm::RS256, RSA_KEY_B)).await.expect("the first call with key B");

    // Made-up kids do not make us fetch once per call.
    let before = server.fetches();
    for i in 0..5 {
        let forged = jwks::token(&format!("made-up-{i}"), Algorithm::RS256, RSA_KEY_B);
        assert_eq!(list(&app, &forged).await.unwrap_err().code(), Code::Unauthenticated);
    }
    assert!(server.fetches() <= before + 1, "{} fetches for 5 unknown kids", server.fetches() - before);
    app.finish().await;
}

/// Revokes the token in `file` and writes a fresh one with `policy` there,
/// as a Vault Agent does when it re-authenticates.
async fn rotate_token_file(app: &TestApp, file: &std::path::Path, policy: &str) {
    revoke_token_file(app, file).await;
    let fresh = cloudconn_tests::harness::vault::token_with(&app.vault, policy).await;
    std::fs::write(file, format!("{fresh}\n")).unwrap();
}

async fn revoke_token_file(app: &TestApp, file: &std::path::Path) {
    let old = std::fs::read_to_string(file).unwrap();
    vaultrs::token::revoke(&app.vault, old.trim()).await.expect("revoke");
}

#[tokio::test]
async fn server_and_worker_pick_up_a_new_token_from_their_token_files() {
    let app = TestApp::builder().with_vault_token_files().spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("one")).await.unwrap();
    let done = validate(&app, "azure_main", Duration::from_secs(15)).await.unwrap();
    assert_eq!(done.validation.unwrap().state(), pb::ValidationState::Succeeded);

    // Both tokens end; the Agent writes new ones.
    let prefix = app.vault_prefix.clone();
    rotate_token_file(&app, app.server_token_file.as_ref().unwrap(), &format!("{prefix}-server")).await;
    rotate_token_file(&app, app.worker_token_file.as_ref().unwrap(), &format!("{prefix}-worker")).await;

    let c = complete(&app, "acme", "azure_main", fixtures::azure("two")).await.expect("the server writes again");
    assert_eq!(c.credentials.unwrap().revision, 2);
    let done = validate(&app, "azure_main", Duration::from_secs(15)).await.unwrap();
    let validation = done.validation.unwrap();
    assert_eq!(validation.state(), pb::ValidationState::Succeeded, "{validation:?}");
    assert_eq!(validation.revision, 2);
    app.finish().await;
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{addr}{path}")).await.expect("worker endpoint");
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_worker_whose_vault_token_is_refused_gives_jobs_back_and_fails_liveness_until_a_new_token_comes() {
    let mut app = TestApp::builder().with_vault_token_files().without_worker().spawn().await;
    app.worker_config.vault_denied_requeue_ms = 1_500;
    app.worker_config.vault_liveness_ms = 1_000;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("one")).await.unwrap();
    // The worker's token ends and nothing replaces it yet.
    let worker_file = app.worker_token_file.clone().unwrap();
    revoke_token_file(&app, &worker_file).await;
    app.start_worker();
    let addr = app.worker_metrics_addr.unwrap();
    let pending = app
        .client
        .clone()
        .validate_connection(pb::ValidateConnectionRequest {
            workspace: "acme".into(),
            tag: "azure_main".into(),
            wait: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(pending.validation.unwrap().state(), pb::ValidationState::Succeeded);

    // The job goes back to the queue instead of spinning in the worker, and
    // liveness reports the stall.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, metrics) = http_get(addr, "/metrics").await;
        let (health, _) = http_get(addr, "/healthz").await;
        if metrics.contains(r#"cloudconn_worker_jobs_total{outcome="requeued",provider="azure"}"#) && health == 503 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no give-back or no failed liveness; healthz {health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The Agent writes a new token: the job runs and liveness recovers.
    let fresh = cloudconn_tests::harness::vault::token_with(&app.vault, &format!("{}-worker", app.vault_prefix)).await;
    std::fs::write(&worker_file, format!("{fresh}\n")).unwrap();
    let done = validate(&app, "azure_main", Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.validation.unwrap().state(), pb::ValidationState::Succeeded);
    assert_eq!(http_get(addr, "/healthz").await.0, 200);
    app.finish().await;
}

#[tokio::test]
async fn vault_over_https_trusts_the_ca_in_cloudconn_vault_ca_cert_and_nothing_else() {
    use cloudconn_infra::{
        config::VaultConfig,
        secrets::{SecretPath, SecretStore},
        vault::VaultStore,
    };
    use cloudconn_tests::harness::{env as stack, tls, tls_proxy::TlsProxy};
    let material = tls::generate();
    let upstream = stack::vault_addr().trim_start_matches("http://").parse().expect("vault host:port");
    let proxy = TlsProxy::start(upstream, &material).await;
    let dir = scratch_dir();
    let ca_file = dir.join("vault-ca.pem");
    std::fs::write(&ca_file, &material.ca).unwrap();
    let config = VaultConfig {
        vault_addr: Some(format!("https://localhost:{}", proxy.addr.port())),
        vault_token: Some(stack::vault_token().into()),
        vault_prefix: format!("cc_test_{}", uuid::Uuid::new_v4().simple()),
        vault_ca_cert: Some(ca_file),
        ..VaultConfig::default()
    };
    // With our CA: a write and a read over TLS.
    let store = VaultStore::connect(&config, Duration::from_secs(5)).await.expect("vault over https with our CA");
    let path = SecretPath { workspace: "acme".into(), uid: uuid::Uuid::new_v4().to_string() };
    let fields = [("k".to_owned(), secrecy::SecretString::from("v"))].into_iter().collect();
    assert_eq!(store.write(&path, &fields, 0).await.unwrap(), 1);
    assert_eq!(store.read(&path, 1).await.unwrap()["k"].expose_secret(), "v");
    store.destroy(&path).await.unwrap();
    // Without it, the certificate is not trusted: no connection.
    let untrusted = VaultConfig { vault_ca_cert: None, ..config };
    assert!(VaultStore::connect(&untrusted, Duration::from_secs(5)).await.is_err(), "an unknown CA was trusted");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn amqps_trusts_the_ca_in_cloudconn_amqp_ca_cert() {
    use cloudconn_infra::config::AmqpConfig;
    use cloudconn_tests::harness::{tls, tls_proxy::TlsProxy};
    let material = tls::generate();
    let proxy = TlsProxy::start("127.0.0.1:5672".parse().unwrap(), &material).await;
    let url = secrecy::SecretString::from(format!("amqps://guest:guest@localhost:{}/%2f", proxy.addr.port()));
    // Before the CA is trusted, the broker's certificate does not verify.
    let untrusted = cloudconn_infra::amqp::connect(&url, "tls test", Duration::from_secs(5)).await;
    assert!(untrusted.is_err(), "an unknown CA was trusted");

    let dir = scratch_dir();
    let ca_file = dir.join("amqp-ca.pem");
    std::fs::write(&ca_file, &material.ca).unwrap();
    let config = AmqpConfig { amqp_url: Some(url.clone()), amqp_ca_cert: Some(ca_file), ..AmqpConfig::default() };
    config.install_trust().expect("the CA file is read");
    let connection = cloudconn_infra::amqp::connect(&url, "tls test", Duration::from_secs(5)).await.expect("amqps");
    let channel = connection.create_channel().await.expect("a channel over TLS");
    drop(channel);
    let _ = connection.close(200, "done".into()).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn production_serves_grpc_beyond_loopback_only_over_tls() {
    let err = production_error(env(&[("CLOUDCONN_LISTEN", "0.0.0.0:50051")]));
    assert!(err.contains("CLOUDCONN_LISTEN") && err.contains("CLOUDCONN_TLS_CERT"), "{err}");
    // On this machine (a sidecar terminates TLS), with TLS, or explicitly allowed: accepted.
    server_config(env(&[("CLOUDCONN_LISTEN", "127.0.0.1:50051")])).validate(Mode::Production).unwrap();
    let allowed = env(&[("CLOUDCONN_LISTEN", "0.0.0.0:50051"), ("CLOUDCONN_ALLOW_INSECURE_TRANSPORT", "true")]);
    server_config(allowed).validate(Mode::Production).unwrap();
    let dir = scratch_dir();
    let material = cloudconn_tests::harness::tls::generate();
    std::fs::write(dir.join("c.pem"), &material.server.cert).unwrap();
    std::fs::write(dir.join("k.pem"), &material.server.key).unwrap();
    let (cert, key) = (dir.join("c.pem").display().to_string(), dir.join("k.pem").display().to_string());
    let tls = env(&[("CLOUDCONN_LISTEN", "0.0.0.0:50051"), ("CLOUDCONN_TLS_CERT", &cert), ("CLOUDCONN_TLS_KEY", &key)]);
    server_config(tls).validate(Mode::Production).unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
