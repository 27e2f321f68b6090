//! The run step's minters (docs/run.md), called directly as the worker
//! calls them, against moto (AWS) and the emulators: the credentials they
//! mint work at the provider, carry exactly the scope's grant, and every
//! failure is classified without a secret in it. The last tests run
//! `Minters::production` with the worker configuration `--dev` builds, so
//! the run step works against the provider sandbox too.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::Utc;
use cloudconn_infra::{amqp::issue::Minted, config::Source, secrets::SecretFields};
use cloudconn_tests::{
    emulators::{self, ALWAYS, Emulator, Fault, azure, gcp, mongodb_atlas, neo4j_aura, sandbox::Sandbox},
    harness::{env, fixtures, moto::MotoIam},
};
use cloudconn_worker::{
    config::{Endpoints, PlatformKey, WorkerConfig},
    mint::{MintRequest, MintedCredentials, Minters, RevokeRequest},
    probe::{ErrorCode, ProbeFailure},
};
use secrecy::SecretString;

const UID: &str = "4e098c3f-fe71-466b-97f2-2e4926947752";
const OTHER_UID: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const CONSUMER: &str = "billing-api/prd";
const EXTERNAL_ID: &str = "Xk3v_9aQ-2mZp7LrT4wYb8NcE1uHs6Gd";
const GCP_PROJECT: &str = "acme-prod-123";
const SA: &str = "minter@acme-prod-123.iam.gserviceaccount.com";
const GCP_KEY: &str = include_str!("../../fixtures/gcp-test-key.pem");
const GCP_PUBLIC_KEY: &str = include_str!("../../fixtures/gcp-test-key.pub.pem");
const STORAGE_SCOPE: &str = "https://www.googleapis.com/auth/devstorage.full_control";
/// moto is a Python server that loads each service on first use.
const MOTO_TIMEOUT: Duration = Duration::from_secs(20);

/// The worker's configuration with its defaults and these endpoints.
fn worker(endpoints: Endpoints) -> WorkerConfig {
    let source = Source::load(None, std::iter::empty()).expect("defaults");
    let mut config = WorkerConfig::from_source(&source).expect("worker config");
    config.endpoints = endpoints;
    config.probe_timeout_ms = MOTO_TIMEOUT.as_millis() as u64;
    config
}

fn fields(pairs: &[(&str, &str)]) -> SecretFields {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), SecretString::from((*v).to_owned()))).collect()
}

fn request(provider: &str, scope: &str) -> MintRequest {
    MintRequest {
        provider: provider.into(),
        scope: scope.into(),
        consumer: CONSUMER.into(),
        ttl: Duration::from_secs(900),
        external_id: (provider == "aws").then(|| EXTERNAL_ID.to_owned()),
        connection_id: UID.into(),
        revision: 1,
        keyless: None,
    }
}

async fn mint(minters: &Minters, request: &MintRequest, credentials: &SecretFields) -> MintedCredentials {
    let minter = minters.get(&request.provider).expect("a minter");
    match minter.mint(request, credentials).await {
        Ok(minted) => minted,
        Err(failure) => panic!("{} {}: {failure:?}", request.provider, request.scope),
    }
}

async fn refused(minters: &Minters, request: &MintRequest, credentials: &SecretFields) -> ProbeFailure {
    let minter = minters.get(&request.provider).expect("a minter");
    minter.mint(request, credentials).await.expect_err("refused")
}

/// `expire_time` is `seconds` from now, give or take a minute (clocks,
/// moto's rounding).
fn expires_in(minted: &MintedCredentials, seconds: i64) {
    let left = (minted.expire_time - Utc::now()).num_seconds();
    assert!((seconds - 60..=seconds + 5).contains(&left), "expires in {left} s, not ~{seconds} s");
}

fn token(minted: &MintedCredentials) -> (String, Vec<String>, String) {
    match &minted.credentials {
        Minted::AccessToken { access_token, token_type, scopes, audience } => {
            assert_eq!(token_type, "Bearer");
            (access_token.expose().to_owned(), scopes.clone(), audience.clone())
        }
        other => panic!("not an access token: {other:?}"),
    }
}

