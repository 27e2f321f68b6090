//! The `cloudconn` CLI as a user runs it: the built binary against a real
//! `--dev` server with the provider sandbox, asserting on stdout, stderr
//! and the exit code. The binary is another package's, so it is found next
//! to this test binary (`cargo build -p cloudconn-cli` first; `deploy/test.sh`
//! does).

mod config;
mod expiry;
mod harness;
mod keyless;
mod schedule;

use std::{process::Stdio, time::Duration};

use cloudconn_tests::harness::{app::TestApp, fixtures, logs};
use harness::{Cli, has_line, has_words, row};
use tokio::io::{AsyncBufReadExt, BufReader};

const SEED_ROLE: &str = "arn:aws:iam::123456789012:role/DuctapeAccess";
const DENIED_ROLE: &str = "arn:aws:iam::123456789012:role/sandbox-denied";

#[tokio::test]
async fn the_aws_flow_from_create_to_delete() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let cli = Cli::explicit(&app, "acme");

    let created = cli
        .run(&["connections", "create", "prod_aws", "--provider", "aws", "--scope", "storage", "--scope", "database"])
        .await
        .ok();
    assert!(created.stdout.contains("pending") && created.stdout.contains("external id"), "{}", created.stdout);

    let role = format!("role_arn={SEED_ROLE}");
    let completed = cli.run(&["connections", "complete", "prod_aws", "--field", &role]).await.ok();
    assert!(completed.stdout.contains(&format!("role_arn = {SEED_ROLE}")), "{}", completed.stdout);

    let validated = cli.run(&["connections", "validate", "prod_aws", "--timeout", "60s"]).await.ok();
    assert!(validated.stdout.contains("succeeded (revision 1"), "{}", validated.stdout);
    assert!(validated.stdout.contains("storage: granted") && validated.stdout.contains("Sandbox result"));
    assert!(
        has_line(&validated.stdout, ["connection", "prod_aws"]) && has_line(&validated.stdout, ["status", "active"]),
        "{}",
        validated.stdout
    );
    assert!(!validated.stderr.contains('\u{1b}'), "no spinner or colour off a terminal: {:?}", validated.stderr);

    // In a pipe: one tab-separated line per connection and no header, for
    // `cut -f1` and `awk -F'\t'`.
    let listed = cli.run(&["connections", "list"]).await.ok();
    assert_eq!(listed.stdout.lines().count(), 1, "no header: {}", listed.stdout);
    assert_eq!(row(&listed.stdout, "prod_aws")[..5], ["prod_aws", "aws", "active", "storage,database", "1"]);
    assert_eq!(row(&listed.stdout, "prod_aws").len(), 6, "{:?}", listed.stdout);
    let filtered = cli.run(&["connections", "list", "--status", "pending"]).await.ok();
    assert!(!filtered.stdout.contains("prod_aws"), "{}", filtered.stdout);
    // -o table (or CLOUDCONN_OUTPUT=table) keeps the aligned table, header
    // included, in a pipe too; -o plain gives the pipe's layout anywhere.
    for table in [
        cli.run(&["connections", "list", "-o", "table"]).await.ok(),
        cli.run_with(&["connections", "list"], None, &[("CLOUDCONN_OUTPUT", "table")]).await.ok(),
    ] {
        assert_eq!(
            table.stdout.lines().next().map(|l| l.split_whitespace().collect::<Vec<_>>()),
            Some(vec!["TAG", "PROVIDER", "STATUS", "SCOPES", "REVISION", "DISPLAY", "NAME"])
        );
        assert!(!table.stdout.contains('\t') && table.stdout.lines().nth(1).unwrap().starts_with("prod_aws  "));
    }
    let plain = cli.run_with(&["connections", "list", "-o", "plain"], None, &[("CLOUDCONN_OUTPUT", "table")]).await;
    assert_eq!(plain.ok().stdout, listed.stdout, "the flag wins over the variable");

    let got = cli.run(&["connections", "get", "prod_aws"]).await.ok();
    assert!(has_line(&got.stdout, ["status", "active"]) && has_line(&got.stdout, ["scopes", "storage, database"]));
    assert!(!got.stdout.contains("\n\n"), "plain: key<TAB>value lines only: {}", got.stdout);
    let got = cli.run(&["connections", "get", "prod_aws", "-o", "table"]).await.ok();
    assert!(has_words(&got.stdout, &["status", "active"]) && !got.stdout.contains('\t'), "{}", got.stdout);

    // The run step: credentials for a shell, then as JSON (a cache hit).
    let issue = ["credentials", "issue", "prod_aws", "--scope", "storage", "--consumer", "billing-api/prd"];
    let env = cli.run(&issue).await.ok();
    let names: Vec<&str> =
        env.stdout.lines().filter_map(|l| l.strip_prefix("export ")?.split_once('=').map(|(n, _)| n)).collect();
    assert_eq!(
        names[..4],
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"],
        "{}",
        env.stdout
    );
    assert!(env.stdout.lines().all(|l| l.starts_with("export ") && l.ends_with('\'')), "quoted: {}", env.stdout);
    let table = cli.run(&[&issue[..], &["-o", "table"]].concat()).await.ok();
    assert_eq!(table.stdout, env.stdout, "export lines whatever the layout (the same credentials, from the cache)");
    let json = cli.run(&[&issue[..], &["-o", "json"]].concat()).await.ok().json();
    assert!(json["aws"]["assumedRoleArn"].as_str().unwrap().ends_with("/cc-billing-api-prd"), "{json}");
    assert!(env.stdout.contains(json["aws"]["accessKeyId"].as_str().unwrap()), "the same credentials, from the cache");
    // The old --format still works, hidden, with a warning on stderr.
    let old = cli.run(&[&issue[..], &["--format", "json"]].concat()).await.ok();
    assert_eq!(old.json()["aws"]["accessKeyId"], json["aws"]["accessKeyId"]);
    assert!(old.stderr.contains("warning: --format is deprecated") && old.stderr.contains("-o json"), "{}", old.stderr);
    let help = cli.run(&["credentials", "issue", "--help"]).await.ok();
    assert!(!help.stdout.contains("--format"), "hidden: {}", help.stdout);

    let updated = cli
        .run(&["connections", "update", "prod_aws", "--display-name", "Production AWS", "--scope", "storage"])
        .await
        .ok();
    assert!(updated.stdout.contains("Production AWS"), "{}", updated.stdout);
    let listed = cli.run(&["connections", "list"]).await.ok();
    assert_eq!(row(&listed.stdout, "prod_aws")[3..], ["storage", "1", "Production AWS"]);

    // Without --yes and without a terminal to ask on: refused, nothing deleted.
    let refused = cli.run(&["connections", "delete", "prod_aws"]).await.fails(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    cli.run(&["connections", "get", "prod_aws"]).await.ok();

    let deleted = cli.run(&["connections", "delete", "prod_aws", "--yes"]).await.ok();
    assert_eq!(deleted.stdout.trim(), "deleted prod_aws");
    let gone = cli.run(&["connections", "get", "prod_aws"]).await.fails(3);
    assert!(gone.stderr.starts_with("error: ") && gone.stderr.contains("CONNECTION_NOT_FOUND"), "{}", gone.stderr);
    app.finish().await;
}

