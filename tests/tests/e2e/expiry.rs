//! Credential expiry (docs/api.md#credential-expiry), through the public API
//! and its event stream (WatchConnections), with the real probes against the provider sandbox: an
//! Azure client secret and a Google key that expire within the warning
//! window get a warning on every validation and one `expiring` event per
//! date; credentials that expire later (or never) are recorded (or not)
//! without a warning; a principal that may not read the date changes
//! nothing (probes.rs).

use std::time::Duration;

use chrono::{DateTime, Utc};
use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::app::TestApp;
use prost_types::FieldMask;
use tonic::Streaming;

use crate::{
    helpers::*,
    sandbox::steered,
    watch::{next, warm_up, watch},
};

type Events = Streaming<pb::ConnectionEvent>;

const WAIT: Duration = Duration::from_secs(60);
const KEY: &str = "credential_expire_time";

/// Creates `tag` with the sandbox credentials `word` steers, validates it.
async fn validated(app: &TestApp, tag: &str, provider: pb::Provider, word: &str) -> pb::Validation {
    create(app, "acme", tag, provider).await;
    complete(app, "acme", tag, steered(provider, word)).await.unwrap();
    let done = validate(app, tag, WAIT).await.unwrap();
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Active, "{tag}");
    done.validation.unwrap()
}

fn expiry_of(v: &pb::Validation) -> Option<DateTime<Utc>> {
    v.identity.get(KEY).map(|t| DateTime::parse_from_rfc3339(t).expect("an RFC 3339 date").with_timezone(&Utc))
}

fn expiry_warnings(v: &pb::Validation) -> Vec<&String> {
    v.warnings.iter().filter(|w| w.contains(" expires on ")).collect()
}

/// A change that publishes `updated`: events are published in commit order,
/// so every event of the changes before it arrives before it.
async fn touch(app: &TestApp, tag: &str) {
    let request = pb::UpdateConnectionRequest {
        workspace: "acme".into(),
        tag: tag.into(),
        description: Some(format!("touched at {}", Utc::now())),
        update_mask: Some(FieldMask { paths: vec!["description".into()] }),
        ..Default::default()
    };
    app.client.clone().update_connection(request).await.unwrap();
}

/// The event names (`activated`, `expiring`, …) of `tag` up to and
/// including its next `updated`.
async fn events_until_updated(events: &mut Events, tag: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let event = next(events, WAIT).await.expect("an event");
        if event.connection.as_ref().is_none_or(|c| c.tag != tag) {
            continue;
        }
        let name = event.r#type.trim_start_matches("cloudconn.connection.").trim_end_matches(".v1").to_owned();
        if name == "expiring" {
            // The event carries the validation that found the date.
            let last = event.connection.unwrap().last_validation.unwrap();
            assert!(last.identity.contains_key(KEY), "{last:?}");
        }
        seen.push(name);
        if seen.last().is_some_and(|n| n == "updated") {
            return seen;
        }
    }
}

/// A watch on the workspace, live before the test's changes.
async fn events(app: &TestApp) -> Events {
    let mut events = watch(app, "acme", "").await;
    warm_up(app, &mut events).await;
    events
}