/// S3 `ListBuckets` with minted session credentials, as a component does;
/// the error code if refused.
async fn list_buckets(endpoint: &str, minted: &Minted) -> Result<(), String> {
    use aws_sdk_s3::{config, error::ProvideErrorMetadata};
    use aws_smithy_http_client::tls;
    let Minted::AwsSession { access_key_id, secret_access_key, session_token, region, .. } = minted else {
        panic!("not an AWS session: {minted:?}");
    };
    cloudconn_infra::tls::install_crypto_provider();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let credentials = config::Credentials::new(
        access_key_id,
        secret_access_key.expose(),
        Some(session_token.expose().to_owned()),
        None,
        "minted",
    );
    let conf = config::Config::builder()
        .behavior_version(config::BehaviorVersion::latest())
        .http_client(http)
        .retry_config(config::retry::RetryConfig::disabled())
        .region(config::Region::new(region.clone()))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(credentials)
        .build();
    match aws_sdk_s3::Client::from_conf(conf).list_buckets().send().await {
        Ok(_) => Ok(()),
        Err(e) => Err(e.code().unwrap_or("unknown").to_owned()),
    }
}

/// moto's record of the `AssumeRole` that issued `access_key_id` (its
/// state dump, `/moto-api/data.json`).
async fn moto_assumed_role(endpoint: &str, access_key_id: &str) -> serde_json::Value {
    let data: serde_json::Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .expect("moto answers")
        .json()
        .await
        .expect("moto's state");
    let roles = data["sts"]["AssumedRole"].as_array().cloned().unwrap_or_default();
    roles.into_iter().find(|r| r["access_key_id"] == access_key_id).expect("moto recorded the AssumeRole")
}

fn assumed_role_arn(minted: &Minted) -> &str {
    match minted {
        Minted::AwsSession { assumed_role_arn, .. } => assumed_role_arn,
        other => panic!("not an AWS session: {other:?}"),
    }
}

/// AWS on the shared moto: the session lists buckets, is named for the
/// consumer, lives the TTL, in the configured region.
#[tokio::test]
async fn aws_session_credentials_list_buckets_on_moto_and_carry_the_session_name() {
    let endpoint = env::aws_endpoint();
    let minters =
        Minters::production(&worker(Endpoints { aws_endpoint: Some(endpoint.clone()), ..Default::default() }));
    let role = fields(&[("role_arn", fixtures::ROLE_ARN)]);
    let minted = mint(&minters, &request("aws", "storage"), &role).await;
    assert!(
        assumed_role_arn(&minted.credentials).ends_with(":assumed-role/cloudconn-access/cc-billing-api-prd"),
        "{minted:?}"
    );
    let Minted::AwsSession { region, .. } = &minted.credentials else { unreachable!() };
    let configured = std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION"));
    assert_eq!(region, &configured.unwrap_or_else(|_| "us-east-1".into()), "the platform's region");
    expires_in(&minted, 900);
    list_buckets(&endpoint, &minted.credentials).await.expect("the session lists buckets");
    // What moto received: the scope's session policy and the external id.
    let Minted::AwsSession { access_key_id, .. } = &minted.credentials else { unreachable!() };
    let received = moto_assumed_role(&endpoint, access_key_id).await;
    let policy: serde_json::Value =
        serde_json::from_str(received["policy"].as_str().expect("a session policy")).unwrap();
    assert_eq!(
        policy,
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}]})
    );
    assert_eq!(
        (received["external_id"].as_str(), received["session_name"].as_str()),
        (Some(EXTERNAL_ID), Some("cc-billing-api-prd"))
    );

    let mut long = request("aws", "functions");
    long.ttl = Duration::from_secs(1800);
    expires_in(&mint(&minters, &long, &role).await, 1800);
}

/// AWS on a moto that enforces IAM and the trust policy's external id: the
/// connection's id gets a working session; another id is
/// EXTERNAL_ID_MISMATCH, final, with the hint quoting the id presented.
#[tokio::test]
async fn aws_on_an_iam_enforcing_moto_needs_the_connections_external_id() {
    let moto = MotoIam::start().await;
    let platform = moto.user("cloudconn-platform", &["sts:AssumeRole"]).await;
    let role = moto.role("minted", "cloudconn-platform", Some(EXTERNAL_ID), &["s3:ListAllMyBuckets"]).await;
    moto.enforce().await;
    let mut config = worker(Endpoints { aws_endpoint: Some(moto.endpoint.clone()), ..Default::default() });
    config.aws_platform_key = Some(PlatformKey { access_key_id: platform.id, secret_access_key: platform.secret });
    let minters = Minters::production(&config);
    let role_fields = fields(&[("role_arn", &role)]);

    let minted = mint(&minters, &request("aws", "storage"), &role_fields).await;
    assert!(assumed_role_arn(&minted.credentials).ends_with("assumed-role/minted/cc-billing-api-prd"), "{minted:?}");
    list_buckets(&moto.endpoint, &minted.credentials).await.expect("the session lists buckets");

    let mut foreign = request("aws", "storage");
    foreign.external_id = Some("another-tenants-external-id".into());
    let failure = refused(&minters, &foreign, &role_fields).await;
    assert_eq!((failure.code, failure.retryable), (ErrorCode::ExternalIdMismatch, false), "{failure:?}");
    assert!(failure.message.contains(&role), "{}", failure.message);
    assert!(failure.hint.contains("\"sts:ExternalId\": \"another-tenants-external-id\""), "{}", failure.hint);
}

