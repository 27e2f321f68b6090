//! What `cloudconn` shows of scheduled re-validation: when an ACTIVE
//! connection is validated next, and what started each validation
//! (docs/api.md#scheduled-re-validation).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cloudconn_tests::harness::app::TestApp;

use super::{
    SEED_ROLE,
    harness::{Cli, has_line},
};

/// The time of a plain `next validation` line (`2026-12-09 02:46:35Z (in 25 h)`).
fn next_validation(stdout: &str) -> Option<DateTime<Utc>> {
    let value = stdout.lines().find_map(|l| l.strip_prefix("next validation\t"))?;
    let (time, _) = value.split_once(" (").unwrap_or_else(|| panic!("no '(in …)' after the time: {value}"));
    let at =
        chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%SZ").unwrap_or_else(|e| panic!("{time}: {e}"));
    Some(at.and_utc())
}

#[tokio::test]
async fn get_and_validate_show_the_next_validation_and_what_started_each() {
    // The production default: every ACTIVE connection 24 h (± 10 %) after its last outcome.
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let cli = Cli::explicit(&app, "acme");
    let role = format!("role_arn={SEED_ROLE}");

    cli.run(&["connections", "create", "prod_aws", "--provider", "aws", "--scope", "storage"]).await.ok();
    cli.run(&["connections", "complete", "prod_aws", "--field", &role]).await.ok();
    let pending = cli.run(&["connections", "get", "prod_aws"]).await.ok();
    assert_eq!(next_validation(&pending.stdout), None, "a pending connection is not scheduled: {}", pending.stdout);

    let validated = cli.run(&["connections", "validate", "prod_aws"]).await.ok();
    assert!(has_line(&validated.stdout, ["trigger", "manual"]), "{}", validated.stdout);
    let next = next_validation(&validated.stdout).unwrap_or_else(|| panic!("no next validation: {}", validated.stdout));
    let from_now = next - Utc::now();
    assert!(
        from_now > chrono::Duration::minutes(21 * 60) && from_now < chrono::Duration::minutes(27 * 60),
        "about a day ahead, not {from_now}: {}",
        validated.stdout
    );

    let got = cli.run(&["connections", "get", "prod_aws"]).await.ok();
    assert_eq!(next_validation(&got.stdout), Some(next), "{}", got.stdout);
    assert!(has_line(&got.stdout, ["trigger", "manual"]), "{}", got.stdout);
    let table = cli.run(&["connections", "get", "prod_aws", "-o", "table"]).await.ok();
    assert!(
        table.stdout.lines().any(|l| l.starts_with("next validation  ") && l.ends_with(" h)")),
        "aligned, with how far off: {}",
        table.stdout
    );
    let json = cli.run(&["connections", "get", "prod_aws", "-o", "json"]).await.ok().json();
    assert_eq!(json["lastValidation"]["trigger"], "VALIDATION_TRIGGER_MANUAL", "{json}");
    let json_next: DateTime<Utc> = json["nextValidationTime"].as_str().expect("nextValidationTime").parse().unwrap();
    assert_eq!(json_next.timestamp(), next.timestamp());

    let rotated = cli.run(&["connections", "complete", "prod_aws", "--field", &role, "--validate"]).await.ok();
    assert!(has_line(&rotated.stdout, ["trigger", "complete"]), "{}", rotated.stdout);
    app.finish().await;
}

#[tokio::test]
async fn get_shows_a_validation_the_schedule_started() {
    let app = TestApp::builder().with_provider_sandbox().with_revalidation(Duration::from_secs(2), 10).spawn().await;
    let cli = Cli::explicit(&app, "acme");
    cli.run(&["connections", "create", "prod_aws", "--provider", "aws", "--scope", "storage"]).await.ok();
    let role = format!("role_arn={SEED_ROLE}");
    cli.run(&["connections", "complete", "prod_aws", "--field", &role, "--validate"]).await.ok();

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = cli.run(&["connections", "get", "prod_aws"]).await.ok();
        if has_line(&got.stdout, ["trigger", "scheduled"]) {
            assert!(next_validation(&got.stdout).is_some(), "still scheduled: {}", got.stdout);
            break;
        }
        assert!(Instant::now() < deadline, "no scheduled validation within 30 s: {}", got.stdout);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    app.finish().await;
}
