//! How ACTIVE connections get their first scheduled re-validation when the
//! schedule did not give them one (docs/api.md#scheduled-re-validation):
//! an upgrade from a release without scheduling spreads them over a day;
//! turning scheduling on after it was off spreads them over one interval.
//! Both seen through the API (`Connection.next_validation_time`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, env::SharedDatabase, fixtures};
use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(30);

fn next_of(connection: &pb::Connection) -> Option<DateTime<Utc>> {
    connection.next_validation_time.as_ref().and_then(|t| DateTime::from_timestamp(t.seconds, 0))
}

/// Rows as a release before scheduling left them: `n` ACTIVE connections
/// and one PENDING, in the schema of the first four migrations.
const OLD_ROWS: &str = r#"
INSERT INTO connections
  (id, workspace, tag, provider, display_name, description, scopes, status, external_id, revision,
   active_revision, credential_fields, secret_fields_set, version, create_time, update_time)
SELECT md5('old' || i)::uuid, 'acme', 'old_' || i, 'gcp', 'old_' || i, '', '["storage"]',
       CASE WHEN i = 0 THEN 'pending' ELSE 'active' END, NULL,
       CASE WHEN i = 0 THEN 0 ELSE 1 END, CASE WHEN i = 0 THEN 0 ELSE 1 END,
       '{"project_id":"acme-prod-123"}', '["service_account_json"]', 1, now(), now()
FROM generate_series(0, 40) AS i"#;

#[tokio::test]
async fn an_upgrade_spreads_the_first_checks_of_active_connections_over_a_day() {
    let database = SharedDatabase::create().await;
    {
        let db = sea_orm::Database::connect(database.url()).await.expect("the new database");
        // The schema as the release before scheduling left it.
        cloudconn_server::store::migrations::Migrator::up(&db, Some(4)).await.expect("the first four migrations");
        db.execute_unprepared(OLD_ROWS).await.expect("old rows");
    }
    // The new release starts on it (and migrates), with scheduling on.
    let app = TestApp::builder().without_worker().on_database(&database.name).spawn().await;
    let now = Utc::now();
    let pending = get(&app, "acme", "old_0").await.unwrap();
    assert_eq!(next_of(&pending), None, "only ACTIVE connections are scheduled");
    let mut times = Vec::new();
    for i in 1..=40 {
        let connection = get(&app, "acme", &format!("old_{i}")).await.unwrap();
        let next = next_of(&connection).unwrap_or_else(|| panic!("old_{i} is scheduled"));
        assert!(next >= now - chrono::Duration::minutes(1), "old_{i}: {next}");
        assert!(next <= now + chrono::Duration::hours(24), "old_{i}: {next}, after a day");
        times.push(next);
    }
    // Spread, not all at once: 40 random times over a day leave no 12 hours
    // empty but once in thousands of runs.
    times.sort();
    let spread = times[39] - times[0];
    assert!(spread > chrono::Duration::hours(12), "first checks spread over {spread} only");
    app.finish().await;
    database.drop_now().await;
}

#[tokio::test]
async fn turning_scheduling_on_schedules_the_connections_activated_while_it_was_off() {
    let database = SharedDatabase::create().await;
    let off = TestApp::builder().on_database(&database.name).with_revalidation(Duration::ZERO, 10).spawn().await;
    create(&off, "acme", "while_off", pb::Provider::Azure).await;
    complete(&off, "acme", "while_off", fixtures::credentials(pb::Provider::Azure, "")).await.unwrap();
    let done = validate(&off, "while_off", WAIT).await.unwrap().connection.unwrap();
    assert_eq!(done.status(), pb::ConnectionStatus::Active);
    assert_eq!(next_of(&done), None, "scheduling is off");
    off.finish().await;

    // The next start turns it on, with an hour's interval.
    let interval = Duration::from_secs(3600);
    let on =
        TestApp::builder().without_worker().on_database(&database.name).with_revalidation(interval, 10).spawn().await;
    let now = Utc::now();
    let mut scheduled = None;
    for _ in 0..50 {
        scheduled = next_of(&get(&on, "acme", "while_off").await.unwrap());
        if scheduled.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let next = scheduled.expect("scheduled once the scheduler started");
    assert!(next >= now - chrono::Duration::minutes(1) && next <= now + chrono::Duration::hours(1), "{next}");
    on.finish().await;
    database.drop_now().await;
}