/// The emulators of one test (not the sandbox: accounts configured here),
/// and their state.
struct Stack {
    config: WorkerConfig,
    gcp: Emulator,
    gcp_state: Arc<gcp::Gcp>,
    azure: Emulator,
    azure_state: Arc<azure::Azure>,
    atlas: Emulator,
    atlas_state: Arc<mongodb_atlas::Atlas>,
    aura: Emulator,
}

impl Stack {
    fn emulators(&self) -> [&Emulator; 4] {
        [&self.gcp, &self.azure, &self.atlas, &self.aura]
    }

    fn total_requests(&self) -> u64 {
        self.emulators().iter().map(|e| e.requests.total()).sum()
    }
}

async fn stack() -> Stack {
    let gcp_state = Arc::new(gcp::Gcp::new(
        HashMap::from([(
            SA.to_owned(),
            gcp::Account {
                public_key_pem: GCP_PUBLIC_KEY.into(),
                key_disabled: false,
                projects: HashMap::from([(GCP_PROJECT.to_owned(), vec!["storage.buckets.list".to_owned()])]),
                ..Default::default()
            },
        )]),
        HashMap::from([(GCP_PROJECT.to_owned(), ("123456789012".to_owned(), "Acme Prod".to_owned()))]),
    ));
    let gcp = emulators::serve(gcp::router(gcp_state.clone())).await;
    *gcp_state.audience.lock().unwrap() = format!("{}/token", gcp.url());

    let azure_state = Arc::new(azure::Azure::new(
        HashMap::from([(
            fixtures::CLIENT.to_owned(),
            azure::App {
                tenant: fixtures::TENANT.into(),
                secret: "az-good".into(),
                secret_expired: false,
                subscriptions: vec![fixtures::SUBSCRIPTION.into()],
                permissions: vec![(vec!["*/read".into()], vec![])],
                ..Default::default()
            },
        )]),
        vec![fixtures::TENANT.to_owned()],
        HashMap::from([(fixtures::SUBSCRIPTION.to_owned(), ("Acme".to_owned(), "Enabled".to_owned()))]),
    ));
    let azure = emulators::serve(azure::router(azure_state.clone())).await;

    let key = |private: &str| mongodb_atlas::Key {
        private_key: private.into(),
        projects: vec![fixtures::ATLAS_PROJECT.into()],
        can_read_clusters: true,
        ip_blocked: false,
    };
    let atlas_state = Arc::new(
        mongodb_atlas::Atlas::new(
            HashMap::from([
                ("goodkey1".to_owned(), key("atlas-private-1")),
                ("readonly1".to_owned(), key("atlas-private-2")),
            ]),
            HashMap::from([(fixtures::ATLAS_PROJECT.to_owned(), "acme-prod".to_owned())]),
        )
        .with_read_only_key("readonly1"),
    );
    let atlas = emulators::serve(mongodb_atlas::router(atlas_state.clone())).await;

    let aura = emulators::serve(neo4j_aura::router(neo4j_aura::Aura::new(HashMap::from([(
        "aura-good".to_owned(),
        neo4j_aura::Client { secret: "aura-secret-1".into(), tenant: "tenant-0001".into(), can_list_instances: true },
    )]))))
    .await;

    let config = worker(Endpoints {
        gcp_token_url: format!("{}/token", gcp.url()),
        gcp_api_base: gcp.url(),
        gcp_iam_base: gcp.url(),
        azure_authority: azure.url(),
        azure_arm_base: azure.url(),
        azure_graph_base: azure.url(),
        atlas_base: atlas.url(),
        aura_base: aura.url(),
        ..Default::default()
    });
    Stack { config, gcp, gcp_state, azure, azure_state, atlas, atlas_state, aura }
}

fn gcp_key(email: &str, private_key: &str, key_id: &str) -> SecretFields {
    let file = serde_json::json!({
        "type": "service_account", "project_id": GCP_PROJECT, "private_key_id": key_id,
        "private_key": private_key, "client_email": email,
        // Never followed: the configured token URL is.
        "token_uri": "http://127.0.0.1:9/token",
    });
    fields(&[("project_id", GCP_PROJECT), ("service_account_json", &file.to_string())])
}