#[tokio::test]
async fn a_secret_or_key_expiring_soon_is_warned_about_on_each_validation_and_announced_once() {
    // An interval longer than the credentials have left.
    let interval = Duration::from_secs(60 * 86_400);
    let app = TestApp::builder().with_provider_sandbox().with_revalidation(interval, 10).spawn().await;
    let mut events = events(&app).await;
    for (tag, provider, what) in
        [("azure_soon", pb::Provider::Azure, "client secret"), ("gcp_soon", pb::Provider::Gcp, "service account key")]
    {
        let first = validated(&app, tag, provider, "sandbox-expiring").await;
        // The sandbox's `sandbox-expiring` credentials end 14 days from now.
        let expires = expiry_of(&first).unwrap_or_else(|| panic!("{tag}: the date is recorded: {first:?}"));
        let days = (expires - Utc::now()).num_hours() as f64 / 24.0;
        assert!((13.9..=14.0).contains(&days), "{tag}: expires in {days} days");
        let warnings = expiry_warnings(&first);
        assert_eq!(warnings.len(), 1, "{tag}: {:?}", first.warnings);
        let date = expires.format("%Y-%m-%d").to_string();
        assert!(warnings[0].contains(what) && warnings[0].contains(&date), "{tag}: {}", warnings[0]);
        assert!(warnings[0].contains("save it here"), "the warning says what to do: {}", warnings[0]);

        // Announced once, right after the activation, with the date in the
        // connection's last validation.
        touch(&app, tag).await;
        let seen = events_until_updated(&mut events, tag).await;
        let expiring = "expiring".to_owned();
        assert_eq!(seen.iter().filter(|k| **k == expiring).count(), 1, "{tag}: {seen:?}");
        let activated = seen.iter().position(|k| k == "activated").unwrap();
        assert_eq!(seen[activated + 1], expiring, "{tag}: {seen:?}");

        // Validated again (as the schedule would): warned again, not announced again.
        let again = validate(&app, tag, WAIT).await.unwrap().validation.unwrap();
        assert_ne!(again.id, first.id);
        assert_eq!(expiry_of(&again), Some(expires));
        assert_eq!(expiry_warnings(&again).len(), 1, "{tag}: every validation warns: {:?}", again.warnings);
        touch(&app, tag).await;
        let seen = events_until_updated(&mut events, tag).await;
        assert!(!seen.contains(&expiring), "{tag}: one announcement per date: {seen:?}");
        let shown = get(&app, "acme", tag).await.unwrap();
        assert_eq!(shown.last_validation.unwrap().identity.get(KEY), first.identity.get(KEY));
        // Checked again just after it stops working, not an interval later.
        let next = shown.next_validation_time.expect("an ACTIVE connection is scheduled").seconds;
        assert_eq!(next, expires.timestamp() + 60, "{tag}");
    }
    app.finish().await;
}

#[tokio::test]
async fn credentials_expiring_later_or_never_carry_no_warning() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let mut events = events(&app).await;
    // Entra ID's client secrets always end (the sandbox's: in two years);
    // the sandbox's Google keys, like most, never do.
    let azure = validated(&app, "azure_later", pb::Provider::Azure, "s3cret-value").await;
    let expires = expiry_of(&azure).expect("an Azure secret's end date is recorded");
    assert!(expires > Utc::now() + chrono::Duration::days(365), "{expires}");
    assert!(expiry_warnings(&azure).is_empty(), "{:?}", azure.warnings);
    let gcp = validated(&app, "gcp_never", pb::Provider::Gcp, "s3cret-value").await;
    assert_eq!(expiry_of(&gcp), None, "a key without an expiry has no date: {:?}", gcp.identity);
    assert!(expiry_warnings(&gcp).is_empty());
    for tag in ["azure_later", "gcp_never"] {
        touch(&app, tag).await;
        let seen = events_until_updated(&mut events, tag).await;
        assert!(!seen.iter().any(|k| k == "expiring"), "{tag}: {seen:?}");
    }
    app.finish().await;
}

/// A date already past the week's reminder when first seen: one event, not
/// one per threshold crossed at once (the reminders at a week and a day
/// before, as time passes, are the unit tests' in `domain::expiry`).
#[tokio::test]
async fn a_date_first_seen_three_days_ahead_is_announced_once() {
    use cloudconn_tests::harness::{entra, fixtures};

    let ends = Utc::now() + chrono::Duration::days(3);
    let app = entra::App { reads_applications: true, secret_end_time: Some(ends), ..entra::reader("az-ending") };
    let tenant = entra::Tenant::start(vec![(fixtures::CLIENT, app)]).await;
    let app = TestApp::builder().with_real_probes(tenant.endpoints.clone()).spawn().await;
    let mut events = events(&app).await;
    create(&app, "acme", "ending", pb::Provider::Azure).await;
    complete(&app, "acme", "ending", entra::credentials(fixtures::CLIENT, "az-ending")).await.unwrap();
    for round in 0..2 {
        let v = validate(&app, "ending", WAIT).await.unwrap().validation.unwrap();
        assert_eq!(v.state(), pb::ValidationState::Succeeded, "{v:?}");
        let warnings = expiry_warnings(&v);
        assert!(warnings.len() == 1 && warnings[0].contains("(in 2 days)"), "{:?}", v.warnings);
        touch(&app, "ending").await;
        let seen = events_until_updated(&mut events, "ending").await;
        let announced = seen.iter().filter(|k| *k == "expiring").count();
        assert_eq!(announced, if round == 0 { 1 } else { 0 }, "round {round}: {seen:?}");
    }
    app.finish().await;
}