#[tokio::test]
async fn secrets_come_from_stdin_or_a_file_never_from_the_command_line() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let cli = Cli::explicit(&app, "acme");
    let canary = format!("CANARY{}", uuid::Uuid::new_v4().simple());
    cli.run(&["connections", "create", "az", "--provider", "azure", "--scope", "storage"]).await.ok();

    // On argv: refused before anything is sent, naming the field and the
    // ways that work, without repeating the value.
    let on_argv = format!("client_secret={canary}");
    let refused = cli.run(&["connections", "complete", "az", "--field", &on_argv]).await.fails(2);
    assert!(refused.stderr.contains("client_secret") && refused.stderr.contains("--from-file"), "{}", refused.stderr);
    let got = cli.run(&["connections", "get", "az"]).await.ok();
    assert!(!got.stdout.contains("secrets set"), "nothing saved: {}", got.stdout);

    // A required secret missing and no terminal to prompt on.
    let tenant = format!("tenant_id={}", fixtures::TENANT);
    let no_prompt = cli.run(&["connections", "complete", "az", "--field", &tenant]).await.fails(2);
    assert!(no_prompt.stderr.contains("client_secret is required"), "{}", no_prompt.stderr);

    // From stdin, with non-secret fields from flags.
    let secret = serde_json::json!({ "client_secret": format!("azsecret-{canary}") }).to_string();
    let (subscription, client) =
        (format!("subscription_id={}", fixtures::SUBSCRIPTION), format!("client_id={}", fixtures::CLIENT));
    let args = [
        "connections",
        "complete",
        "az",
        "--from-file",
        "-",
        "--field",
        &tenant,
        "--field",
        &subscription,
        "--field",
        &client,
    ];
    let saved = cli.run_with_stdin(&args, Some(&secret)).await.ok();
    assert!(has_line(&saved.stdout, ["secrets set", "client_secret"]), "{}", saved.stdout);
    cli.run(&["connections", "validate", "az"]).await.ok();
    // A rotation of a non-secret field keeps the stored secret (blank).
    let rotated = cli.run(&["connections", "complete", "az", "--field", &client, "--validate"]).await.ok();
    assert!(rotated.stdout.contains("succeeded (revision 2"), "{}", rotated.stdout);

    // From a file: a GCP key pasted as a JSON object, and an Atlas key.
    let dir = std::env::temp_dir().join(format!("cc_cli_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let key: serde_json::Value = serde_json::from_str(&fixtures::service_account_json(&canary)).expect("key file");
    let gcp_file = dir.join("gcp.json");
    std::fs::write(
        &gcp_file,
        serde_json::json!({ "project_id": "acme-prod-123", "service_account_json": key }).to_string(),
    )
    .expect("write");
    cli.run(&["connections", "create", "gcp_main", "--provider", "gcp", "--scope", "storage"]).await.ok();
    let gcp = cli
        .run(&["connections", "complete", "gcp_main", "--from-file", gcp_file.to_str().expect("path"), "--validate"])
        .await
        .ok();
    assert!(gcp.stdout.contains("succeeded") && has_line(&gcp.stdout, ["connection", "gcp_main"]), "{}", gcp.stdout);

    let atlas_file = dir.join("atlas.json");
    let atlas = serde_json::json!({
        "project_id": fixtures::ATLAS_PROJECT, "atlas_public_key": "abcdefgh", "atlas_private_key": format!("atlas-{canary}"),
    });
    std::fs::write(&atlas_file, atlas.to_string()).expect("write");
    cli.run(&["connections", "create", "atlas", "--provider", "mongodb_atlas", "--scope", "database"]).await.ok();
    let saved = cli
        .run(&["connections", "complete", "atlas", "--from-file", atlas_file.to_str().expect("path"), "-o", "json"])
        .await
        .ok();
    assert_eq!(saved.json()["credentials"]["secretFieldsSet"], serde_json::json!(["atlas_private_key"]));
    let listed = cli.run(&["connections", "list", "--provider", "mongodb_atlas"]).await.ok();
    assert_eq!(row(&listed.stdout, "atlas")[..3], ["atlas", "mongodb_atlas", "pending"]);
    for tag in ["az", "gcp_main", "atlas"] {
        cli.run(&["connections", "get", tag, "-o", "json"]).await.ok();
        cli.run(&["connections", "get", tag]).await.ok();
    }
    std::fs::remove_dir_all(&dir).ok();

    cli.assert_never_printed(&canary);
    assert!(!logs::captured().contains(&canary), "a secret value reached the server's logs");
    app.finish().await;
}

#[tokio::test]
async fn a_failed_validation_prints_code_message_and_hint_and_its_exit_code() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let cli = Cli::explicit(&app, "acme");
    cli.run(&["connections", "create", "denied", "--provider", "aws", "--scope", "storage"]).await.ok();
    let role = format!("role_arn={DENIED_ROLE}");
    let failed = cli.run(&["connections", "complete", "denied", "--field", &role, "--validate"]).await.fails(6);
    assert!(failed.stdout.contains("failed (revision 1"), "{}", failed.stdout);
    assert!(failed.stderr.contains("error: validation failed: ACCESS_DENIED: "), "{}", failed.stderr);
    assert!(failed.stderr.contains("hint: Grant the missing permissions"), "{}", failed.stderr);
    assert!(failed.stdout.contains("storage: missing s3:"), "the scope check says what is missing: {}", failed.stdout);

    // Re-validating says the same, and scripts read it as JSON.
    let again = cli.run(&["connections", "validate", "denied", "-o", "json"]).await.fails(6);
    let json = again.json();
    assert_eq!(json["validation"]["state"], "VALIDATION_STATE_FAILED");
    assert_eq!(json["validation"]["error"]["code"], "ACCESS_DENIED");
    assert_eq!(json["connection"]["status"], "CONNECTION_STATUS_FAILED");

    // No time to wait: a new validation is still queued, which scripts tell
    // apart from a failure.
    let unfinished = cli.run(&["connections", "validate", "denied", "--timeout", "0s"]).await.fails(8);
    assert!(unfinished.stderr.contains("validation still queued after 0s"), "{}", unfinished.stderr);

    // --no-wait returns once queued.
    let queued = cli.run(&["connections", "validate", "denied", "--no-wait"]).await.ok();
    assert!(queued.stdout.contains("queued") || queued.stdout.contains("running"), "{}", queued.stdout);
    app.finish().await;
}

