//! Caller authentication and workspace isolation, over every RPC; the audit
//! trail and its listing.

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{
    app::TestApp,
    auth::{AUDIENCE, Bearer, Client, ISSUER, TokenSpec, claims, mint, sign},
    fixtures, logs,
};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::helpers::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rpc {
    Create,
    Complete,
    Validate,
    Get,
    List,
    Update,
    Delete,
    ListProviders,
    Watch,
    ListAudit,
}

const ALL: [Rpc; 10] = [
    Rpc::Create,
    Rpc::Complete,
    Rpc::Validate,
    Rpc::Get,
    Rpc::List,
    Rpc::Update,
    Rpc::Delete,
    Rpc::ListProviders,
    Rpc::Watch,
    Rpc::ListAudit,
];

impl Rpc {
    fn writes(self) -> bool {
        matches!(self, Rpc::Create | Rpc::Complete | Rpc::Validate | Rpc::Update | Rpc::Delete)
    }
}

/// Calls `rpc` on connection `tag` of `workspace`; the status, or Ok.
async fn call(client: &mut Client, rpc: Rpc, workspace: &str, tag: &str) -> Result<(), Status> {
    let (w, t) = (workspace.to_owned(), tag.to_owned());
    match rpc {
        Rpc::Create => client
            .create_connection(pb::CreateConnectionRequest {
                workspace: w,
                tag: format!("{t}_new"),
                provider: pb::Provider::Aws.into(),
                scopes: vec!["storage".into()],
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::Complete => client
            .complete_connection(pb::CompleteConnectionRequest {
                workspace: w,
                tag: t,
                credentials: Some(fixtures::credentials(pb::Provider::Aws, "")),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::Validate => client
            .validate_connection(pb::ValidateConnectionRequest { workspace: w, tag: t, wait: None })
            .await
            .map(drop),
        Rpc::Get => client.get_connection(pb::GetConnectionRequest { workspace: w, tag: t }).await.map(drop),
        Rpc::List => {
            client.list_connections(pb::ListConnectionsRequest { workspace: w, ..Default::default() }).await.map(drop)
        }
        Rpc::Update => client
            .update_connection(pb::UpdateConnectionRequest {
                workspace: w,
                tag: t,
                description: Some("changed".into()),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::Delete => client
            .delete_connection(pb::DeleteConnectionRequest { workspace: w, tag: t, etag: String::new() })
            .await
            .map(drop),
        Rpc::ListProviders => client.list_providers(pb::ListProvidersRequest {}).await.map(drop),
        Rpc::Watch => {
            client.watch_connections(pb::WatchConnectionsRequest { workspace: w, tag: String::new() }).await.map(drop)
        }
        Rpc::ListAudit => {
            client.list_audit_events(pb::ListAuditEventsRequest { workspace: w, ..Default::default() }).await.map(drop)
        }
    }
}

#[tokio::test]
async fn every_rpc_refuses_missing_expired_and_forged_tokens() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "prod_aws", pb::Provider::Aws).await;
    let expired = app.token(&TokenSpec { expires_in: -3600, ..TokenSpec::default() });
    let forged = mint("another-secret-that-is-long-enough-0123456789", &TokenSpec::default());
    for (name, bearer) in [
        ("no token", Bearer::none()),
        ("expired", Bearer::new(&expired)),
        ("forged", Bearer::new(&forged)),
        ("garbage", Bearer::new("not.a.jwt")),
    ] {
        let mut client = app.client_with(bearer);
        for rpc in ALL {
            let status = call(&mut client, rpc, "acme", "prod_aws").await.unwrap_err();
            assert_code(&status, Code::Unauthenticated, "UNAUTHENTICATED");
            assert!(!status.message().contains("prod_aws"), "{name} {rpc:?}: {status:?}");
        }
        // The run step too (its scope is its own; see run.rs).
        let status = client
            .issue_credentials(pb::IssueCredentialsRequest {
                workspace: "acme".into(),
                tag: "prod_aws".into(),
                scope: "storage".into(),
                consumer: "c".into(),
                ttl: None,
            })
            .await
            .unwrap_err();
        assert_code(&status, Code::Unauthenticated, "UNAUTHENTICATED");
    }
    // Nothing was changed by any of those calls.
    let c = get(&app, "acme", "prod_aws").await.unwrap();
    assert_eq!(c.description, "");
    assert_eq!(c.credentials.unwrap().revision, 0);
    app.finish().await;
}

/// `ErrorInfo.metadata[key]`, or "".
fn metadata(status: &Status, key: &str) -> String {
    status.get_details_error_info().and_then(|i| i.metadata.get(key).cloned()).unwrap_or_default()
}

/// The refusal log lines captured so far.
fn refusal_lines() -> Vec<String> {
    logs::captured().lines().filter(|l| l.contains("refused an unauthenticated call")).map(str::to_owned).collect()
}

/// Calls ListConnections with `bearer` and checks the refusal: UNAUTHENTICATED
/// (the reason clients key on), `cause` in the metadata, `says` in the
/// message, and no part of `secret` (the token) in it.
async fn assert_refused(app: &TestApp, bearer: Bearer, secret: &str, cause: &str, says: &str) {
    let status = app
        .client_with(bearer)
        .list_connections(pb::ListConnectionsRequest { workspace: "acme".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_code(&status, Code::Unauthenticated, "UNAUTHENTICATED");
    assert_eq!(metadata(&status, "cause"), cause, "{status:?}");
    assert!(status.message().contains(says), "{cause}: {:?} does not say {says:?}", status.message());
    for part in secret.split('.').filter(|p| p.len() > 8) {
        assert!(!status.message().contains(part), "{cause}: the token is in the message: {}", status.message());
    }
}

/// Each refused call's line is at info, names its cause and the caller's
/// address, and no token ever reaches the log.
fn assert_logged_once_each(calls: usize, causes: &[&str], tokens: &[&str]) {
    let lines = refusal_lines();
    assert_eq!(lines.len(), calls, "one line per refused call: {lines:#?}");
    for cause in causes {
        let line = lines
            .iter()
            .find(|l| l.contains(&format!("\"cause\":\"{cause}\"")))
            .unwrap_or_else(|| panic!("no refusal logged with cause {cause}: {lines:#?}"));
        assert!(line.contains("\"level\":\"INFO\""), "{line}");
        assert!(line.contains("\"peer\":\"127.0.0.1:"), "the caller's address is missing: {line}");
    }
    let logged = logs::captured();
    for token in tokens {
        for part in token.split('.').filter(|p| p.len() > 8) {
            assert!(!logged.contains(part), "a token reached the log: {part}");
        }
    }
}

#[tokio::test]
async fn each_refused_token_is_told_why_without_the_token_and_logged_at_info_with_the_peer() {
    let app = TestApp::spawn().await;
    let good = app.token(&TokenSpec::default());
    let forged = mint("another-secret-that-is-long-enough-0123456789", &TokenSpec::default());
    let expired = app.token(&TokenSpec { expires_in: -3600, ..TokenSpec::default() });
    let exp = jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(&expired).unwrap()["exp"]
        .as_i64()
        .unwrap();
    let expired_at =
        chrono::DateTime::from_timestamp(exp, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut elsewhere = claims(&TokenSpec::default());
    elsewhere["aud"] = "another-service".into();
    let elsewhere = sign(&app.auth_secret, &elsewhere);
    let mut anonymous = claims(&TokenSpec::default());
    anonymous.as_object_mut().unwrap().remove("sub");
    let anonymous = sign(&app.auth_secret, &anonymous);

    let garbage = "garbage-token-0123456789";
    let prefix_missing = "the `Bearer ` prefix is missing";
    let cases = [
        (Bearer::none(), "", "missing", "no credentials".to_owned()),
        (Bearer::raw("Basic dXNlcjpwYXNzd29yZA=="), "dXNlcjpwYXNzd29yZA", "not_bearer", prefix_missing.to_owned()),
        (Bearer::raw(&good), &good, "not_bearer", prefix_missing.to_owned()),
        (Bearer::new(garbage), garbage, "malformed", "is not a JWT".to_owned()),
        (Bearer::new(&forged), &forged, "bad_signature", "signature does not verify".to_owned()),
        (Bearer::new(&expired), &expired, "expired", format!("expired at {expired_at} (30 s of clock skew allowed)")),
        (
            Bearer::new(&elsewhere),
            &elsewhere,
            "wrong_audience",
            format!("aud does not include this server's audience: expected \"{AUDIENCE}\""),
        ),
        (Bearer::new(&anonymous), &anonymous, "missing_claim", "lacks the required sub claim".to_owned()),
    ];
    for (bearer, secret, cause, says) in cases {
        assert_refused(&app, bearer, secret, cause, &says).await;
    }

    assert_logged_once_each(
        8,
        &["missing", "not_bearer", "malformed", "bad_signature", "expired", "wrong_audience", "missing_claim"],
        &[&good, &forged, &expired, &elsewhere, &anonymous, garbage, "dXNlcjpwYXNzd29yZA"],
    );
    assert_eq!(refusal_lines().iter().filter(|l| l.contains("\"cause\":\"not_bearer\"")).count(), 2);
    app.finish().await;
}

#[tokio::test]
async fn a_jwks_app_names_the_issuer_it_expects_and_answers_alike_for_unknown_and_wrong_keys() {
    let path = std::env::temp_dir().join(format!("cc-jwks-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, jwks(&[("key-a", KEY_A)])).unwrap();
    let app = TestApp::builder().with_jwks(path.clone()).spawn().await;
    let foreign = rs256_with("key-a", KEY_A, |c| c["iss"] = "https://elsewhere.test".into());
    let no_iss = rs256_with("key-a", KEY_A, |c| drop(c.as_object_mut().unwrap().remove("iss")));
    let unknown_kid = rs256("key-b", KEY_B);
    let wrong_key = rs256("key-a", KEY_B);
    let expected = format!("expected \"{ISSUER}\"");
    // Which keys exist is not told: an unknown key id and a signature by
    // another key get the same answer.
    let untrusted = "signature does not verify with any key this server trusts";
    let cases = [
        (&foreign, "wrong_issuer", format!("iss is not the issuer this server accepts: {expected}")),
        (&no_iss, "missing_claim", format!("lacks the required iss claim: {expected}")),
        (&unknown_kid, "bad_signature", untrusted.to_owned()),
        (&wrong_key, "bad_signature", untrusted.to_owned()),
    ];
    for (token, cause, says) in cases {
        assert_refused(&app, Bearer::new(token), token, cause, &says).await;
    }

    assert_logged_once_each(
        4,
        &["wrong_issuer", "missing_claim", "bad_signature"],
        &[&foreign, &no_iss, &unknown_kid, &wrong_key],
    );
    app.finish().await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn another_workspace_sees_the_same_refusal_whether_or_not_the_connection_exists() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "prod_aws", pb::Provider::Aws).await;
    let globex = app.token(&TokenSpec { sub: "globex-bot", workspaces: &["globex"], ..TokenSpec::default() });
    let mut client = app.client_with(Bearer::new(&globex));
    for rpc in ALL.into_iter().filter(|r| *r != Rpc::ListProviders) {
        let existing = call(&mut client, rpc, "acme", "prod_aws").await.unwrap_err();
        let missing = call(&mut client, rpc, "acme", "no_such_tag").await.unwrap_err();
        assert_code(&existing, Code::PermissionDenied, "PERMISSION_DENIED");
        assert_eq!(existing.message(), "the token does not grant workspace \"acme\"", "{rpc:?}");
        assert_eq!(metadata(&existing, "missing"), "workspace", "{rpc:?}");
        assert_eq!(
            (existing.code(), existing.message(), existing.details()),
            (missing.code(), missing.message(), missing.details()),
            "{rpc:?}: the answer must not tell whether the connection exists"
        );
    }
    // Its own workspace works.
    assert!(call(&mut client, Rpc::List, "globex", "x").await.is_ok());
    assert_eq!(get(&app, "acme", "prod_aws").await.unwrap().description, "");
    app.finish().await;
}

#[tokio::test]
async fn a_read_only_token_reads_but_changes_nothing() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "prod_aws", pb::Provider::Aws).await;
    let reader = app.token(&TokenSpec { workspaces: &["acme"], scope: "connections:read", ..TokenSpec::default() });
    let mut client = app.client_with(Bearer::new(&reader));
    for rpc in ALL {
        let result = call(&mut client, rpc, "acme", "prod_aws").await;
        if rpc.writes() {
            let err = result.unwrap_err();
            assert_code(&err, Code::PermissionDenied, "PERMISSION_DENIED");
            assert_eq!(err.message(), "the token lacks the connections:write scope", "{rpc:?}");
            assert_eq!(metadata(&err, "missing"), "scope");
        } else {
            assert!(result.is_ok(), "{rpc:?}: {result:?}");
        }
    }
    // A token with no cloudconn scope at all may not even read.
    let none = app.token(&TokenSpec { scope: "something:else", ..TokenSpec::default() });
    let err = call(&mut app.client_with(Bearer::new(&none)), Rpc::Get, "acme", "prod_aws").await.unwrap_err();
    assert_code(&err, Code::PermissionDenied, "PERMISSION_DENIED");
    assert_eq!(err.message(), "the token lacks the connections:read scope");
    app.finish().await;
}

#[tokio::test]
async fn every_change_is_audited_with_the_callers_subject() {
    let app = TestApp::spawn().await;
    let alice = app.token(&TokenSpec { sub: "alice@acme", workspaces: &["acme"], ..TokenSpec::default() });
    let mut client = app.client_with(Bearer::new(&alice));
    for rpc in [Rpc::Create, Rpc::Complete, Rpc::Update, Rpc::Validate] {
        // Create makes `<tag>_new`; the rest act on it.
        let tag = if rpc == Rpc::Create { "audited" } else { "audited_new" };
        call(&mut client, rpc, "acme", tag).await.unwrap();
    }
    call(&mut client, Rpc::Delete, "acme", "audited_new").await.unwrap();

    let mut actions = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_audit_events(pb::ListAuditEventsRequest {
                workspace: "acme".into(),
                page_size: 2,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        for e in &page.audit_events {
            assert_eq!(e.actor, "alice@acme");
            assert_eq!(e.tag, "audited_new");
            assert_eq!(e.outcome, "ok");
            assert!(e.time.is_some());
            actions.push(e.action.clone());
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    // Newest first, across pages of two.
    assert_eq!(
        actions,
        ["DeleteConnection", "ValidateConnection", "UpdateConnection", "CompleteConnection", "CreateConnection"]
    );
    // The trail is per workspace, and so are its page tokens.
    let other = app
        .client
        .clone()
        .list_audit_events(pb::ListAuditEventsRequest { workspace: "globex".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(other.audit_events.is_empty());
    let first = client
        .list_audit_events(pb::ListAuditEventsRequest { workspace: "acme".into(), page_size: 1, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let err = app
        .client
        .clone()
        .list_audit_events(pb::ListAuditEventsRequest {
            workspace: "globex".into(),
            page_size: 1,
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, &["page_token"]);
    app.finish().await;
}

/// The Workbench's Activity tab: one connection's trail, paged on its own.
#[tokio::test]
async fn the_audit_trail_of_one_connection_leaves_the_others_out() {
    let app = TestApp::spawn().await;
    for tag in ["audited_a", "audited_b"] {
        create(&app, "acme", tag, pb::Provider::Aws).await;
        call(&mut app.client.clone(), Rpc::Update, "acme", tag).await.unwrap();
    }
    let page = |tag: &str, page_token: String| {
        let mut client = app.client.clone();
        let request =
            pb::ListAuditEventsRequest { workspace: "acme".into(), tag: tag.into(), page_size: 1, page_token };
        async move { client.list_audit_events(request).await }
    };
    let first = page("audited_a", String::new()).await.unwrap().into_inner();
    assert_eq!(
        first.audit_events.iter().map(|e| (e.tag.as_str(), e.action.as_str())).collect::<Vec<_>>(),
        [("audited_a", "UpdateConnection")]
    );
    let second = page("audited_a", first.next_page_token.clone()).await.unwrap().into_inner();
    assert_eq!(
        second.audit_events.iter().map(|e| (e.tag.as_str(), e.action.as_str())).collect::<Vec<_>>(),
        [("audited_a", "CreateConnection")]
    );
    assert!(second.next_page_token.is_empty(), "two rows for audited_a, not the other connection's");
    // A token from one connection's trail does not page another's, nor the workspace's.
    assert_invalid(&page("audited_b", first.next_page_token.clone()).await.unwrap_err(), &["page_token"]);
    assert_invalid(&page("", first.next_page_token).await.unwrap_err(), &["page_token"]);
    assert_invalid(&page("Not A Tag", String::new()).await.unwrap_err(), &["tag"]);
    app.finish().await;
}

const KEY_A: &str = include_str!("../../fixtures/gcp-test-key.pem");
const KEY_B: &str = include_str!("../../fixtures/gcp-other-key.pem");

/// A JWKS holding the public halves of `keys` (`(kid, private PEM)`).
fn jwks(keys: &[(&str, &str)]) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, jwk::Jwk};
    let keys: Vec<Jwk> = keys
        .iter()
        .map(|(kid, pem)| {
            let mut jwk =
                Jwk::from_encoding_key(&EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(), Algorithm::RS256).unwrap();
            jwk.common.key_id = Some((*kid).to_owned());
            jwk
        })
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}

fn rs256(kid: &str, pem: &str) -> String {
    rs256_with(kid, pem, |_| {})
}

/// As [`rs256`], with the claims changed by `edit` first.
fn rs256_with(kid: &str, pem: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let now = chrono::Utc::now().timestamp();
    let mut claims = serde_json::json!({
        "sub": "rotated", "workspaces": ["*"], "scope": "connections:read", "exp": now + 600,
        "aud": AUDIENCE, "iss": ISSUER,
    });
    edit(&mut claims);
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()).unwrap()
}

#[tokio::test]
async fn a_rotated_jwks_key_is_accepted_without_a_restart() {
    let path = std::env::temp_dir().join(format!("cc-jwks-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, jwks(&[("key-a", KEY_A)])).unwrap();
    let app = TestApp::builder().with_jwks(path.clone()).spawn().await;
    let list = |token: String| {
        let mut client = app.client_with(Bearer::new(&token));
        async move { client.list_providers(pb::ListProvidersRequest {}).await }
    };
    assert!(list(rs256("key-a", KEY_A)).await.is_ok());
    let err = list(rs256("key-b", KEY_B)).await.unwrap_err();
    assert_code(&err, Code::Unauthenticated, "UNAUTHENTICATED");
    // A token claiming key A's id but signed with key B is a forgery.
    assert_eq!(list(rs256("key-a", KEY_B)).await.unwrap_err().code(), Code::Unauthenticated);

    // The issuer rotates: key B is published, key A retired.
    std::fs::write(&path, jwks(&[("key-b", KEY_B)])).unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while list(rs256("key-b", KEY_B)).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "the new key was never picked up");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        list(rs256("key-a", KEY_A)).await.unwrap_err().code(),
        Code::Unauthenticated,
        "the retired key is refused"
    );
    app.finish().await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn a_request_over_one_mebibyte_is_resource_exhausted_and_changes_nothing() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    let huge = "x".repeat(1024 * 1024 + 1);
    let err = complete(&app, "acme", "azure_main", fixtures::azure(&huge)).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{:?}", err.message());
    assert_eq!(get(&app, "acme", "azure_main").await.unwrap().credentials.unwrap().revision, 0);
    // Just under the limit is judged on its fields instead (16 KiB each).
    let err = complete(&app, "acme", "azure_main", fixtures::azure(&"x".repeat(20 * 1024))).await.unwrap_err();
    assert_invalid(&err, &["azure.client_secret"]);
    app.finish().await;
}

#[tokio::test]
async fn mutual_tls_serves_only_clients_with_a_certificate_from_the_ca() {
    use cloudconn_tests::harness::tls;
    let app = TestApp::builder().with_mtls().spawn().await;
    let material = app.tls.clone().unwrap();
    let token = app.token(&TokenSpec::default());
    let port = app.addr.port();

    // The harness client presents a certificate from the configured CA.
    create(&app, "acme", "over_tls", pb::Provider::Gcp).await;

    // No client certificate: the handshake (or the first call) fails.
    let refused = match tls::channel(port, &material.ca, None).await {
        Err(_) => true,
        Ok(channel) => {
            let mut client = pb::connection_service_client::ConnectionServiceClient::new(channel);
            client.list_providers(pb::ListProvidersRequest {}).await.is_err()
        }
    };
    assert!(refused, "a client without a certificate was served");

    // A certificate from another CA: refused too.
    let stranger = tls::stranger();
    let refused = match tls::channel(port, &material.ca, Some(&stranger)).await {
        Err(_) => true,
        Ok(channel) => {
            let mut client = pb::connection_service_client::ConnectionServiceClient::new(channel);
            client.list_providers(pb::ListProvidersRequest {}).await.is_err()
        }
    };
    assert!(refused, "a client certificate from an unknown CA was accepted");

    // Plain HTTP/2 to the TLS port gets nowhere.
    let plain = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}")).unwrap().connect().await;
    if let Ok(channel) = plain {
        let mut client = pb::connection_service_client::ConnectionServiceClient::new(channel);
        assert!(client.list_providers(pb::ListProvidersRequest {}).await.is_err());
    }

    // A second client with a CA-signed certificate and a token is served.
    let channel = tls::channel(port, &material.ca, Some(&material.client)).await.unwrap();
    let mut client =
        pb::connection_service_client::ConnectionServiceClient::with_interceptor(channel, Bearer::new(&token));
    let list = client
        .list_connections(pb::ListConnectionsRequest { workspace: "acme".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.connections.len(), 1);
    app.finish().await;
}

#[tokio::test]
async fn the_workers_vault_token_can_read_but_not_write_or_delete() {
    use cloudconn_infra::{
        secrets::{SecretPath, SecretStore, SecretStoreError},
        vault::VaultStore,
    };
    let app = TestApp::spawn().await;
    let created = create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("s3cret")).await.unwrap();

    // The same configuration the in-process worker runs with.
    let worker = VaultStore::connect(&app.worker_config.vault, std::time::Duration::from_secs(2)).await.unwrap();
    let path = SecretPath { workspace: "acme".into(), uid: created.uid.clone() };
    let read = worker.read(&path, 1).await.unwrap();
    assert!(read.contains_key("client_secret"));
    let fields = read.clone();
    assert!(
        matches!(worker.write(&path, &fields, 1).await, Err(SecretStoreError::Denied(_))),
        "the worker wrote a secret"
    );
    assert!(matches!(worker.destroy(&path).await, Err(SecretStoreError::Denied(_))), "the worker destroyed a secret");
    // Outside its prefix it reads nothing either.
    let elsewhere = SecretPath { workspace: "other-prefix".into(), uid: created.uid };
    assert!(worker.read(&elsewhere, 1).await.is_err());
    assert_eq!(vault_version(&app, "acme", &path.uid).await, Some(1), "still exactly one version");
    app.finish().await;
}

#[tokio::test]
async fn the_server_logs_in_with_approle_and_outlives_its_tokens() {
    let app = TestApp::builder().with_approle().spawn().await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("one")).await.unwrap();
    // Tokens live 2 s, renewable to 4 s: past that only a new login works.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let c = complete(&app, "acme", "azure_main", fixtures::azure("two")).await.unwrap();
    assert_eq!(c.credentials.unwrap().revision, 2);
    // Validation (the worker, read-only token) still reads it.
    let done = validate(&app, "azure_main", std::time::Duration::from_secs(15)).await.unwrap();
    assert_eq!(done.validation.unwrap().state(), pb::ValidationState::Succeeded);
    app.finish().await;
}
