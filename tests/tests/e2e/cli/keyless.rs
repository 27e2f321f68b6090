//! A keyless connection from the CLI: saved with `kind` and no secret (none
//! asked for, with no terminal to ask on), ACTIVE through the sandbox's STS
//! stand-in verifying the token, saved again without repeating the kind,
//! and the keyless setup kit (docs/keyless.md).

use cloudconn_tests::harness::app::TestApp;

use super::harness::{Cli, has_line};

#[tokio::test]
async fn a_keyless_aws_connection_is_saved_validated_and_set_up_from_the_cli() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let cli = Cli::explicit(&app, "acme");
    let role = "role_arn=arn:aws:iam::123456789012:role/cli-keyless";
    cli.run(&["connections", "create", "prod_aws", "--provider", "aws", "--scope", "storage"]).await.ok();

    let kit = cli.run(&["setup", "prod_aws", "--kind", "web_identity"]).await.ok();
    assert!(kit.stdout.contains("sts:AssumeRoleWithWebIdentity"), "{}", kit.stdout);
    assert!(kit.stdout.contains("kind=web_identity"), "the kit saves the kind: {}", kit.stdout);

    let args = ["connections", "complete", "prod_aws", "--field", "kind=web_identity", "--field", role, "--validate"];
    let saved = cli.run(&args).await.ok();
    assert!(has_line(&saved.stdout, ["status", "active"]), "{}", saved.stdout);
    // Saved again without `kind`: the stored one is kept, and no secret is asked for.
    let again = cli.run(&["connections", "complete", "prod_aws", "--field", role, "--validate"]).await.ok();
    assert!(has_line(&again.stdout, ["status", "active"]), "{}", again.stdout);
    let json = cli.run(&["connections", "get", "prod_aws", "-o", "json"]).await.ok().json();
    assert_eq!(json["credentials"]["fields"]["kind"], "web_identity", "{json}");
    assert_eq!(json["credentials"]["revision"], "2", "{json}");
    assert!(json["credentials"]["secretFieldsSet"].as_array().is_none_or(|s| s.is_empty()), "{json}");

    // A kind the provider does not have names the field.
    let wrong = cli.run(&["setup", "prod_aws", "--kind", "federated"]).await;
    assert_ne!(wrong.code, 0, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("kind"), "{}", wrong.stderr);
    app.finish().await;
}
