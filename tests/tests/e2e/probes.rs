//! The product's provider probes, run by the real worker against emulators
//! that implement each provider's protocol and check its cryptography.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use cloudconn_infra::{
    amqp::messages::{MESSAGE_VERSION, Outcome, ValidationJob},
    secrets::{SecretFields, SecretPath, SecretStore, SecretStoreError},
};
use cloudconn_proto::v1::{
    self as pb, AzureCredentials, GcpCredentials, MongoDbAtlasCredentials, Neo4jAuraCredentials,
    complete_connection_request::Credentials,
};
use cloudconn_tests::{
    emulators::{self, ALWAYS, Call, Emulator, Fault, azure, gcp, mongodb_atlas, neo4j_aura},
    harness::{app::TestApp, fixtures},
};
use cloudconn_worker::{
    config::{Endpoints, WorkerConfig},
    consumer::{JobRunner, Ran},
    probe::Probes,
};
use secrecy::SecretString;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(20);
const PROJECT: &str = "5f1b2c3d4e5f6a7b8c9d0e1f";
const GCP_PROJECT: &str = "acme-prod-123";
const SA_GOOD: &str = "probe@acme-prod-123.iam.gserviceaccount.com";
const SA_DISABLED: &str = "disabled@acme-prod-123.iam.gserviceaccount.com";
const SA_NO_PERMS: &str = "noperms@acme-prod-123.iam.gserviceaccount.com";
const GCP_KEY: &str = include_str!("../../fixtures/gcp-test-key.pem");
const GCP_PUBLIC_KEY: &str = include_str!("../../fixtures/gcp-test-key.pub.pem");
const GCP_OTHER_KEY: &str = include_str!("../../fixtures/gcp-other-key.pem");

/// A service account holding `permissions` in the test project.
fn sa(permissions: &[&str], key_disabled: bool) -> gcp::Account {
    gcp::Account {
        public_key_pem: GCP_PUBLIC_KEY.into(),
        key_disabled,
        projects: HashMap::from([(GCP_PROJECT.to_owned(), permissions.iter().map(|p| p.to_string()).collect())]),
        ..Default::default()
    }
}

/// A key file as IAM issues it, except that its `token_uri` points at the
/// trap: the probe must use the configured token URL instead.
fn gcp_creds(trap: &Trap, project: &str, email: &str, private_key: &str) -> Credentials {
    let key = serde_json::json!({
        "type": "service_account",
        "project_id": GCP_PROJECT,
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": private_key,
        "client_email": email,
        "client_id": "100000000000000000001",
        "token_uri": format!("http://{}/token", trap.addr),
    });
    Credentials::Gcp(GcpCredentials {
        project_id: project.into(),
        service_account_json: key.to_string(),
        ..Default::default()
    })
}

const DISABLED_SUB: &str = "99999999-9999-9999-9999-999999999999";
const AZ_EXPIRED: &str = "11111111-0000-0000-0000-000000000001";
const AZ_NO_STORAGE: &str = "11111111-0000-0000-0000-000000000002";
const AZ_NO_ROLE: &str = "11111111-0000-0000-0000-000000000003";
/// A custom role whose one storage action has 40 stars (security review M5).
const AZ_STARS: &str = "11111111-0000-0000-0000-000000000004";
/// An app that may read its own registration in Graph (`Application.Read.All`).
const AZ_READER: &str = "11111111-0000-0000-0000-000000000005";
/// A service account that may read its key (`iam.serviceAccountKeys.get`).
const SA_READER: &str = "reader@acme-prod-123.iam.gserviceaccount.com";
/// When the readers' secret and key expire.
const READER_EXPIRES: &str = "2099-01-02T03:04:05Z";

fn reader_expires() -> chrono::DateTime<chrono::Utc> {
    READER_EXPIRES.parse().unwrap()
}