#[tokio::test]
async fn server_and_usage_errors_have_their_exit_codes_and_name_the_field() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let cli = Cli::explicit(&app, "acme");

    let invalid = cli.run(&["connections", "create", "Bad!", "--provider", "gcp", "--scope", "nope"]).await.fails(4);
    assert!(invalid.stderr.starts_with("error: "), "{}", invalid.stderr);
    assert!(invalid.stderr.contains("code: INVALID_ARGUMENT"), "{}", invalid.stderr);
    assert!(
        invalid.stderr.contains("field tag: ") && invalid.stderr.contains("field scopes[0]: "),
        "{}",
        invalid.stderr
    );
    assert!(
        !invalid.stderr.contains("Status {") && !invalid.stderr.contains("details:"),
        "no debug dump: {}",
        invalid.stderr
    );

    let missing = cli.run(&["connections", "get", "nothing_here"]).await.fails(3);
    assert!(missing.stderr.contains("reason: CONNECTION_NOT_FOUND"), "{}", missing.stderr);

    cli.run(&["connections", "create", "bare", "--provider", "aws", "--scope", "storage"]).await.ok();
    let early = cli.run(&["connections", "validate", "bare"]).await.fails(4);
    assert!(early.stderr.contains("FAILED_PRECONDITION"), "{}", early.stderr);
    let taken = cli.run(&["connections", "create", "bare", "--provider", "aws", "--scope", "storage"]).await.fails(4);
    assert!(taken.stderr.contains("TAG_ALREADY_EXISTS"), "{}", taken.stderr);

    cli.run(&["connections", "list", "--provider", "oracle"]).await.fails(2);
    cli.run(&["connections", "update", "bare"]).await.fails(2);
    let unknown = cli.run(&["connections", "complete", "bare", "--field", "region=eu"]).await.fails(2);
    assert!(unknown.stderr.contains("its fields are: role_arn"), "{}", unknown.stderr);

    let mut bad_token = Cli::explicit(&app, "acme");
    if let Some((_, token, _)) = &mut bad_token.explicit {
        *token = "not-a-jwt".into();
    }
    let refused = bad_token.run(&["connections", "list"]).await.fails(5);
    assert!(refused.stderr.contains("UNAUTHENTICATED"), "{}", refused.stderr);

    let mut nowhere = Cli::explicit(&app, "acme");
    if let Some((addr, _, _)) = &mut nowhere.explicit {
        *addr = "http://127.0.0.1:1".into();
    }
    let unreachable = nowhere.run(&["providers"]).await.fails(7);
    assert!(
        unreachable.stderr.contains("cannot reach the cloudconn server at http://127.0.0.1:1"),
        "{}",
        unreachable.stderr
    );

    let help = cli.run(&["--help"]).await.ok();
    for code in ["0  success", "2  usage error", "3  not found", "4  request refused", "6  validation failed"] {
        assert!(help.stdout.contains(code), "--help documents exit code {code:?}:\n{}", help.stdout);
    }
    app.finish().await;
}

