//! What a repeat IssueCredentials costs and who it is recorded as
//! (docs/run.md): a token subject's first receipt of a credential is
//! audited before the answer, repeats are only counted (and metered per
//! workspace); the cache is keyed by subject and shared fairly between
//! workspaces; only scopes a validation showed granted are issued; and a
//! server without authentication issues nothing unless told to.

use std::time::Duration;

use cloudconn_proto::v1 as pb;
use cloudconn_server::quota::QuotaConfig;
use cloudconn_tests::harness::{
    app::TestApp,
    auth::{Bearer, Client, TokenSpec},
    fixtures,
    scripted_mint::{Script, ScriptedMint},
};
use tonic::Code;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(20);

pub(crate) fn request(workspace: &str, tag: &str, consumer: &str) -> pb::IssueCredentialsRequest {
    pb::IssueCredentialsRequest {
        workspace: workspace.into(),
        tag: tag.into(),
        scope: "storage".into(),
        consumer: consumer.into(),
        ttl: None,
    }
}

/// A client whose token (subject `sub`) may issue credentials in `workspace`.
pub(crate) fn component(app: &TestApp, sub: &str, workspace: &str) -> Client {
    let token =
        app.token(&TokenSpec { sub, workspaces: &[workspace], scope: "connections:use", ..TokenSpec::default() });
    app.client_with(Bearer::new(&token))
}