/// Atlas and Aura emulators with a few keys each, and the endpoints to reach them.
async fn emulators() -> Stack {
    let key = |private: &str, clusters: bool, blocked: bool| mongodb_atlas::Key {
        private_key: private.into(),
        projects: vec![PROJECT.into()],
        can_read_clusters: clusters,
        ip_blocked: blocked,
    };
    let atlas = mongodb_atlas::Atlas::new(
        HashMap::from([
            ("goodkey1".to_owned(), key("atlas-private-1", true, false)),
            ("noclust1".to_owned(), key("atlas-private-2", false, false)),
            ("blocked1".to_owned(), key("atlas-private-3", true, true)),
        ]),
        HashMap::from([(PROJECT.to_owned(), "acme-prod".to_owned())]),
    );
    let client = |secret: &str, instances: bool| neo4j_aura::Client {
        secret: secret.into(),
        tenant: "tenant-0001".into(),
        can_list_instances: instances,
    };
    let aura = neo4j_aura::Aura::new(HashMap::from([
        ("aura-good".to_owned(), client("aura-secret-1", true)),
        ("aura-noinst".to_owned(), client("aura-secret-2", false)),
    ]));
    let app = |secret: &str, subscriptions: &[&str], permissions: Vec<(Vec<String>, Vec<String>)>| azure::App {
        tenant: fixtures::TENANT.into(),
        secret: secret.into(),
        secret_expired: secret.contains("expired"),
        subscriptions: subscriptions.iter().map(|s| s.to_string()).collect(),
        permissions,
        ..Default::default()
    };
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let azure = azure::Azure::new(
        HashMap::from([
            (
                fixtures::CLIENT.to_owned(),
                app("az-good", &[fixtures::SUBSCRIPTION, DISABLED_SUB], vec![(strings(&["*/read"]), vec![])]),
            ),
            (AZ_EXPIRED.to_owned(), app("az-expired", &[fixtures::SUBSCRIPTION], vec![])),
            (
                AZ_NO_STORAGE.to_owned(),
                app(
                    "az-nostorage",
                    &[fixtures::SUBSCRIPTION],
                    vec![(strings(&["*"]), strings(&["Microsoft.Storage/*"]))],
                ),
            ),
            (AZ_NO_ROLE.to_owned(), app("az-norole", &[], vec![])),
            (
                AZ_READER.to_owned(),
                azure::App {
                    reads_applications: true,
                    secret_end_time: Some(reader_expires()),
                    ..app("az-reader", &[fixtures::SUBSCRIPTION], vec![(strings(&["*/read"]), vec![])])
                },
            ),
            (
                AZ_STARS.to_owned(),
                app(
                    "az-stars",
                    &[fixtures::SUBSCRIPTION],
                    vec![(
                        strings(&[
                            &format!("Microsoft.Storage/{}x", "*".repeat(40)),
                            "Microsoft.Sql/*/read",
                            "Microsoft.DocumentDB/*/read",
                        ]),
                        vec![],
                    )],
                ),
            ),
        ]),
        vec![fixtures::TENANT.to_owned()],
        HashMap::from([
            (fixtures::SUBSCRIPTION.to_owned(), ("Acme Production".to_owned(), "Enabled".to_owned())),
            (DISABLED_SUB.to_owned(), ("Old".to_owned(), "Disabled".to_owned())),
        ]),
    );
    let gcp = Arc::new(gcp::Gcp::new(
        HashMap::from([
            (SA_GOOD.to_owned(), sa(&["storage.buckets.list", "cloudsql.instances.list"], false)),
            (SA_DISABLED.to_owned(), sa(&["storage.buckets.list"], true)),
            (SA_NO_PERMS.to_owned(), sa(&[], false)),
            (
                SA_READER.to_owned(),
                gcp::Account {
                    key_valid_before: Some(reader_expires()),
                    ..sa(&["storage.buckets.list", "cloudsql.instances.list", "iam.serviceAccountKeys.get"], false)
                },
            ),
        ]),
        HashMap::from([(GCP_PROJECT.to_owned(), ("123456789012".to_owned(), "Acme Prod".to_owned()))]),
    ));
    let gcp_emulator = emulators::serve(gcp::router(gcp.clone())).await;
    *gcp.audience.lock().unwrap() = format!("{}/token", gcp_emulator.url());
    let atlas = emulators::serve(mongodb_atlas::router(atlas)).await;
    let aura = emulators::serve(neo4j_aura::router(aura)).await;
    let azure = emulators::serve(azure::router(azure)).await;
    let endpoints = Endpoints {
        atlas_base: atlas.url(),
        aura_base: aura.url(),
        azure_authority: azure.url(),
        azure_arm_base: azure.url(),
        azure_graph_base: azure.url(),
        gcp_token_url: format!("{}/token", gcp_emulator.url()),
        gcp_api_base: gcp_emulator.url(),
        gcp_iam_base: gcp_emulator.url(),
        ..Endpoints::default()
    };
    Stack { endpoints, atlas, aura, azure, gcp: gcp_emulator, trap: Trap::start().await }
}

/// The emulators of one test, and the endpoints that reach them.
struct Stack {
    endpoints: Endpoints,
    atlas: Emulator,
    aura: Emulator,
    azure: Emulator,
    gcp: Emulator,
    /// Where a malicious key file's `token_uri` points.
    trap: Trap,
}

/// A listener that only counts who connects to it.
struct Trap {
    addr: std::net::SocketAddr,
    hits: Arc<AtomicU32>,
}

impl Trap {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicU32::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self { addr, hits }
    }
}

/// Creates, saves and validates; returns the validation and the connection.
async fn run(
    app: &TestApp,
    tag: &str,
    provider: pb::Provider,
    credentials: Credentials,
) -> (pb::Validation, pb::Connection) {
    create(app, "acme", tag, provider).await;
    complete(app, "acme", tag, credentials).await.unwrap();
    let done = validate(app, tag, WAIT).await.unwrap();
    (done.validation.unwrap(), done.connection.unwrap())
}