fn azure_secret(secret: &str) -> SecretFields {
    fields(&[
        ("tenant_id", fixtures::TENANT),
        ("subscription_id", fixtures::SUBSCRIPTION),
        ("client_id", fixtures::CLIENT),
        ("client_secret", secret),
    ])
}

fn atlas_key(public: &str, private: &str) -> SecretFields {
    fields(&[("project_id", fixtures::ATLAS_PROJECT), ("atlas_public_key", public), ("atlas_private_key", private)])
}

fn aura_secret(secret: &str) -> SecretFields {
    fields(&[("aura_client_id", "aura-good"), ("aura_client_secret", secret)])
}

async fn get(url: String, bearer: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new().get(url).bearer_auth(bearer).send().await.expect("emulator answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// GCP: the token carries the scope's OAuth scope (the token endpoint's
/// answer and Google's tokeninfo say so), the storage API takes it, and
/// Resource Manager refuses it: least privilege per scope.
#[tokio::test]
async fn gcp_token_carries_the_scopes_oauth_scope_and_only_that_api_accepts_it() {
    let stack = stack().await;
    let minters = Minters::production(&stack.config);
    let key = gcp_key(SA, GCP_KEY, "k1");

    let minted = mint(&minters, &request("gcp", "storage"), &key).await;
    let (access_token, scopes, _) = token(&minted);
    assert_eq!(scopes, [STORAGE_SCOPE]);
    expires_in(&minted, 3599);
    assert_eq!(stack.gcp_state.scopes_of(&access_token), Some(vec![STORAGE_SCOPE.to_owned()]));
    let (status, info) = get(format!("{}/tokeninfo?access_token={access_token}", stack.gcp.url()), "").await;
    assert_eq!((status, info["scope"].as_str(), info["email"].as_str()), (200, Some(STORAGE_SCOPE), Some(SA)));

    let (status, buckets) = get(format!("{}/storage/v1/b?project={GCP_PROJECT}", stack.gcp.url()), &access_token).await;
    assert_eq!((status, buckets["kind"].as_str()), (200, Some("storage#buckets")), "{buckets}");
    let (status, refusal) = get(format!("{}/v1/projects/{GCP_PROJECT}", stack.gcp.url()), &access_token).await;
    assert_eq!(status, 403, "a storage token is not a Resource Manager token");
    assert_eq!(refusal["error"]["details"][0]["reason"], "ACCESS_TOKEN_SCOPE_INSUFFICIENT");

    // Each scope asks for its own OAuth scope.
    for (scope, oauth) in [
        ("database", "https://www.googleapis.com/auth/sqlservice.admin"),
        ("messaging", "https://www.googleapis.com/auth/pubsub"),
        ("functions", "https://www.googleapis.com/auth/cloud-platform"),
    ] {
        let (access_token, scopes, _) = token(&mint(&minters, &request("gcp", scope), &key).await);
        assert_eq!(scopes, [oauth], "{scope}");
        assert_eq!(stack.gcp_state.scopes_of(&access_token), Some(vec![oauth.to_owned()]), "{scope}");
    }
}

/// Azure: the token's audience is the scope's resource (the minted
/// `audience`, the JWT's `aud`, and the emulator's record agree), and
/// Resource Manager takes only the `functions` scope's token.
#[tokio::test]
async fn azure_token_audience_is_the_scopes_resource() {
    let stack = stack().await;
    let minters = Minters::production(&stack.config);
    let app = azure_secret("az-good");
    let subscription = format!("{}/subscriptions/{}?api-version=2022-12-01", stack.azure.url(), fixtures::SUBSCRIPTION);
    for (scope, resource, arm_status) in [
        ("storage", "https://storage.azure.com", 401),
        ("database", "https://database.windows.net", 401),
        ("messaging", "https://servicebus.azure.net", 401),
        ("functions", "https://management.azure.com", 200),
    ] {
        let minted = mint(&minters, &request("azure", scope), &app).await;
        let (access_token, scopes, audience) = token(&minted);
        assert_eq!(audience, resource, "{scope}");
        assert_eq!(scopes, [format!("{resource}/.default")], "{scope}");
        let claims: serde_json::Value = jsonwebtoken::dangerous::insecure_decode_claims(&access_token).expect("a JWT");
        assert_eq!(claims["aud"], resource, "{scope}");
        assert_eq!(stack.azure_state.audience_of(&access_token).as_deref(), Some(resource), "{scope}");
        expires_in(&minted, 3599);
        let (status, body) = get(subscription.clone(), &access_token).await;
        assert_eq!(status, arm_status, "{scope}: {body}");
    }
    let failure = refused(&minters, &request("azure", "storage"), &azure_secret("not-the-secret")).await;
    assert_eq!((failure.code, failure.retryable), (ErrorCode::InvalidCredentials, false), "{failure:?}");
    assert!(failure.message.contains("AADSTS7000215"), "{}", failure.message);
}

fn database_user(minted: &MintedCredentials) -> (String, String) {
    match &minted.credentials {
        Minted::DatabaseUser { username, password, database, roles } => {
            assert_eq!(
                (database.as_str(), roles.as_slice()),
                ("admin", ["readWriteAnyDatabase@admin".to_owned()].as_slice())
            );
            (username.clone(), password.expose().to_owned())
        }
        other => panic!("not a database user: {other:?}"),
    }
}

/// Atlas: each issue is a database user that exists with its
/// `deleteAfterDate` = the expiry and the minted password; revoke removes
/// the connection's users (keeping a revision's when asked) and never
/// another connection's.
#[tokio::test]
async fn atlas_users_exist_until_their_expiry_and_revoke_removes_the_connections() {
    let stack = stack().await;
    let minters = Minters::production(&stack.config);
    let atlas = minters.get("mongodb_atlas").unwrap();
    let key = atlas_key("goodkey1", "atlas-private-1");
    let users = || stack.atlas_state.database_users(fixtures::ATLAS_PROJECT);

    let first = mint(&minters, &request("mongodb_atlas", "database"), &key).await;
    expires_in(&first, 900);
    let (name, password) = database_user(&first);
    assert!(name.starts_with("cc-4e098c3ffe71-r1-"), "{name}");
    let found = users();
    let user = found.iter().find(|u| u.username == name).expect("the user exists at Atlas");
    assert_eq!(user.delete_after, Some(first.expire_time));
    assert_eq!(user.roles, ["readWriteAnyDatabase@admin"]);
    assert!(user.password_is(&password));

    let mut rotated = request("mongodb_atlas", "database");
    rotated.revision = 2;
    let (kept, _) = database_user(&mint(&minters, &rotated, &key).await);
    mint(&minters, &request("mongodb_atlas", "database"), &key).await;
    let mut foreign = request("mongodb_atlas", "database");
    foreign.connection_id = OTHER_UID.into();
    let (others, _) = database_user(&mint(&minters, &foreign, &key).await);
    assert_eq!(users().len(), 4);

    let revoke =
        |keep_revision| RevokeRequest { provider: "mongodb_atlas".into(), connection_id: UID.into(), keep_revision };
    assert_eq!(atlas.revoke(&revoke(Some(2)), &key).await.unwrap(), 2, "a rotation to revision 2");
    let mut left: Vec<String> = users().into_iter().map(|u| u.username).collect();
    left.sort();
    let mut expected = vec![kept.clone(), others.clone()];
    expected.sort();
    assert_eq!(left, expected);
    assert_eq!(atlas.revoke(&revoke(None), &key).await.unwrap(), 1, "a delete");
    assert_eq!(users().into_iter().map(|u| u.username).collect::<Vec<_>>(), [others]);
    assert_eq!(atlas.revoke(&revoke(None), &key).await.unwrap(), 0, "nothing left to remove");

    // A read-only key may not create users: the hint names the role.
    let failure =
        refused(&minters, &request("mongodb_atlas", "database"), &atlas_key("readonly1", "atlas-private-2")).await;
    assert_eq!((failure.code, failure.retryable), (ErrorCode::AccessDenied, false), "{failure:?}");
    assert!(failure.hint.contains("Project Database Access Admin"), "{}", failure.hint);
}

/// Atlas: one consumer's mints take turns between two users (blue/green),
/// so a refresh never changes the password handed out just before it; two
/// mints of one consumer at once (two server replicas) get one user each.
#[tokio::test]
async fn atlas_mints_of_one_consumer_take_turns_between_two_users() {
    let stack = stack().await;
    let minters = Minters::production(&stack.config);
    let key = atlas_key("goodkey1", "atlas-private-1");
    let users = || stack.atlas_state.database_users(fixtures::ATLAS_PROJECT);
    let holds =
        |(name, password): &(String, String)| users().iter().any(|u| &u.username == name && u.password_is(password));
    let mut etl = request("mongodb_atlas", "database");
    let mut minted = Vec::new();
    for i in 0..4 {
        // A minute longer each: dates to tell the older user by, though
        // the mints come within one second.
        etl.ttl = Duration::from_secs(900 + 60 * i);
        minted.push(database_user(&mint(&minters, &etl, &key).await));
    }
    let names: Vec<&str> = minted.iter().map(|(name, _)| name.as_str()).collect();
    assert_ne!(names[0], names[1], "the second mint leaves the first user alone");
    assert_eq!((names[2], names[3]), (names[0], names[1]), "then they take turns");
    assert_eq!(users().len(), 2);
    assert!(holds(&minted[2]) && holds(&minted[3]), "the last two passwords both work");

    let mut reports = etl.clone();
    reports.consumer = "reports".into();
    let (a, b) = tokio::join!(mint(&minters, &reports, &key), mint(&minters, &reports, &key));
    let (a, b) = (database_user(&a), database_user(&b));
    assert_ne!(a.0, b.0, "one user each");
    assert!(holds(&a) && holds(&b), "neither changed the other's password");
    assert_eq!(users().len(), 4);
}

/// Aura: the client-credentials token is accepted by the Aura API.
#[tokio::test]
async fn aura_token_is_accepted_by_its_api() {
    let stack = stack().await;
    let minters = Minters::production(&stack.config);
    let minted = mint(&minters, &request("neo4j_aura", "database"), &aura_secret("aura-secret-1")).await;
    expires_in(&minted, 3600);
    let (access_token, _, _) = token(&minted);
    let (status, tenants) = get(format!("{}/v1/tenants", stack.aura.url()), &access_token).await;
    assert_eq!((status, tenants["data"][0]["id"].as_str()), (200, Some("tenant-0001")));
    let failure = refused(&minters, &request("neo4j_aura", "database"), &aura_secret("wrong")).await;
    assert_eq!(failure.code, ErrorCode::InvalidCredentials, "{failure:?}");
}

/// A provider throttling or down makes a retryable PROVIDER_UNAVAILABLE
/// (with its Retry-After), counted at the emulator: one minting call each.
#[tokio::test]
async fn throttling_and_outages_are_retryable_and_counted_at_the_emulator() {
    let stack = stack().await;
    let minters = Minters::production(&stack.config);
    let cases: [(&str, &Emulator, emulators::Call, SecretFields); 4] = [
        ("gcp", &stack.gcp, gcp::MINT_CALLS[0], gcp_key(SA, GCP_KEY, "k1")),
        ("azure", &stack.azure, azure::MINT_CALLS[0], azure_secret("az-good")),
        ("mongodb_atlas", &stack.atlas, mongodb_atlas::MINT_CALLS[0], atlas_key("goodkey1", "atlas-private-1")),
        ("neo4j_aura", &stack.aura, neo4j_aura::MINT_CALLS[0], aura_secret("aura-secret-1")),
    ];
    for (provider, emulator, call, credentials) in cases {
        let scope = "database";
        mint(&minters, &request(provider, scope), &credentials).await;
        let calls = emulator.requests.count(call);
        assert!(calls >= 1, "{provider}: the minting call is counted");
        for fault in [Fault::Throttle, Fault::Unavailable] {
            emulator.faults.on(call, fault, ALWAYS);
            let failure = refused(&minters, &request(provider, scope), &credentials).await;
            assert_eq!(
                (failure.code, failure.retryable),
                (ErrorCode::ProviderUnavailable, true),
                "{provider} {fault:?}"
            );
            if fault == Fault::Throttle {
                assert_eq!(failure.retry_after, Some(Duration::from_secs(1)), "{provider}");
            }
            emulator.faults.clear();
        }
        assert!(emulator.requests.count(call) > calls, "{provider}: the failed calls are counted too");
    }
}

/// Secret values never appear in a failure (message, hint, `Debug`), nor
/// an issued secret in the minted credentials' `Debug`; values the worker
/// cannot put into a request are refused before any provider call.
#[tokio::test]
async fn no_secret_in_a_failure_and_no_provider_call_for_malformed_values() {
    let stack = stack().await;
    let minters = Minters::production(&stack.config);
    let canary = format!("CANARY{}", uuid::Uuid::new_v4().simple());
    let unusable_key = GCP_KEY.replace("MII", &format!("MII{canary}"));
    let cases: Vec<(&str, SecretFields, ErrorCode)> = vec![
        (
            "gcp",
            gcp_key(&format!("{canary}@x.iam.gserviceaccount.com"), GCP_KEY, &canary),
            ErrorCode::InvalidCredentials,
        ),
        ("gcp", gcp_key(SA, &unusable_key, &canary), ErrorCode::MalformedCredentials),
        ("azure", azure_secret(&canary), ErrorCode::InvalidCredentials),
        ("mongodb_atlas", atlas_key("goodkey1", &canary), ErrorCode::InvalidCredentials),
        ("neo4j_aura", aura_secret(&canary), ErrorCode::InvalidCredentials),
    ];
    for (provider, credentials, code) in cases {
        let failure = refused(&minters, &request(provider, "database"), &credentials).await;
        assert_eq!(failure.code, code, "{provider}: {failure:?}");
        assert!(!format!("{failure:?}").contains(&canary), "{provider}: {failure:?}");
    }

    let minted = mint(&minters, &request("neo4j_aura", "database"), &aura_secret("aura-secret-1")).await;
    let (issued, _, _) = token(&minted);
    assert!(!format!("{minted:?}").contains(&issued), "an issued token in Debug");
    let minted = mint(&minters, &request("mongodb_atlas", "database"), &atlas_key("goodkey1", "atlas-private-1")).await;
    let (_, password) = database_user(&minted);
    assert!(!format!("{minted:?}").contains(&password), "an issued password in Debug");

    let before = stack.total_requests();
    let malformed: [(&str, SecretFields); 4] = [
        ("gcp", fields(&[("service_account_json", "{not json")])),
        ("azure", fields(&[("tenant_id", "common/oauth2/v2.0/token?x="), ("client_secret", "s")])),
        (
            "mongodb_atlas",
            fields(&[("project_id", "../../admin"), ("atlas_public_key", "k"), ("atlas_private_key", "p")]),
        ),
        ("neo4j_aura", fields(&[("aura_client_id", "id\r\nX-Injected: 1"), ("aura_client_secret", "s")])),
    ];
    for (provider, credentials) in malformed {
        let failure = refused(&minters, &request(provider, "database"), &credentials).await;
        assert_eq!((failure.code, failure.retryable), (ErrorCode::MalformedCredentials, false), "{provider}");
    }
    assert_eq!(stack.total_requests(), before, "no provider call for malformed values");
    // Revoking what nothing created calls nobody.
    let revoke = RevokeRequest { provider: "gcp".into(), connection_id: UID.into(), keep_revision: None };
    assert_eq!(minters.get("gcp").unwrap().revoke(&revoke, &gcp_key(SA, GCP_KEY, "k1")).await.unwrap(), 0);
    assert_eq!(stack.total_requests(), before);
}

/// The provider sandbox and the minters `--dev` builds for it: the worker
/// configuration aimed at it by the server's own `dev::sandbox::aim`.
async fn dev_sandbox() -> (Sandbox, Minters) {
    let sandbox = Sandbox::start().await;
    let mut config = worker(Endpoints::default());
    cloudconn_server::dev::sandbox::aim(&mut config, &sandbox);
    let minters = Minters::production(&config);
    (sandbox, minters)
}

/// `--dev`: the worker configuration the server builds for its sandbox
/// (`dev::sandbox::aim`), given to `Minters::production`, mints for every
/// provider, and the minted credentials work at the sandbox.
#[tokio::test]
async fn dev_mode_minters_work_against_the_provider_sandbox() {
    let (sandbox, minters) = dev_sandbox().await;
    let role = fields(&[("role_arn", "arn:aws:iam::123456789012:role/DuctapeAccess")]);

    // AWS: one session per scope, each with the scope's session policy.
    for scope in ["storage", "database", "messaging", "functions"] {
        let minted = mint(&minters, &request("aws", scope), &role).await;
        assert!(assumed_role_arn(&minted.credentials).ends_with("assumed-role/DuctapeAccess/cc-billing-api-prd"));
        let call = sandbox.state.aws.assumed_roles().pop().expect("an AssumeRole");
        let grant = cloudconn_infra::permissions::grant_for("aws", scope).unwrap();
        assert_eq!(call.policy, grant.session_policy(), "{scope}");
        assert_eq!(
            (call.session_name.as_str(), call.external_id.as_str(), call.duration_seconds),
            ("cc-billing-api-prd", EXTERNAL_ID, Some(900))
        );
        let listed = list_buckets(&sandbox.aws.url(), &minted.credentials).await;
        if scope == "storage" {
            listed.expect("a storage session lists buckets");
        } else {
            assert_eq!(listed, Err("AccessDenied".into()), "{scope}: outside its session policy");
        }
    }
    // Longer than the role's MaxSessionDuration: cut to the hour every role allows.
    let mut long = request("aws", "storage");
    long.ttl = Duration::from_secs(7200);
    expires_in(&mint(&minters, &long, &role).await, 3600);
    let durations: Vec<_> =
        sandbox.state.aws.assumed_roles().iter().rev().take(2).map(|c| (c.duration_seconds, c.granted)).collect();
    assert_eq!(durations, [(Some(3600), true), (Some(7200), false)]);

    let key = fields(&[("project_id", GCP_PROJECT), ("service_account_json", &fixtures::service_account_json("k"))]);
    let (access_token, scopes, _) = token(&mint(&minters, &request("gcp", "storage"), &key).await);
    assert_eq!(scopes, [STORAGE_SCOPE]);
    assert_eq!(sandbox.state.gcp.scopes_of(&access_token), Some(vec![STORAGE_SCOPE.to_owned()]));

    let (access_token, _, audience) = token(&mint(&minters, &request("azure", "messaging"), &azure_secret("s")).await);
    assert_eq!(audience, "https://servicebus.azure.net");
    assert_eq!(sandbox.state.azure.audience_of(&access_token).as_deref(), Some("https://servicebus.azure.net"));

    let minted = mint(&minters, &request("mongodb_atlas", "database"), &atlas_key("abcdefgh", "atlas-k")).await;
    let (name, _) = database_user(&minted);
    let users = sandbox.state.atlas.database_users(fixtures::ATLAS_PROJECT);
    assert!(users.iter().any(|u| u.username == name && u.delete_after == Some(minted.expire_time)), "{users:?}");
    let revoke = RevokeRequest { provider: "mongodb_atlas".into(), connection_id: UID.into(), keep_revision: None };
    let atlas = minters.get("mongodb_atlas").unwrap();
    assert_eq!(atlas.revoke(&revoke, &atlas_key("abcdefgh", "atlas-k")).await.unwrap(), 1);

    let (access_token, _, _) = token(&mint(&minters, &request("neo4j_aura", "database"), &aura_secret("s")).await);
    assert_eq!(get(format!("{}/v1/tenants", sandbox.aura.url()), &access_token).await.0, 200);
}

/// The sandbox's steering words do to minting what they do to probes.
#[tokio::test]
async fn sandbox_steering_values_steer_minting() {
    let (sandbox, minters) = dev_sandbox().await;
    let steered = |provider: &str, word: &str| -> SecretFields {
        match provider {
            "aws" => fields(&[("role_arn", &format!("arn:aws:iam::123456789012:role/{word}"))]),
            "gcp" => {
                let mut key: serde_json::Value =
                    serde_json::from_str(&fixtures::service_account_json("k")).expect("key file");
                key["client_email"] = format!("{word}@acme-prod-123.iam.gserviceaccount.com").into();
                fields(&[("project_id", GCP_PROJECT), ("service_account_json", &key.to_string())])
            }
            "azure" => azure_secret(word),
            "mongodb_atlas" => atlas_key("abcdefgh", word),
            _ => aura_secret(word),
        }
    };
    let mut wrong = Vec::new();
    for provider in ["aws", "gcp", "azure", "mongodb_atlas", "neo4j_aura"] {
        let scope = if provider == "aws" || provider == "gcp" || provider == "azure" { "storage" } else { "database" };
        for (word, code, retryable) in [
            (
                "sandbox-wrong-secret",
                if provider == "aws" { "EXTERNAL_ID_MISMATCH" } else { "INVALID_CREDENTIALS" },
                false,
            ),
            ("sandbox-throttled", "PROVIDER_UNAVAILABLE", true),
            ("sandbox-down", "PROVIDER_UNAVAILABLE", true),
        ] {
            let minter = minters.get(provider).unwrap();
            let got = match minter.mint(&request(provider, scope), &steered(provider, word)).await {
                Ok(_) => "SUCCEEDED".to_owned(),
                Err(f) => format!("{} retryable={}", f.code.as_str(), f.retryable),
            };
            if got != format!("{code} retryable={retryable}") {
                wrong.push(format!("{provider} {word}: {got}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Atlas's project role and project are checked when a user is created.
    for (word, code) in
        [("sandbox-denied", ErrorCode::AccessDenied), ("sandbox-not-found", ErrorCode::ResourceNotFound)]
    {
        let failure = refused(&minters, &request("mongodb_atlas", "database"), &atlas_key("abcdefgh", word)).await;
        assert_eq!(failure.code, code, "{word}: {failure:?}");
    }
    // AWS hands out a `sandbox-denied` role's session, which then may do nothing.
    let denied = mint(&minters, &request("aws", "storage"), &steered("aws", "sandbox-denied")).await;
    assert_eq!(list_buckets(&sandbox.aws.url(), &denied.credentials).await, Err("AccessDenied".into()));
}