/// An ACTIVE GCP connection `tag` in `workspace` (storage and database).
pub(crate) async fn active(app: &TestApp, workspace: &str, tag: &str) {
    create(app, workspace, tag, pb::Provider::Gcp).await;
    complete(app, workspace, tag, fixtures::credentials(pb::Provider::Gcp, "run")).await.unwrap();
    let done = app
        .client
        .clone()
        .validate_connection(pb::ValidateConnectionRequest {
            workspace: workspace.into(),
            tag: tag.into(),
            wait: Some(prost_types::Duration::try_from(WAIT).unwrap()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Active);
}

/// The IssueCredentials rows of the audit trail: (actor, details).
async fn issue_audits(app: &TestApp, workspace: &str, tag: &str) -> Vec<(String, serde_json::Value)> {
    let trail = app
        .client
        .clone()
        .list_audit_events(pb::ListAuditEventsRequest {
            workspace: workspace.into(),
            tag: tag.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    trail
        .audit_events
        .into_iter()
        .filter(|e| e.action == "IssueCredentials")
        .map(|e| (e.actor, serde_json::from_str(&e.details_json).unwrap()))
        .collect()
}

fn token_of(issued: &pb::IssuedCredentials) -> String {
    match issued.credentials.as_ref() {
        Some(pb::issued_credentials::Credentials::Gcp(t)) => t.access_token.clone(),
        other => panic!("not a GCP token: {other:?}"),
    }
}

#[tokio::test]
async fn repeats_are_counted_not_audited_and_every_call_is_metered_per_workspace() {
    let mint = ScriptedMint::new("tok");
    let quotas = QuotaConfig {
        rate_issue_calls_per_minute: 40,
        rate_validate_per_minute: 1_000,
        rate_complete_per_minute: 1_000,
        ..QuotaConfig::default()
    };
    let app = TestApp::builder().with_minters(mint.everywhere()).with_quotas(quotas).spawn().await;
    active(&app, "acme", "prod_gcp").await;
    active(&app, "globex", "prod_gcp").await;
    let mut caller = component(&app, "billing-api", "acme");

    caller.issue_credentials(request("acme", "prod_gcp", "billing-api")).await.unwrap();
    let first_use = get(&app, "acme", "prod_gcp").await.unwrap().consumers[0].last_used_time.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..29 {
        caller.issue_credentials(request("acme", "prod_gcp", "billing-api")).await.unwrap();
    }
    assert_eq!(mint.calls(), 1);
    let audits = issue_audits(&app, "acme", "prod_gcp").await;
    assert_eq!(audits.len(), 1, "only the first receipt is audited: {audits:?}");
    assert_eq!((audits[0].0.as_str(), &audits[0].1["consumer"]), ("billing-api", &serde_json::json!("billing-api")));
    assert_eq!(app.issue_events().await, 1, "a repeat publishes no event");

    // The counts and the consumer's last use reach the database within a
    // second or so (the flush), off the request path.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let hits = app.issue_hits().await;
        if hits == [("billing-api".into(), "billing-api".into(), "storage".into(), 29)] {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the hits were not flushed: {hits:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last_use = get(&app, "acme", "prod_gcp").await.unwrap().consumers[0].last_used_time.unwrap();
    assert!(last_use.seconds > first_use.seconds, "last_used_time moves with repeats: {first_use:?} → {last_use:?}");

    // 30 of the 40 calls spent (and one more back every 1.5 s since):
    // RATE_LIMITED comes within a few more, hits included.
    let mut more = 0;
    let refused = loop {
        match caller.issue_credentials(request("acme", "prod_gcp", "billing-api")).await {
            Ok(_) => more += 1,
            Err(refused) => break refused,
        }
        assert!(more <= 25, "hits are not metered");
    };
    assert!(more >= 10, "refused before the allowance was spent: {more}");
    assert_code(&refused, Code::ResourceExhausted, "RATE_LIMITED");
    assert!(refused.message().contains("IssueCredentials calls"), "{}", refused.message());
    component(&app, "billing-api", "globex")
        .issue_credentials(request("globex", "prod_gcp", "billing-api"))
        .await
        .expect("another workspace has its own allowance");
    app.finish().await;
}

#[tokio::test]
async fn another_subject_naming_the_same_consumer_gets_its_own_credentials_audited_as_itself() {
    let mint = ScriptedMint::new("tok-billing");
    let app = TestApp::builder().with_minters(mint.everywhere()).spawn().await;
    active(&app, "acme", "prod_gcp").await;
    let issued = component(&app, "billing-api", "acme")
        .issue_credentials(request("acme", "prod_gcp", "billing-api"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(token_of(&issued), "tok-billing");

    mint.answer(Script::Token("tok-other".into()));
    let mut other = component(&app, "other-service", "acme");
    for _ in 0..2 {
        let issued = other.issue_credentials(request("acme", "prod_gcp", "billing-api")).await.unwrap().into_inner();
        assert_eq!(token_of(&issued), "tok-other", "never the credentials minted for another subject");
    }
    assert_eq!(mint.calls(), 2);
    let mut actors: Vec<String> = issue_audits(&app, "acme", "prod_gcp").await.into_iter().map(|(a, _)| a).collect();
    actors.sort();
    assert_eq!(actors, ["billing-api", "other-service"], "each subject's first receipt, audited as itself");
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_filling_its_cache_share_cannot_turn_another_tenants_hit_into_a_mint() {
    let mint = ScriptedMint::new("tok");
    let app = TestApp::builder().with_minters(mint.everywhere()).with_issue_cache(8, 4).spawn().await;
    active(&app, "acme", "prod_gcp").await;
    active(&app, "globex", "prod_gcp").await;
    let mut victim = component(&app, "billing-api", "acme");
    victim.issue_credentials(request("acme", "prod_gcp", "billing-api")).await.unwrap();

    let mut attacker = component(&app, "attacker", "globex");
    for i in 0..20 {
        attacker.issue_credentials(request("globex", "prod_gcp", &format!("c{i}"))).await.unwrap();
    }
    assert_eq!(mint.calls(), 21);
    victim.issue_credentials(request("acme", "prod_gcp", "billing-api")).await.unwrap();
    assert_eq!(mint.calls(), 21, "the victim's call was a hit, not a mint");
    // The attacker evicted its own least recently used entries.
    attacker.issue_credentials(request("globex", "prod_gcp", "c0")).await.unwrap();
    assert_eq!(mint.calls(), 22);
    app.finish().await;
}

#[tokio::test]
async fn a_scope_added_to_an_active_connection_is_issued_only_once_validated() {
    let mint = ScriptedMint::new("tok");
    let app = TestApp::builder().with_minters(mint.everywhere()).spawn().await;
    active(&app, "acme", "prod_gcp").await;
    let mut caller = component(&app, "billing-api", "acme");
    caller.issue_credentials(request("acme", "prod_gcp", "billing-api")).await.unwrap();

    let widened = app
        .client
        .clone()
        .update_connection(pb::UpdateConnectionRequest {
            workspace: "acme".into(),
            tag: "prod_gcp".into(),
            scopes: vec!["storage".into(), "database".into(), "functions".into()],
            update_mask: Some(prost_types::FieldMask { paths: vec!["scopes".into()] }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(widened.status(), pb::ConnectionStatus::Active, "the update leaves it ACTIVE");
    let functions = pb::IssueCredentialsRequest { scope: "functions".into(), ..request("acme", "prod_gcp", "x") };
    let refused = caller.issue_credentials(functions.clone()).await.unwrap_err();
    assert_code(&refused, Code::FailedPrecondition, "SCOPE_NOT_VALIDATED");
    assert!(
        refused.message().contains("scope functions") && refused.message().contains("ValidateConnection"),
        "names the scope and what to do: {}",
        refused.message()
    );
    // The scopes validated before are still issued meanwhile.
    caller.issue_credentials(request("acme", "prod_gcp", "billing-api")).await.unwrap();
    assert_eq!(mint.calls(), 1);

    validate(&app, "prod_gcp", WAIT).await.unwrap();
    caller.issue_credentials(functions).await.expect("validated: issued");
    app.finish().await;
}

#[tokio::test]
async fn without_authentication_nobody_issues_unless_a_second_switch_says_so() {
    for allow_issue in [false, true] {
        let mint = ScriptedMint::new("tok");
        let app = TestApp::builder().with_minters(mint.everywhere()).with_auth_disabled(allow_issue).spawn().await;
        active(&app, "acme", "prod_gcp").await;
        let mut anonymous = app.client_with(Bearer::none());
        anonymous
            .get_connection(pb::GetConnectionRequest { workspace: "acme".into(), tag: "prod_gcp".into() })
            .await
            .expect("reads need no token");
        let issued = anonymous.issue_credentials(request("acme", "prod_gcp", "x")).await;
        if allow_issue {
            issued.expect("CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE=true: issued");
            assert_eq!(mint.calls(), 1);
        } else {
            let refused = issued.unwrap_err();
            assert_code(&refused, Code::PermissionDenied, "PERMISSION_DENIED");
            assert_eq!(refused.message(), "the token lacks the connections:use scope");
            assert_eq!(mint.calls(), 0);
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn a_late_flush_of_counts_never_moves_last_used_time_back() {
    for sqlite in [false, true] {
        late_flush_on(sqlite).await;
    }
}

/// On PostgreSQL or SQLite: the upserts' SQL differs.
async fn late_flush_on(sqlite: bool) {
    let mint = ScriptedMint::new("tok");
    let builder = TestApp::builder().with_minters(mint.everywhere());
    let app = if sqlite { builder.sqlite() } else { builder }.spawn().await;
    active(&app, "acme", "prod_gcp").await;
    let mut first = component(&app, "billing-api", "acme");
    first.issue_credentials(request("acme", "prod_gcp", "app")).await.unwrap();
    // A repeat, counted (flushed within the second with its own, earlier
    // time), then another subject's first receipt of the same consumer,
    // recorded at once with a later time.
    first.issue_credentials(request("acme", "prod_gcp", "app")).await.unwrap();
    component(&app, "other-service", "acme").issue_credentials(request("acme", "prod_gcp", "app")).await.unwrap();
    let newest = get(&app, "acme", "prod_gcp").await.unwrap().consumers[0].last_used_time.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.issue_hits().await.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the hit was not flushed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = get(&app, "acme", "prod_gcp").await.unwrap().consumers[0].last_used_time.unwrap();
    assert_eq!(after, newest, "the flush kept the later time (sqlite: {sqlite})");
    app.finish().await;
}