fn atlas(public: &str, private: &str, project: &str) -> Credentials {
    Credentials::MongodbAtlas(MongoDbAtlasCredentials {
        project_id: project.into(),
        atlas_public_key: public.into(),
        atlas_private_key: private.into(),
    })
}

fn aura(id: &str, secret: &str) -> Credentials {
    Credentials::Neo4jAura(Neo4jAuraCredentials { aura_client_id: id.into(), aura_client_secret: secret.into() })
}

fn error_code(v: &pb::Validation) -> String {
    v.error.as_ref().map(|e| e.code.clone()).unwrap_or_default()
}

#[tokio::test]
async fn mongodb_atlas_probe_speaks_digest_auth_and_maps_each_failure() {
    let stack = emulators().await;
    let app = TestApp::builder().with_real_probes(stack.endpoints.clone()).spawn().await;
    let p = pb::Provider::MongodbAtlas;

    let (v, c) = run(&app, "atlas_ok", p, atlas("goodkey1", "atlas-private-1", PROJECT)).await;
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{v:?}");
    assert_eq!(c.status(), pb::ConnectionStatus::Active);
    assert_eq!(v.identity["project_name"], "acme-prod");
    assert_eq!(v.identity["project_id"], PROJECT);
    assert!(v.scope_checks.iter().all(|s| s.granted));

    let (v, _) = run(&app, "atlas_wrong_secret", p, atlas("goodkey1", "not-the-private-key", PROJECT)).await;
    assert_eq!(error_code(&v), "INVALID_CREDENTIALS", "a wrong digest is refused: {v:?}");

    let (v, _) =
        run(&app, "atlas_no_project", p, atlas("goodkey1", "atlas-private-1", "000000000000000000000000")).await;
    assert_eq!(error_code(&v), "RESOURCE_NOT_FOUND");
    assert!(v.error.unwrap().hint.contains("project id"));

    let (v, _) = run(&app, "atlas_ip_blocked", p, atlas("blocked1", "atlas-private-3", PROJECT)).await;
    assert_eq!(error_code(&v), "ACCESS_DENIED");
    assert!(v.error.unwrap().hint.contains("access list"), "the hint says to allow the worker's egress address");

    let (v, _) = run(&app, "atlas_no_clusters", p, atlas("noclust1", "atlas-private-2", PROJECT)).await;
    assert_eq!(error_code(&v), "ACCESS_DENIED");
    let database = v.scope_checks.iter().find(|s| s.scope == "database").unwrap();
    assert!(!database.granted && !database.missing_permissions.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn neo4j_aura_probe_uses_client_credentials() {
    let stack = emulators().await;
    let app = TestApp::builder().with_real_probes(stack.endpoints.clone()).spawn().await;
    let p = pb::Provider::Neo4jAura;

    let (v, c) = run(&app, "aura_ok", p, aura("aura-good", "aura-secret-1")).await;
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{v:?}");
    assert_eq!(c.status(), pb::ConnectionStatus::Active);
    assert_eq!(v.identity["tenant_ids"], "tenant-0001");

    let (v, c) = run(&app, "aura_bad_secret", p, aura("aura-good", "wrong")).await;
    assert_eq!(error_code(&v), "INVALID_CREDENTIALS");
    assert_eq!(c.status(), pb::ConnectionStatus::Failed);

    let (v, _) = run(&app, "aura_no_instances", p, aura("aura-noinst", "aura-secret-2")).await;
    assert_eq!(error_code(&v), "ACCESS_DENIED");
    app.finish().await;
}

#[tokio::test]
async fn an_unreachable_provider_is_retried_then_reported_unavailable() {
    // Nothing listens on these ports.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let endpoints = Endpoints { aura_base: format!("http://{closed}"), ..Endpoints::default() };
    let app = TestApp::builder().with_real_probes(endpoints).spawn().await;
    let (v, _) = run(&app, "aura_down", pb::Provider::Neo4jAura, aura("aura-good", "aura-secret-1")).await;
    assert_eq!(error_code(&v), "PROVIDER_UNAVAILABLE");
    assert_eq!(v.attempts, 3);
    assert!(v.error.unwrap().retryable);
    app.finish().await;
}

fn azure_creds(tenant: &str, subscription: &str, client: &str, secret: &str) -> Credentials {
    Credentials::Azure(AzureCredentials {
        tenant_id: tenant.into(),
        subscription_id: subscription.into(),
        client_id: client.into(),
        client_secret: secret.into(),
        ..Default::default()
    })
}

#[tokio::test]
async fn azure_probe_maps_entra_and_arm_answers() {
    let stack = emulators().await;
    let app = TestApp::builder().with_real_probes(stack.endpoints.clone()).spawn().await;
    let p = pb::Provider::Azure;
    let (t, s, c) = (fixtures::TENANT, fixtures::SUBSCRIPTION, fixtures::CLIENT);

    let (v, conn) = run(&app, "az_ok", p, azure_creds(t, s, c, "az-good")).await;
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{v:?}");
    assert_eq!(conn.status(), pb::ConnectionStatus::Active);
    assert_eq!(v.identity["subscription_name"], "Acme Production");
    // It may not read its registration in Graph: no date, and no harm.
    assert_eq!(v.identity.get("credential_expire_time"), None, "{v:?}");
    assert_eq!(stack.azure.requests.count(azure::EXPIRY_CALL), 1, "the end date was asked for");
    // One that may: its secret's end date, matched by the secret's hint
    // (the app's other secret ends sooner).
    let (v, _) = run(&app, "az_reader", p, azure_creds(t, s, AZ_READER, "az-reader")).await;
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{v:?}");
    assert_eq!(v.identity["credential_expire_time"], READER_EXPIRES);

    let hint = |v: &pb::Validation| v.error.as_ref().map(|e| e.hint.clone()).unwrap_or_default();
    let (v, _) = run(&app, "az_wrong_secret", p, azure_creds(t, s, c, "az-wrong")).await;
    assert_eq!(error_code(&v), "INVALID_CREDENTIALS");
    assert!(hint(&v).contains("Value"), "{v:?}");
    let (v, _) = run(&app, "az_expired", p, azure_creds(t, s, AZ_EXPIRED, "az-expired")).await;
    assert!(hint(&v).contains("new client secret"), "{v:?}");
    let (v, _) = run(&app, "az_unknown_app", p, azure_creds(t, s, "22222222-0000-0000-0000-000000000000", "x")).await;
    assert!(hint(&v).contains("client) ID"), "{v:?}");
    let (v, _) =
        run(&app, "az_unknown_tenant", p, azure_creds("33333333-0000-0000-0000-000000000000", s, c, "az-good")).await;
    assert_eq!(error_code(&v), "RESOURCE_NOT_FOUND");
    let (v, _) = run(&app, "az_no_sub", p, azure_creds(t, "44444444-0000-0000-0000-000000000000", c, "az-good")).await;
    assert_eq!(error_code(&v), "RESOURCE_NOT_FOUND");
    let (v, _) = run(&app, "az_disabled", p, azure_creds(t, DISABLED_SUB, c, "az-good")).await;
    assert_eq!(error_code(&v), "RESOURCE_NOT_FOUND");
    assert!(v.error.unwrap().message.contains("Disabled"));
    let (v, _) = run(&app, "az_no_role", p, azure_creds(t, s, AZ_NO_ROLE, "az-norole")).await;
    assert_eq!(error_code(&v), "ACCESS_DENIED");

    // Contributor minus storage: the storage scope is missing, database is fine.
    let (v, _) = run(&app, "az_no_storage", p, azure_creds(t, s, AZ_NO_STORAGE, "az-nostorage")).await;
    assert_eq!(error_code(&v), "ACCESS_DENIED");
    let storage = v.scope_checks.iter().find(|c| c.scope == "storage").unwrap();
    assert!(!storage.granted);
    assert_eq!(storage.missing_permissions, ["Microsoft.Storage/storageAccounts/read"]);
    assert!(v.scope_checks.iter().find(|c| c.scope == "database").unwrap().granted);
    app.finish().await;
}

/// Ends the test process if it is still running after `limit`: what a
/// test needs when the failure it guards against is a thread stuck in CPU
/// work, which no tokio timeout can interrupt.
struct Watchdog(Arc<std::sync::atomic::AtomicBool>);

impl Watchdog {
    fn arm(limit: Duration, what: &'static str) -> Self {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + limit;
            while std::time::Instant::now() < deadline {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            eprintln!("watchdog: {what} did not finish within {limit:?}");
            std::process::abort();
        });
        Self(done)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Security review M5: permission patterns come from the customer's own
/// custom roles. One with 40 stars kept the old recursive matcher busy for
/// ever, on a runtime thread no probe timeout can pre-empt. Now the
/// validation ends at once with the right verdict.
#[tokio::test]
async fn azure_permission_patterns_with_many_stars_are_evaluated_in_linear_time() {
    let _watchdog = Watchdog::arm(Duration::from_secs(90), "the Azure validation with a 40-star pattern");
    let stack = emulators().await;
    let app = TestApp::builder().with_real_probes(stack.endpoints.clone()).spawn().await;
    let (t, s) = (fixtures::TENANT, fixtures::SUBSCRIPTION);
    let (v, conn) = run(&app, "az_stars", pb::Provider::Azure, azure_creds(t, s, AZ_STARS, "az-stars")).await;
    assert_eq!(error_code(&v), "ACCESS_DENIED", "{v:?}");
    let scope = |name: &str| v.scope_checks.iter().find(|c| c.scope == name).unwrap().clone();
    assert_eq!(scope("storage").missing_permissions, ["Microsoft.Storage/storageAccounts/read"]);
    assert!(scope("database").granted, "{v:?}");
    assert_eq!(conn.status(), pb::ConnectionStatus::Failed);
    app.finish().await;
}

#[tokio::test]
async fn gcp_probe_signs_a_jwt_and_checks_project_and_permissions() {
    let stack = emulators().await;
    let app = TestApp::builder().with_real_probes(stack.endpoints.clone()).spawn().await;
    let p = pb::Provider::Gcp;

    let (v, conn) = run(&app, "gcp_ok", p, gcp_creds(&stack.trap, GCP_PROJECT, SA_GOOD, GCP_KEY)).await;
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{v:?}");
    assert_eq!(conn.status(), pb::ConnectionStatus::Active);
    assert_eq!(v.identity["project_number"], "123456789012");
    assert_eq!(v.identity["project_name"], "Acme Prod");
    // No iam.serviceAccountKeys.get: no date, and no harm.
    assert_eq!(v.identity.get("credential_expire_time"), None, "{v:?}");
    assert_eq!(stack.gcp.requests.count(gcp::EXPIRY_CALL), 1, "the key's validity was asked for");
    let (v, _) = run(&app, "gcp_reader", p, gcp_creds(&stack.trap, GCP_PROJECT, SA_READER, GCP_KEY)).await;
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{v:?}");
    assert_eq!(v.identity["credential_expire_time"], READER_EXPIRES);

    // Signed with a key that is not the account's: the signature check fails.
    let (v, _) = run(&app, "gcp_impostor", p, gcp_creds(&stack.trap, GCP_PROJECT, SA_GOOD, GCP_OTHER_KEY)).await;
    assert_eq!(error_code(&v), "INVALID_CREDENTIALS", "{v:?}");
    let (v, _) = run(&app, "gcp_disabled", p, gcp_creds(&stack.trap, GCP_PROJECT, SA_DISABLED, GCP_KEY)).await;
    assert_eq!(error_code(&v), "INVALID_CREDENTIALS");
    assert!(v.error.unwrap().hint.contains("new key"));

    let (v, _) = run(&app, "gcp_other_project", p, gcp_creds(&stack.trap, "someone-else-1", SA_GOOD, GCP_KEY)).await;
    assert_eq!(error_code(&v), "RESOURCE_NOT_FOUND");
    assert!(v.error.unwrap().hint.contains("project id"));

    let (v, _) = run(&app, "gcp_no_perms", p, gcp_creds(&stack.trap, GCP_PROJECT, SA_NO_PERMS, GCP_KEY)).await;
    assert_eq!(error_code(&v), "ACCESS_DENIED");
    let storage = v.scope_checks.iter().find(|c| c.scope == "storage").unwrap();
    assert_eq!(storage.missing_permissions, ["storage.buckets.list"]);
    assert_eq!(stack.trap.hits.load(Ordering::SeqCst), 0, "the key file's token_uri was never contacted");
    app.finish().await;
}

/// Throttling (429 with Retry-After, then success), a provider down (5xx on
/// every attempt) and a provider that never answers, through the whole
/// pipeline, for one provider's emulator.
async fn faults(provider: pb::Provider, pick: fn(&Stack) -> &Emulator, credentials: fn(&Stack) -> Credentials) {
    let stack = emulators().await;
    let app = TestApp::builder().with_real_probes(stack.endpoints.clone()).spawn().await;
    let emulator = pick(&stack);

    emulator.faults.throttle.store(1, Ordering::SeqCst);
    let (v, _) = run(&app, "throttled", provider, credentials(&stack)).await;
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{provider:?}: {v:?}");
    assert_eq!(v.attempts, 2, "{provider:?}: retried after the 429");

    emulator.faults.fail.store(1000, Ordering::SeqCst);
    let (v, _) = run(&app, "down", provider, credentials(&stack)).await;
    assert_eq!(error_code(&v), "PROVIDER_UNAVAILABLE", "{provider:?}");
    assert_eq!(v.attempts, 3);
    assert!(v.error.unwrap().retryable);
    emulator.faults.fail.store(0, Ordering::SeqCst);

    emulator.faults.slow.store(true, Ordering::SeqCst);
    let (v, _) = run(&app, "slow", provider, credentials(&stack)).await;
    assert_eq!(error_code(&v), "TIMEOUT", "{provider:?}: {v:?}");
    emulator.faults.slow.store(false, Ordering::SeqCst);
    app.finish().await;
}

/// The same faults as [`faults`], aimed at one `call` after the token,
/// through the whole pipeline (issue 15: Aura's tenants call turned a 429
/// into a final "tenants answered 429" instead of retrying it).
async fn call_faults(
    provider: pb::Provider,
    pick: fn(&Stack) -> &Emulator,
    call: Call,
    credentials: fn(&Stack) -> Credentials,
) {
    let stack = emulators().await;
    let app = TestApp::builder().with_real_probes(stack.endpoints.clone()).spawn().await;
    let faults = &pick(&stack).faults;

    faults.on(call, Fault::Throttle, 1);
    let (v, _) = run(&app, "throttled", provider, credentials(&stack)).await;
    assert_eq!(v.state(), pb::ValidationState::Succeeded, "{call:?}: {v:?}");
    assert_eq!(v.attempts, 2, "{call:?}: retried after the 429");
    let waited = faults.waited_after_throttle(call).expect("asked again");
    assert!(waited >= Duration::from_secs(1), "{call:?}: Retry-After: 1 was honoured, not {waited:?}");
    faults.clear();

    faults.on(call, Fault::Unavailable, ALWAYS);
    let (v, _) = run(&app, "down", provider, credentials(&stack)).await;
    assert_eq!(error_code(&v), "PROVIDER_UNAVAILABLE", "{call:?}: {v:?}");
    assert_eq!(v.attempts, 3);
    assert!(v.error.unwrap().retryable);
    faults.clear();

    faults.on(call, Fault::Silence, ALWAYS);
    let (v, _) = run(&app, "slow", provider, credentials(&stack)).await;
    assert_eq!(error_code(&v), "TIMEOUT", "{call:?}: {v:?}");
    faults.clear();
    app.finish().await;
}

#[tokio::test]
async fn aura_tenants_faults() {
    call_faults(pb::Provider::Neo4jAura, |s| &s.aura, neo4j_aura::CALLS[1], |_| aura("aura-good", "aura-secret-1"))
        .await;
}

#[tokio::test]
async fn atlas_faults() {
    faults(pb::Provider::MongodbAtlas, |s| &s.atlas, |_| atlas("goodkey1", "atlas-private-1", PROJECT)).await;
}

#[tokio::test]
async fn aura_faults() {
    faults(pb::Provider::Neo4jAura, |s| &s.aura, |_| aura("aura-good", "aura-secret-1")).await;
}

#[tokio::test]
async fn azure_faults() {
    faults(
        pb::Provider::Azure,
        |s| &s.azure,
        |_| azure_creds(fixtures::TENANT, fixtures::SUBSCRIPTION, fixtures::CLIENT, "az-good"),
    )
    .await;
}

#[tokio::test]
async fn gcp_faults() {
    faults(pb::Provider::Gcp, |s| &s.gcp, |s| gcp_creds(&s.trap, GCP_PROJECT, SA_GOOD, GCP_KEY)).await;
}

/// Security review L9: every provider answer is read with a 1 MiB cap. The
/// emulators send their real answers padded past 2 MiB (chunked, no
/// Content-Length), which an uncapped reader would accept. Azure and Aura
/// fail at the token answer (`oauth.rs`), Google Cloud at its token and
/// Atlas at the project (`http.rs`): PROVIDER_UNAVAILABLE, final, no retry.
#[tokio::test]
async fn oversized_provider_answers_fail_without_retries() {
    let stack = emulators().await;
    let app = TestApp::builder().with_real_probes(stack.endpoints.clone()).spawn().await;
    let (t, s, c) = (fixtures::TENANT, fixtures::SUBSCRIPTION, fixtures::CLIENT);
    let cases = [
        (pb::Provider::Azure, &stack.azure, azure_creds(t, s, c, "az-good")),
        (pb::Provider::Neo4jAura, &stack.aura, aura("aura-good", "aura-secret-1")),
        (pb::Provider::Gcp, &stack.gcp, gcp_creds(&stack.trap, GCP_PROJECT, SA_GOOD, GCP_KEY)),
        (pb::Provider::MongodbAtlas, &stack.atlas, atlas("goodkey1", "atlas-private-1", PROJECT)),
    ];
    for (i, (provider, emulator, credentials)) in cases.into_iter().enumerate() {
        emulator.faults.oversize.store(true, Ordering::SeqCst);
        let (v, conn) = run(&app, &format!("huge_{i}"), provider, credentials).await;
        emulator.faults.oversize.store(false, Ordering::SeqCst);
        assert_eq!(error_code(&v), "PROVIDER_UNAVAILABLE", "{provider:?}: {v:?}");
        let error = v.error.clone().unwrap();
        assert!(error.message.contains("over 1 MiB"), "{provider:?}: {}", error.message);
        assert!(!error.retryable, "{provider:?}: {error:?}");
        assert_eq!(v.attempts, 1, "{provider:?}: not retried");
        assert_eq!(conn.status(), pb::ConnectionStatus::Failed, "{provider:?}");
    }
    app.finish().await;
}

/// One revision of one connection's credentials, as the worker reads them
/// from Vault: the table below runs the worker's job loop without a server.
struct OneSecret(SecretFields);

#[async_trait::async_trait]
impl SecretStore for OneSecret {
    async fn write(&self, _: &SecretPath, _: &SecretFields, _: u64) -> Result<u64, SecretStoreError> {
        Err(SecretStoreError::Other("read-only".into()))
    }
    async fn read(&self, _: &SecretPath, _: u64) -> Result<SecretFields, SecretStoreError> {
        Ok(self.0.clone())
    }
    async fn current_version(&self, _: &SecretPath) -> Result<u64, SecretStoreError> {
        Ok(1)
    }
    async fn destroy(&self, _: &SecretPath) -> Result<(), SecretStoreError> {
        Ok(())
    }
}

/// The fields a credentials message saves.
fn secret_fields(credentials: Credentials) -> SecretFields {
    let fields: Vec<(&str, String)> = match credentials {
        Credentials::Neo4jAura(c) => {
            vec![("aura_client_id", c.aura_client_id), ("aura_client_secret", c.aura_client_secret)]
        }
        Credentials::MongodbAtlas(c) => vec![
            ("project_id", c.project_id),
            ("atlas_public_key", c.atlas_public_key),
            ("atlas_private_key", c.atlas_private_key),
        ],
        Credentials::Azure(c) => vec![
            ("tenant_id", c.tenant_id),
            ("subscription_id", c.subscription_id),
            ("client_id", c.client_id),
            ("client_secret", c.client_secret),
        ],
        Credentials::Gcp(c) => vec![("project_id", c.project_id), ("service_account_json", c.service_account_json)],
        other => panic!("not an HTTP probe: {other:?}"),
    };
    fields.into_iter().map(|(k, v)| (k.to_owned(), SecretString::from(v))).collect()
}

/// Probe timeout of the table's silent cases: short, so three silent
/// attempts end in about a second.
const SILENT_PROBE_TIMEOUT: Duration = Duration::from_millis(400);
/// Probe timeout of its other cases: long enough that no attempt times out
/// while 33 cases share two cores, so only the aimed fault fails one.
const ANSWERED_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs one validation job of `provider` through the worker's job loop
/// (retries, back-off, Retry-After) against `stack`, with `fault` aimed
/// at `call` `times` times; returns the outcome, the attempts, and how long
/// the probe waited after a 429 before asking again.
async fn run_job(
    stack: &Stack,
    provider: &str,
    call: Call,
    fault: Fault,
    times: u32,
) -> (Outcome, u32, Option<Duration>) {
    let (credentials, scopes) = match provider {
        "neo4j_aura" => (aura("aura-good", "aura-secret-1"), vec!["database"]),
        "mongodb_atlas" => (atlas("goodkey1", "atlas-private-1", PROJECT), vec!["database"]),
        "azure" => (
            azure_creds(fixtures::TENANT, fixtures::SUBSCRIPTION, fixtures::CLIENT, "az-good"),
            vec!["storage", "database"],
        ),
        _ => (gcp_creds(&stack.trap, GCP_PROJECT, SA_GOOD, GCP_KEY), vec!["storage", "database"]),
    };
    run_job_with(stack, provider, call, fault, times, credentials, scopes).await
}

/// [`run_job`] with these credentials.
async fn run_job_with(
    stack: &Stack,
    provider: &str,
    call: Call,
    fault: Fault,
    times: u32,
    credentials: Credentials,
    scopes: Vec<&str>,
) -> (Outcome, u32, Option<Duration>) {
    let emulator = match provider {
        "neo4j_aura" => &stack.aura,
        "mongodb_atlas" => &stack.atlas,
        "azure" => &stack.azure,
        _ => &stack.gcp,
    };
    emulator.faults.on(call, fault, times);
    let mut config: WorkerConfig = serde_json::from_value(serde_json::json!({})).expect("default worker config");
    let timeout = if fault == Fault::Silence { SILENT_PROBE_TIMEOUT } else { ANSWERED_PROBE_TIMEOUT };
    config.probe_timeout_ms = timeout.as_millis() as u64;
    config.probe_attempts = 3;
    config.probe_retry_base_ms = 20;
    config.endpoints = stack.endpoints.clone();
    let runner = JobRunner {
        probes: Probes::production(&config),
        config,
        secrets: Arc::new(OneSecret(secret_fields(credentials))),
        metrics: None,
    };
    let job = ValidationJob {
        version: MESSAGE_VERSION,
        validation_id: "v1".into(),
        connection_id: "c1".into(),
        workspace: "acme".into(),
        tag: "t".into(),
        provider: provider.into(),
        revision: 1,
        scopes: scopes.into_iter().map(String::from).collect(),
        external_id: None,
        nonce: String::new(),
    };
    let Ran::Done(result) = runner.process(&job, &tokio_util::sync::CancellationToken::new()).await else {
        panic!("{call:?} {fault:?}: the job did not finish");
    };
    (result.outcome, result.attempts, emulator.faults.waited_after_throttle(call))
}

/// Issue 15: every call of every HTTP probe (token or not) classifies a
/// 429 and a 5xx alike: retried (after the provider's `Retry-After`), then
/// PROVIDER_UNAVAILABLE, or TIMEOUT when it never answers. Each case has
/// its own emulators and runs at once with the others, so the table takes
/// about as long as its slowest case (a few seconds).
#[tokio::test]
async fn every_call_of_every_http_probe_retries_throttling_and_reports_outages() {
    let calls: Vec<(&str, Call)> = [
        ("neo4j_aura", &neo4j_aura::CALLS[..]),
        ("mongodb_atlas", &mongodb_atlas::CALLS[..]),
        ("azure", &azure::CALLS[..]),
        ("gcp", &gcp::CALLS[..]),
    ]
    .into_iter()
    .flat_map(|(provider, calls)| calls.iter().map(move |call| (provider, *call)))
    .collect();
    let mut cases = tokio::task::JoinSet::new();
    for (provider, call) in calls {
        for (fault, times) in [(Fault::Throttle, 1), (Fault::Unavailable, ALWAYS), (Fault::Silence, ALWAYS)] {
            cases.spawn(async move {
                let stack = emulators().await;
                let (outcome, attempts, waited) = run_job(&stack, provider, call, fault, times).await;
                (call, fault, outcome, attempts, waited)
            });
        }
    }
    let mut failures = Vec::new();
    let mut ran = 0;
    while let Some(case) = cases.join_next().await {
        let (call, fault, outcome, attempts, waited) = case.expect("case task");
        ran += 1;
        let verdict = match &outcome {
            Outcome::Succeeded { .. } => "SUCCEEDED".to_owned(),
            Outcome::Failed { error, .. } => {
                format!("{} retryable={} ({})", error.code, error.retryable, error.message)
            }
        };
        let ok = match fault {
            // Retry-After: 1 is longer than the 20 ms back-off: waited for.
            Fault::Throttle => {
                matches!(outcome, Outcome::Succeeded { .. })
                    && attempts >= 2
                    && waited.is_some_and(|w| w >= Duration::from_secs(1))
            }
            Fault::Unavailable => verdict.starts_with("PROVIDER_UNAVAILABLE retryable=true") && attempts == 3,
            Fault::Silence => verdict.starts_with("TIMEOUT retryable=true") && attempts == 3,
            // Not aimed here; a late answer is still an answer.
            Fault::Late => matches!(outcome, Outcome::Succeeded { .. }),
        };
        if !ok {
            failures.push(format!("{call:?} {fault:?}: {verdict}, {attempts} attempts, asked again after {waited:?}"));
        }
    }
    failures.sort();
    assert_eq!(ran, 11 * 3, "every call of the four probes, three faults each");
    assert!(failures.is_empty(), "{} of {ran} cases wrong:\n{}", failures.len(), failures.join("\n"));
}

/// The expiry lookups are extra: a throttled, failing or silent Graph or
/// IAM leaves the validation SUCCEEDED on its first attempt (no retry of
/// the probe), without a date, within the lookup's bound.
#[tokio::test]
async fn a_failing_expiry_lookup_changes_nothing_but_the_missing_date() {
    let mut cases = tokio::task::JoinSet::new();
    for provider in ["azure", "gcp"] {
        for fault in [Fault::Throttle, Fault::Unavailable, Fault::Silence] {
            cases.spawn(async move {
                let stack = emulators().await;
                let (call, credentials) = match provider {
                    "azure" => (
                        azure::EXPIRY_CALL,
                        azure_creds(fixtures::TENANT, fixtures::SUBSCRIPTION, AZ_READER, "az-reader"),
                    ),
                    _ => (gcp::EXPIRY_CALL, gcp_creds(&stack.trap, GCP_PROJECT, SA_READER, GCP_KEY)),
                };
                let started = std::time::Instant::now();
                let ran = run_job_with(&stack, provider, call, fault, ALWAYS, credentials, vec!["storage"]).await;
                (provider, fault, ran, started.elapsed())
            });
        }
    }
    while let Some(case) = cases.join_next().await {
        let (provider, fault, (outcome, attempts, _), took) = case.expect("case task");
        let Outcome::Succeeded { identity, .. } = &outcome else { panic!("{provider} {fault:?}: {outcome:?}") };
        assert_eq!(attempts, 1, "{provider} {fault:?}: not retried");
        assert_eq!(identity.get("credential_expire_time"), None, "{provider} {fault:?}");
        assert!(took < Duration::from_secs(20), "{provider} {fault:?}: took {took:?}");
    }
}