#[tokio::test]
async fn json_output_is_proto3_json_with_camel_case_fields() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let cli = Cli::explicit(&app, "acme");
    let created = cli
        .run(&[
            "connections",
            "create",
            "prod_aws",
            "--provider",
            "aws",
            "--scope",
            "storage",
            "--display-name",
            "Prod",
            "-o",
            "json",
        ])
        .await
        .ok();
    let json = created.json();
    assert_eq!(json["displayName"], "Prod");
    assert_eq!(json["provider"], "PROVIDER_AWS");
    assert_eq!(json["status"], "CONNECTION_STATUS_PENDING");
    assert_eq!(json["externalId"].as_str().map(str::len), Some(32));
    assert!(json.get("display_name").is_none() && json["createTime"].is_string());

    let providers = cli.run(&["providers", "--output", "json"]).await.ok().json();
    let azure =
        providers["providers"].as_array().expect("providers").iter().find(|p| p["provider"] == "PROVIDER_AZURE");
    let fields = azure.expect("azure")["fields"].as_array().expect("fields").clone();
    assert!(fields.iter().any(|f| f["name"] == "client_secret" && f["secret"] == true), "{fields:?}");

    let listed = cli.run(&["connections", "list", "-o", "json"]).await.ok().json();
    assert_eq!(listed["connections"][0]["tag"], "prod_aws");

    // watch: one JSON event per line, as changes happen.
    let mut watch = cli.command(&["connections", "watch", "-o", "json"]);
    let mut child = watch.stdin(Stdio::null()).spawn().expect("spawn watch");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut event = None;
    // The subscription starts asynchronously: change until an event shows.
    for i in 0..20 {
        let description = format!("change {i}");
        cli.run(&["connections", "update", "prod_aws", "--description", &description]).await.ok();
        if let Ok(line) = tokio::time::timeout(Duration::from_millis(500), lines.next_line()).await {
            event = line.expect("read watch output");
            break;
        }
    }
    let event: serde_json::Value = serde_json::from_str(&event.expect("an event")).expect("an event is JSON");
    assert_eq!(event["type"], "cloudconn.connection.updated.v1");
    assert_eq!(event["connection"]["tag"], "prod_aws");
    child.kill().await.ok();
    app.finish().await;
}

