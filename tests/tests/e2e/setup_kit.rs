//! The setup kit (GetSetupInstructions): what a customer must grant,
//! generated from the permission table the probes check — proven against
//! an IAM-enforcing moto (a role made from the kit validates; without one
//! scope's statement it fails naming those actions; with another external
//! id it is refused; the CloudFormation template makes the same role), and
//! linted for every provider and scope combination.

use std::time::Duration;

use cloudconn_infra::permissions;
use cloudconn_proto::v1::{self as pb, AwsCredentials, complete_connection_request::Credentials};
use cloudconn_tests::harness::{
    app::TestApp,
    moto::{ACCOUNT, MotoIam, between},
};
use cloudconn_worker::config::Endpoints;
use tonic::Code;

use crate::helpers::*;

async fn kit(app: &TestApp, tag: &str) -> Result<pb::SetupInstructions, tonic::Status> {
    let request = pb::GetSetupInstructionsRequest { workspace: "acme".into(), tag: tag.into(), ..Default::default() };
    app.client.clone().get_setup_instructions(request).await.map(|r| r.into_inner())
}

fn artifact<'a>(kit: &'a pb::SetupInstructions, name: &str) -> &'a pb::SetupArtifact {
    kit.steps.iter().flat_map(|s| &s.artifacts).find(|a| a.name == name).unwrap_or_else(|| panic!("no {name}"))
}

async fn create_with(app: &TestApp, tag: &str, provider: pb::Provider, scopes: &[&str], description: &str) {
    let request = pb::CreateConnectionRequest {
        workspace: "acme".into(),
        tag: tag.into(),
        provider: provider.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        description: description.into(),
        display_name: description.chars().take(100).collect(),
        ..Default::default()
    };
    app.client.clone().create_connection(request).await.expect("create");
}

