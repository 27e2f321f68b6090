//! `--dev`'s provider sandbox, as a user meets it: the real probes against
//! the in-process stand-ins, steered by the credential values the sandbox
//! table of docs/providers.md documents. The table is read from that doc, so
//! what it promises is what this test checks.

use cloudconn_proto::v1::{self as pb, complete_connection_request::Credentials};
use cloudconn_tests::{
    emulators::magic::WORDS,
    harness::{app::TestApp, fixtures},
};

use crate::helpers::*;

/// The seed's own example role: any role name that is not a sandbox word
/// validates.
const SEED_ROLE: &str = "arn:aws:iam::123456789012:role/DuctapeAccess";

/// Credentials for `provider` whose steering value is `word` (the role
/// name, the service account's name, or the secret).
pub(crate) fn steered(provider: pb::Provider, word: &str) -> Credentials {
    use pb::{AwsCredentials, GcpCredentials};
    let mut credentials = fixtures::credentials(provider, "sandbox");
    match &mut credentials {
        Credentials::Aws(aws) => {
            *aws = AwsCredentials { role_arn: format!("arn:aws:iam::123456789012:role/{word}"), ..Default::default() };
        }
        Credentials::Gcp(GcpCredentials { service_account_json, .. }) => {
            let mut key: serde_json::Value = serde_json::from_str(service_account_json).expect("key file");
            key["client_email"] = format!("{word}@acme-prod-123.iam.gserviceaccount.com").into();
            *service_account_json = key.to_string();
        }
        Credentials::Azure(azure) => azure.client_secret = word.into(),
        Credentials::MongodbAtlas(atlas) => atlas.atlas_private_key = word.into(),
        Credentials::Neo4jAura(aura) => aura.aura_client_secret = word.into(),
    }
    credentials
}

/// The documented sandbox table: (word, AWS outcome, other providers' outcome).
fn documented_table() -> Vec<(String, String, String)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/providers.md"))
        .expect("docs/providers.md");
    let start = doc.find("## Provider sandbox").expect("a Provider sandbox section");
    let first_backticked = |cell: &str| cell.split('`').nth(1).unwrap_or_default().to_owned();
    doc[start..]
        .lines()
        .take_while(|line| !line.starts_with("## ") || line.starts_with("## Provider sandbox"))
        .filter(|line| line.starts_with("| `sandbox-"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').collect();
            (first_backticked(cells[1]), first_backticked(cells[2]), first_backticked(cells[3]))
        })
        .collect()
}

/// The validation's outcome as the table words it: `SUCCEEDED` or the
/// error code.
fn outcome(validation: &pb::Validation) -> String {
    match &validation.error {
        Some(error) => error.code.clone(),
        None if validation.state() == pb::ValidationState::Succeeded => "SUCCEEDED".into(),
        None => format!("{:?}", validation.state()),
    }
}

#[tokio::test]
async fn the_seeds_aws_example_goes_active_in_the_sandbox_and_says_it_came_from_there() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let mut request = pb::CreateConnectionRequest {
        workspace: "acme".into(),
        tag: "prod_aws".into(),
        provider: pb::Provider::Aws.into(),
        scopes: vec!["storage".into(), "database".into(), "messaging".into(), "functions".into()],
        ..Default::default()
    };
    app.client.clone().create_connection(request.clone()).await.expect("create");
    let credentials = Credentials::Aws(pb::AwsCredentials { role_arn: SEED_ROLE.into(), ..Default::default() });
    complete(&app, "acme", "prod_aws", credentials).await.expect("complete");
    let done = validate(&app, "prod_aws", std::time::Duration::from_secs(60)).await.expect("validate");
    let validation = done.validation.expect("validation");
    assert_eq!(outcome(&validation), "SUCCEEDED", "{validation:?}");
    assert_eq!(done.connection.expect("connection").status(), pb::ConnectionStatus::Active);
    assert!(validation.scope_checks.iter().all(|c| c.granted) && validation.scope_checks.len() == 4);
    assert!(validation.identity["arn"].contains("assumed-role/DuctapeAccess/"), "{:?}", validation.identity);
    let says =
        validation.warnings.iter().any(|w| w.starts_with("Sandbox result") && w.contains("not Amazon Web Services"));
    assert!(says, "a sandbox result must say so: {:?}", validation.warnings);

    // The probe's confused-deputy check is answered as a real trust policy
    // would: a second connection to the same role (its own external id)
    // validates too, and the role did not accept the foreign id.
    request.tag = "prod_aws_2".into();
    app.client.clone().create_connection(request).await.expect("create");
    let credentials = Credentials::Aws(pb::AwsCredentials { role_arn: SEED_ROLE.into(), ..Default::default() });
    complete(&app, "acme", "prod_aws_2", credentials).await.expect("complete");
    let done = validate(&app, "prod_aws_2", std::time::Duration::from_secs(60)).await.expect("validate");
    assert_eq!(outcome(&done.validation.expect("validation")), "SUCCEEDED");
    app.finish().await;
}