#[tokio::test]
async fn right_after_dev_starts_the_cli_needs_no_configuration() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let cli = Cli::dev_defaults(&app);
    let created = cli.run(&["connections", "create", "prod_aws", "--provider", "aws", "--scope", "storage"]).await.ok();
    assert!(has_line(&created.stdout, ["workspace", "default"]), "{}", created.stdout);
    let role = format!("role_arn={SEED_ROLE}");
    cli.run(&["connections", "complete", "prod_aws", "--field", &role, "--validate"]).await.ok();
    let listed = cli.run(&["connections", "list"]).await.ok();
    assert_eq!(row(&listed.stdout, "prod_aws")[..3], ["prod_aws", "aws", "active"]);
    let providers = cli.run(&["providers"]).await.ok();
    assert!(providers.stdout.contains("client_secret*"), "secret fields are marked: {}", providers.stdout);

    // No dev server here and nothing configured: a usage error that says what to set.
    let elsewhere =
        Cli { dev_dir: std::env::temp_dir().join("cc_no_dev_here"), explicit: None, seen: Default::default() };
    let unconfigured = elsewhere.run(&["connections", "list"]).await.fails(2);
    assert!(unconfigured.stderr.contains("CLOUDCONN_ADDR"), "{}", unconfigured.stderr);

    let script = cli.run(&["completions", "bash"]).await.ok();
    assert!(script.stdout.contains("_cloudconn()") && script.stdout.contains("complete -F"), "{}", script.stdout);
    assert!(script.stdout.contains("connections"));
    app.finish().await;
}

#[tokio::test]
async fn setup_prints_the_kit_or_writes_it_to_a_folder() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let cli = Cli::explicit(&app, "acme");
    cli.run(&["connections", "create", "prod_aws", "--provider", "aws", "--scope", "storage"]).await.ok();
    let external_id = cli.run(&["connections", "get", "prod_aws", "--output", "json"]).await.ok().json()["externalId"]
        .as_str()
        .expect("an external id")
        .to_owned();

    let printed = cli.run(&["setup", "prod_aws"]).await.ok();
    assert!(printed.stdout.contains("## 1. Create the role cloudconn assumes"), "{}", printed.stdout);
    assert!(printed.stdout.contains(&external_id) && printed.stdout.contains("s3:ListAllMyBuckets"));

    let dir = std::env::temp_dir().join(format!("cloudconn-setup-{}", uuid::Uuid::new_v4().simple()));
    cli.run(&["setup", "prod_aws", "--out", dir.to_str().expect("utf-8")]).await.ok();
    let trust: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("trust-policy.json")).expect("trust-policy.json")).unwrap();
    assert_eq!(trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], external_id.as_str());
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README.md");
    assert!(readme.contains("[`create-role.sh`](create-role.sh)"), "{readme}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("create-role.sh")).expect("script").permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "scripts are executable");
    }
    cli.run(&["setup", "nope"]).await.fails(3);
    let _ = std::fs::remove_dir_all(&dir);
    app.finish().await;
}