#[tokio::test]
async fn a_role_made_from_the_aws_kit_validates_and_each_part_of_it_matters() {
    let moto = MotoIam::start().await;
    let platform = moto.user("cloudconn-platform", &["sts:AssumeRole"]).await;
    let principal = format!("arn:aws:iam::{ACCOUNT}:user/cloudconn-platform");
    let app = TestApp::builder()
        .with_real_probes(Endpoints { aws_endpoint: Some(moto.endpoint.clone()), ..Endpoints::default() })
        .with_aws_platform_key(platform)
        .with_aws_platform_principal(&principal)
        .with_probe_timeout(Duration::from_secs(20))
        .spawn()
        .await;
    // Not `functions`: moto's IAM enforcement cannot name the action of the
    // Rust SDK's ListFunctions request (its path has no trailing slash, and
    // the request is refused whatever the policy allows), so no policy could
    // pass it here. The kit's lambda statement is checked by the lint test.
    let scopes = ["storage", "database", "messaging"];
    create_with(&app, "prod_aws", pb::Provider::Aws, &scopes, "").await;
    let kit = kit(&app, "prod_aws").await.expect("the AWS kit");
    let trust = &artifact(&kit, "trust-policy.json").content;
    let policy: serde_json::Value = serde_json::from_str(&artifact(&kit, "permissions-policy.json").content).unwrap();

    // The role exactly as the kit says; one without the storage statement;
    // one whose trust policy names another external id.
    let role = |name: &'static str, trust: String, policy: serde_json::Value| {
        let moto = &moto;
        async move {
            moto.iam("CreateRole", &[("RoleName", name), ("AssumeRolePolicyDocument", &trust)]).await;
            let policy = policy.to_string();
            moto.iam("PutRolePolicy", &[("RoleName", name), ("PolicyName", "kit"), ("PolicyDocument", &policy)]).await;
            format!("arn:aws:iam::{ACCOUNT}:role/{name}")
        }
    };
    let full = role("kit-full", trust.clone(), policy.clone()).await;
    let mut without_storage = policy.clone();
    let policy_for_stack = policy.clone();
    without_storage["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "CloudconnStorage");
    let partial = role("kit-no-storage", trust.clone(), without_storage).await;
    let connection = get(&app, "acme", "prod_aws").await.unwrap();
    let foreign = role("kit-foreign", trust.replace(&connection.external_id, "another-external-id"), policy).await;
    let policy = policy_for_stack;

    // The CloudFormation template, deployed, makes the same role.
    let template = &artifact(&kit, "cloudformation.yaml").content;
    moto.call(
        "cloudformation",
        "2010-05-15",
        "CreateStack",
        &[
            ("StackName", "cloudconn-prod-aws"),
            ("TemplateBody", template),
            ("Parameters.member.1.ParameterKey", "RoleName"),
            ("Parameters.member.1.ParameterValue", "kit-stack"),
            ("Capabilities.member.1", "CAPABILITY_NAMED_IAM"),
        ],
    )
    .await;
    let stack_role = moto.iam("GetRole", &[("RoleName", "kit-stack")]).await;
    // moto answers AssumeRole on a role CloudFormation made with an internal
    // error, so the stack's role is compared with the kit's documents
    // instead of validated: same trust policy, same permissions.
    let document = |xml: &str, tag: &str| -> serde_json::Value {
        let text = percent_decode(&between(xml, tag));
        // moto keeps a CloudFormation-made inline policy as a Python dict
        // and prints its repr (single quotes); the values here hold none.
        serde_json::from_str(&text)
            .or_else(|_| serde_json::from_str(&text.replace('\'', "\"")))
            .expect("a policy document")
    };
    let kit_trust: serde_json::Value = serde_json::from_str(trust).unwrap();
    assert_eq!(document(&stack_role, "AssumeRolePolicyDocument"), kit_trust, "the stack's trust policy");
    let stack_policy =
        moto.iam("GetRolePolicy", &[("RoleName", "kit-stack"), ("PolicyName", "cloudconn-prod-aws")]).await;
    assert_eq!(document(&stack_policy, "PolicyDocument"), policy, "the stack's permissions");
    moto.enforce().await;

    let save = |role_arn: String| {
        let app = &app;
        async move {
            let credentials = Credentials::Aws(AwsCredentials { role_arn, ..Default::default() });
            complete(app, "acme", "prod_aws", credentials).await.expect("complete");
            validate(app, "prod_aws", Duration::from_secs(60)).await.expect("validate").validation.unwrap()
        }
    };
    let v = save(full).await;
    assert!(v.error.is_none(), "the kit's role validates: {v:?}");
    assert!(v.scope_checks.len() == 3 && v.scope_checks.iter().all(|c| c.granted), "{v:?}");

    let v = save(partial).await;
    assert_eq!(v.error.as_ref().map(|e| e.code.as_str()), Some("ACCESS_DENIED"), "{v:?}");
    let storage = v.scope_checks.iter().find(|c| c.scope == "storage").unwrap();
    assert_eq!(storage.missing_permissions, permissions::for_scope("aws", "storage"), "exactly the dropped actions");
    assert!(v.scope_checks.iter().filter(|c| c.scope != "storage").all(|c| c.granted), "{v:?}");

    let v = save(foreign).await;
    assert_eq!(v.error.as_ref().map(|e| e.code.as_str()), Some("EXTERNAL_ID_MISMATCH"), "{v:?}");

    app.finish().await;
}

/// Every non-empty subset of `scopes`.
fn combinations(scopes: &[&'static str]) -> Vec<Vec<&'static str>> {
    (1..(1u32 << scopes.len()))
        .map(|mask| scopes.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, s)| *s).collect())
        .collect()
}

/// A Python that can parse YAML (moto's virtual environment has PyYAML).
fn python() -> String {
    let moto = std::env::var("CLOUDCONN_TEST_MOTO_SERVER").unwrap_or_default();
    match std::path::Path::new(&moto).parent() {
        Some(bin) if bin.join("python").exists() => bin.join("python").display().to_string(),
        _ => "python3".into(),
    }
}

/// Checks one artifact by its kind: JSON parses, YAML parses (CloudFormation
/// tags allowed), shell passes `bash -n` and starts in strict mode.
pub(crate) fn lint(artifact: &pb::SetupArtifact, scratch: &std::path::Path) {
    let path = scratch.join(&artifact.name);
    std::fs::write(&path, &artifact.content).unwrap();
    let (program, args): (String, Vec<String>) = match artifact.media_type.as_str() {
        "application/json" => {
            serde_json::from_str::<serde_json::Value>(&artifact.content)
                .unwrap_or_else(|e| panic!("{}: {e}", artifact.name));
            return;
        }
        "application/yaml" => (
            python(),
            vec![
                "-c".into(),
                "import sys, yaml\nyaml.SafeLoader.add_multi_constructor('!', lambda l, s, n: None)\n\
                 yaml.safe_load(open(sys.argv[1]))"
                    .into(),
                path.display().to_string(),
            ],
        ),
        "application/x-sh" => {
            assert!(artifact.content.starts_with("#!/usr/bin/env bash\nset -euo pipefail\n"), "{}", artifact.name);
            ("bash".into(), vec!["-n".into(), path.display().to_string()])
        }
        other => panic!("{}: unexpected media type {other}", artifact.name),
    };
    let out = std::process::Command::new(&program).args(&args).output().expect("run the linter");
    assert!(out.status.success(), "{}: {}\n{}", artifact.name, String::from_utf8_lossy(&out.stderr), artifact.content);
}

