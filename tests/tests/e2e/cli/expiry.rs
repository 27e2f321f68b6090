//! What `cloudconn connections get` shows of a credential's expiry
//! (docs/api.md#credential-expiry): the date the provider reports, how far
//! off, and the server's warning when it is near. The provider sandbox
//! steers it (docs/providers.md): `sandbox-expiring` ends 14 days after the
//! server started, within the default 30-day warning window; any other
//! Azure secret ends two years on (no warning); an ordinary Google key never
//! (nothing to show).

use chrono::{DateTime, Utc};
use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, fixtures};

use super::harness::{Cli, has_line};
use crate::{helpers::complete, sandbox::steered};

/// The values of the plain `key<TAB>value` lines with this key.
fn values<'a>(stdout: &'a str, key: &str) -> Vec<&'a str> {
    stdout.lines().filter_map(|l| l.strip_prefix(key)?.strip_prefix('\t')).collect()
}

/// The `credential expires` line: its time and how far off
/// (`2026-12-22 02:10:00Z (in 14 days)`); `None` without one.
fn expires(stdout: &str) -> Option<(DateTime<Utc>, String)> {
    let value = *values(stdout, "credential expires").first()?;
    let (time, rest) = value.split_once(" (").unwrap_or_else(|| panic!("no '(in …)' after the time: {value}"));
    let at =
        chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%SZ").unwrap_or_else(|e| panic!("{time}: {e}"));
    Some((at.and_utc(), rest.trim_end_matches(')').to_owned()))
}

/// The warnings about expiry (the sandbox adds its own, "Sandbox result: …",
/// to every validation).
fn expiry_warnings(stdout: &str) -> Vec<&str> {
    values(stdout, "warning").into_iter().filter(|w| w.contains(" expires on ")).collect()
}

/// Days from now to `at`, as a fraction.
fn days_to(at: DateTime<Utc>) -> f64 {
    (at - Utc::now()).num_minutes() as f64 / 1_440.0
}

/// Creates an Azure connection and saves its secret as a user does (from
/// stdin, never on the command line), validating it.
async fn azure(cli: &Cli, tag: &str, secret: &str) {
    cli.run(&["connections", "create", tag, "--provider", "azure", "--scope", "storage"]).await.ok();
    let fields = [
        format!("tenant_id={}", fixtures::TENANT),
        format!("subscription_id={}", fixtures::SUBSCRIPTION),
        format!("client_id={}", fixtures::CLIENT),
    ];
    let mut args = vec!["connections", "complete", tag, "--from-file", "-", "--validate"];
    for field in &fields {
        args.extend(["--field", field.as_str()]);
    }
    let stdin = serde_json::json!({ "client_secret": secret }).to_string();
    let saved = cli.run_with_stdin(&args, Some(&stdin)).await.ok();
    assert!(has_line(&saved.stdout, ["status", "active"]), "{tag}: {}", saved.stdout);
}

/// `tag` with a Google key whose service account `word` names, saved
/// through the API (the CLI would send the same key file), then validated
/// with the CLI.
async fn gcp(app: &TestApp, cli: &Cli, tag: &str, word: &str) {
    cli.run(&["connections", "create", tag, "--provider", "gcp", "--scope", "storage"]).await.ok();
    complete(app, "acme", tag, steered(pb::Provider::Gcp, word)).await.expect("save the key");
    let validated = cli.run(&["connections", "validate", tag]).await.ok();
    assert!(has_line(&validated.stdout, ["status", "active"]), "{tag}: {}", validated.stdout);
}

/// The checks for a credential `sandbox-expiring` steered: the date 14
/// days on, and one warning naming `what`, the same date and `fix`.
async fn assert_expiring_soon(cli: &Cli, tag: &str, what: &str, fix: &str) {
    let got = cli.run(&["connections", "get", tag]).await.ok();
    let (at, off) = expires(&got.stdout).unwrap_or_else(|| panic!("{tag}: no credential expires line: {}", got.stdout));
    // 14 days after the server started, seconds ago: whole days left, 13.
    let days = days_to(at);
    assert!((13.9..=14.0).contains(&days), "{tag}: expires in {days} days: {}", got.stdout);
    assert_eq!(off, "in 13 days", "{tag}: how far off: {}", got.stdout);

    let warnings = expiry_warnings(&got.stdout);
    assert_eq!(warnings.len(), 1, "{tag}: one expiry warning: {}", got.stdout);
    let date = at.format("%Y-%m-%d %H:%M UTC").to_string();
    // The warning counts the days as the line above does.
    let start = format!("The {what} expires on {date} ({off})");
    assert!(warnings[0].starts_with(&start), "{tag}: {start:?} …, not {:?}", warnings[0]);
    assert!(warnings[0].ends_with(&format!("): {fix} and save it here before then.")), "{tag}: {:?}", warnings[0]);

    // On a terminal's layout too (-o table): the same two lines, aligned.
    let table = cli.run(&["connections", "get", tag, "-o", "table"]).await.ok();
    let line = |key: &str| table.stdout.lines().any(|l| l.starts_with(key) && l[key.len()..].starts_with("  "));
    assert!(line("credential expires") && line("warning"), "{tag}: {}", table.stdout);
    assert!(table.stdout.contains(warnings[0]), "{tag}: {}", table.stdout);
}

#[tokio::test]
async fn get_shows_when_a_credential_expires_and_warns_when_it_is_soon() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let cli = Cli::explicit(&app, "acme");

    azure(&cli, "az_soon", "sandbox-expiring").await;
    assert_expiring_soon(&cli, "az_soon", "client secret", "add a new client secret to the app registration").await;
    gcp(&app, &cli, "gcp_soon", "sandbox-expiring").await;
    assert_expiring_soon(&cli, "gcp_soon", "service account key", "create a new key for the service account").await;

    // An ordinary secret: its end two years on, shown, nothing to warn about.
    azure(&cli, "az_later", "an-ordinary-secret").await;
    let later = cli.run(&["connections", "get", "az_later"]).await.ok();
    let (at, off) = expires(&later.stdout).unwrap_or_else(|| panic!("no credential expires line: {}", later.stdout));
    assert!((729.9..=730.0).contains(&days_to(at)), "two years on: {}", later.stdout);
    assert_eq!(off, "in 729 days", "whole days left: {}", later.stdout);
    assert!(expiry_warnings(&later.stdout).is_empty(), "no expiry warning: {}", later.stdout);

    // An ordinary Google key has no end: no line at all.
    gcp(&app, &cli, "gcp_later", "cloudconn").await;
    let never = cli.run(&["connections", "get", "gcp_later"]).await.ok();
    assert_eq!(expires(&never.stdout), None, "{}", never.stdout);
    assert!(expiry_warnings(&never.stdout).is_empty(), "no expiry warning: {}", never.stdout);
    app.finish().await;
}
