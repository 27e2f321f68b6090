//! Looking into a test app's dependencies: its database rows, Vault paths,
//! queues. What a test asserts against besides the API itself.

use std::{path::PathBuf, time::Duration};

use cloudconn_server::config::Mode;
use sea_orm::{ConnectionTrait, Statement};
use secrecy::SecretString;

use super::{app::TestApp, env};

impl TestApp {
    /// The Vault path (under the mount) of a connection's credentials.
    pub fn vault_path(&self, workspace: &str, uid: &str) -> String {
        format!("{}/{workspace}/{uid}", self.vault_prefix)
    }

    /// Every row of every table, as text, for canary searches.
    pub async fn dump_database(&self) -> String {
        let tables = [
            "connections",
            "validations",
            "outbox",
            "audit",
            "secret_purges",
            "connection_consumers",
            "issue_hits",
            "seaql_migrations",
        ];
        let backend = self.db.get_database_backend();
        let mut out = String::new();
        for table in tables {
            let sql = match backend {
                sea_orm::DbBackend::Postgres => format!("SELECT CAST(t AS TEXT) AS row FROM {table} t"),
                _ => {
                    // SQLite has no row-to-text cast: quote() every column.
                    let columns = self
                        .db
                        .query_all_raw(Statement::from_string(
                            backend,
                            format!("SELECT name FROM pragma_table_info('{table}')"),
                        ))
                        .await
                        .expect("table columns");
                    let quoted: Vec<String> = columns
                        .iter()
                        .map(|c| format!("quote(\"{}\")", c.try_get::<String>("", "name").expect("column name")))
                        .collect();
                    format!("SELECT {} AS row FROM {table}", quoted.join(" || ',' || "))
                }
            };
            let rows = self.db.query_all_raw(Statement::from_string(backend, sql)).await.expect("dump table");
            for row in rows {
                let text: String = row.try_get("", "row").expect("row as text");
                out.push_str(&format!("{table}: {text}\n"));
            }
        }
        out
    }

    /// The `--dev` data directory (SQLite file, encrypted secrets, key).
    pub fn dev_data_dir(&self) -> Option<PathBuf> {
        (self.mode == Mode::Dev).then(|| self.scratch.join("dev"))
    }

    /// Number of secret purges still queued.
    pub async fn pending_purges(&self) -> i64 {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(backend, "SELECT COUNT(*) AS n FROM secret_purges"))
            .await
            .expect("count purges")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("count")
    }

    /// Empties this test's dead-letter queue and says how many jobs it held.
    pub async fn take_dead_letters(&self) -> u32 {
        let connection = super::amqp::connect().await;
        let channel = connection.create_channel().await.expect("channel");
        let n = super::amqp::depth(&channel, &self.topology.dead_letter_queue()).await;
        channel
            .queue_purge(self.topology.dead_letter_queue().into(), lapin::options::QueuePurgeOptions::default())
            .await
            .expect("purge");
        let _ = connection.close(0, "done".into()).await;
        n
    }

    /// Publishes raw bytes as a validation job, as a broken producer would.
    pub async fn publish_raw_job(&self, body: &[u8]) {
        let publisher = cloudconn_infra::amqp::publisher::Publisher::new(
            SecretString::from(env::amqp_url()),
            "cloudconn-tests",
            self.topology.clone(),
            Duration::from_secs(5),
        );
        publisher
            .publish_all(&[cloudconn_infra::amqp::publisher::Outgoing {
                exchange: self.topology.jobs_exchange(),
                routing_key: cloudconn_infra::amqp::topology::VALIDATE_KEY.into(),
                payload: body.to_vec(),
                message_id: uuid::Uuid::new_v4().to_string(),
                content_type: "application/json",
                traceparent: None,
                mandatory: true,
            }])
            .await
            .expect("publish raw job");
    }

    /// Outbox rows not yet published.
    pub async fn unsent_outbox(&self) -> i64 {
        self.outbox_rows("sent_time IS NULL").await
    }

    /// Outbox rows published and still kept.
    pub async fn sent_outbox(&self) -> i64 {
        self.outbox_rows("sent_time IS NOT NULL").await
    }

    /// Outbox rows (sent or not) of IssueCredentials audit events.
    pub async fn issue_events(&self) -> i64 {
        self.outbox_rows("routing_key LIKE '%.audit.issue_credentials'").await
    }

    async fn outbox_rows(&self, condition: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let sql = format!("SELECT COUNT(*) AS n FROM outbox WHERE {condition}");
        let row =
            self.db.query_one_raw(Statement::from_string(backend, sql)).await.expect("count outbox").expect("a row");
        row.try_get::<i64>("", "n").expect("count")
    }

    /// The repeat hits counted so far: (consumer, subject, scope, hits) per
    /// row of `issue_hits`, sorted.
    pub async fn issue_hits(&self) -> Vec<(String, String, String, i64)> {
        let backend = self.db.get_database_backend();
        let sql = "SELECT consumer, subject, scope, hits FROM issue_hits ORDER BY consumer, subject, scope";
        let rows = self.db.query_all_raw(Statement::from_string(backend, sql)).await.expect("read issue_hits");
        rows.iter()
            .map(|r| {
                let text = |c: &str| r.try_get::<String>("", c).expect("a text column");
                (text("consumer"), text("subject"), text("scope"), r.try_get::<i64>("", "hits").expect("hits"))
            })
            .collect()
    }
}