#[tokio::test]
async fn every_kit_lints_grants_exactly_the_table_and_never_carries_user_text() {
    // --dev with the sandbox: its platform principal stands in for AWS's.
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let scratch = tempdir();
    let hostile = "x'; rm -rf ~ #\"$(touch /tmp/pwned)`id`\n--- !!python/object:os.system";
    let mut n = 0;
    for provider in cloudconn_tests::harness::fixtures::ALL_PROVIDERS {
        let name = provider.as_str_name()["PROVIDER_".len()..].to_lowercase();
        let allowed: Vec<&'static str> = permissions::table(&name).iter().map(|s| s.scope).collect();
        for scopes in combinations(&allowed) {
            n += 1;
            let tag = format!("k{n}");
            create_with(&app, &tag, provider, &scopes, hostile).await;
            let kit = kit(&app, &tag).await.unwrap_or_else(|e| panic!("{name} {scopes:?}: {e:?}"));
            assert_eq!(kit.scopes, scopes);
            assert!(!kit.steps.is_empty());
            let owned: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
            let wanted = permissions::for_scopes(&name, &owned);
            for artifact in kit.steps.iter().flat_map(|s| &s.artifacts) {
                lint(artifact, &scratch);
                assert!(!artifact.content.contains("rm -rf ~") && !artifact.content.contains("pwned"), "user text");
                // Every permission a kit grants is one the table lists.
                let granted: Vec<String> = match artifact.name.as_str() {
                    "permissions-policy.json" => {
                        let policy: serde_json::Value = serde_json::from_str(&artifact.content).unwrap();
                        policy["Statement"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .flat_map(|s| {
                                s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned())
                            })
                            .collect()
                    }
                    "custom-role.json" => {
                        let role: serde_json::Value = serde_json::from_str(&artifact.content).unwrap();
                        role["Actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect()
                    }
                    "custom-role.yaml" => artifact
                        .content
                        .lines()
                        .filter_map(|l| l.strip_prefix("  - "))
                        .map(|p| serde_json::from_str::<String>(p).unwrap())
                        .collect(),
                    _ => continue,
                };
                // AWS has no base permission: the trust policy does that part.
                assert_eq!(granted, wanted, "{name} {scopes:?} {}", artifact.name);
            }
            for step in &kit.steps {
                assert!(!step.text.contains("rm -rf ~") && !step.title.is_empty(), "{name}: {}", step.title);
            }
        }
    }
    assert_eq!(n, 15 * 3 + 2, "every combination of every provider");
    app.finish().await;
}

pub(crate) fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cloudconn-kit-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn the_aws_kit_needs_the_platform_principal_and_a_token_for_the_workspace() {
    use cloudconn_tests::harness::auth::TokenSpec;
    let app = TestApp::builder().spawn().await;
    create_with(&app, "prod_aws", pb::Provider::Aws, &["storage"], "").await;
    let refused = kit(&app, "prod_aws").await.expect_err("no principal configured");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("CLOUDCONN_AWS_PLATFORM_PRINCIPAL"), "{}", refused.message());
    create_with(&app, "atlas_main", pb::Provider::MongodbAtlas, &["database"], "").await;
    assert!(kit(&app, "atlas_main").await.is_ok(), "other providers need no principal");
    assert_eq!(kit(&app, "nope").await.unwrap_err().code(), Code::NotFound);

    let elsewhere = app.token(&TokenSpec { workspaces: &["other"], scope: "connections:read", ..TokenSpec::default() });
    let mut client = app.client_with(cloudconn_tests::harness::auth::Bearer::new(&elsewhere));
    let request =
        pb::GetSetupInstructionsRequest { workspace: "acme".into(), tag: "atlas_main".into(), ..Default::default() };
    assert_eq!(client.get_setup_instructions(request).await.unwrap_err().code(), Code::PermissionDenied);
    app.finish().await;
}

/// `%XX` escapes decoded (IAM returns policy documents URL-encoded).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}