#[tokio::test]
async fn every_documented_sandbox_value_ends_as_the_docs_say_with_a_hint() {
    let table = documented_table();
    let documented: Vec<&str> = table.iter().map(|(word, _, _)| word.as_str()).collect();
    let words: Vec<&str> = WORDS.iter().map(|(word, _)| *word).collect();
    assert_eq!(documented, words, "docs/providers.md's sandbox table lists every word, in order");

    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let mut cases = Vec::new();
    for provider in fixtures::ALL_PROVIDERS {
        for (word, aws, others) in &table {
            let expected = if provider == pb::Provider::Aws { aws } else { others };
            cases.push((provider, word.clone(), expected.clone()));
        }
        // Any other value succeeds.
        let other = if provider == pb::Provider::Aws { "DuctapeAccess" } else { "s3cret-value" };
        cases.push((provider, other.to_owned(), "SUCCEEDED".to_owned()));
    }
    // Concurrently: the throttled and down cases each wait out retries.
    let mut runs = tokio::task::JoinSet::new();
    for (i, (provider, word, _)) in cases.iter().enumerate() {
        let (mut client, provider, credentials) = (app.client.clone(), *provider, steered(*provider, word));
        runs.spawn(async move {
            let (workspace, tag) = ("acme".to_owned(), format!("case_{i}"));
            let create = pb::CreateConnectionRequest {
                workspace: workspace.clone(),
                tag: tag.clone(),
                provider: provider.into(),
                scopes: fixtures::scopes(provider),
                ..Default::default()
            };
            client.create_connection(create).await.expect("create");
            let complete = pb::CompleteConnectionRequest {
                workspace: workspace.clone(),
                tag: tag.clone(),
                credentials: Some(credentials),
                ..Default::default()
            };
            client.complete_connection(complete).await.expect("complete");
            let wait = prost_types::Duration { seconds: 90, nanos: 0 };
            let request = pb::ValidateConnectionRequest { workspace, tag, wait: Some(wait) };
            (i, client.validate_connection(request).await.expect("validate").into_inner())
        });
    }
    let mut results: Vec<_> = runs.join_all().await;
    results.sort_by_key(|(i, _)| *i);
    let results = results.into_iter().map(|(_, done)| done);
    for ((provider, word, expected), done) in cases.iter().zip(results) {
        let validation = done.validation.expect("validation");
        let case = format!("{} {word}", provider.as_str_name());
        assert_eq!(&outcome(&validation), expected, "{case}: {validation:?}");
        if let Some(error) = &validation.error {
            assert!(!error.hint.is_empty() && !error.message.is_empty(), "{case}: {error:?}");
        }
        assert!(validation.warnings.iter().any(|w| w.starts_with("Sandbox result")), "{case}: {validation:?}");
    }
    app.finish().await;
}

#[test]
fn production_refuses_the_sandbox() {
    use cloudconn_server::config::{Mode, Providers, ServerConfig};
    let source = cloudconn_infra::config::Source::load(None, std::iter::empty()).expect("empty source");
    let mut config = ServerConfig::from_source(&source).expect("defaults");
    config.providers = Some(Providers::Sandbox);
    let err = config.validate(Mode::Production).expect_err("production must refuse the sandbox").to_string();
    assert!(err.contains("--providers sandbox is for --dev only"), "{err}");
    assert_eq!(config.providers(Mode::Production), Providers::Real);
    assert_eq!(ServerConfig { providers: None, ..config }.providers(Mode::Dev), Providers::Sandbox);
}
