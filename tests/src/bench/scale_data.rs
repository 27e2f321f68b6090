//! The scale scenario's data and plans: N ACTIVE connections written
//! straight into the schema with SQL (creating a million through the API
//! would take hours and measure Create, not the reads), and the plans
//! PostgreSQL picks for the statements Get and List run.
//!
//! Row `i` lives at [`address`]`(i, n)`; the SQL below and that function
//! must agree, and a Get of a row that is not there fails the run.

use std::sync::Mutex;

use cloudconn_server::store::{
    connections::{self, ListFilter},
    consumers, validations,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement};
use sqlx::PgPool;
use uuid::Uuid;

/// Small workspaces the rows outside the big one are spread over.
pub const WORKSPACES: usize = 1_000;
pub const BIG_WORKSPACE: &str = "big";

/// Rows of the big workspace: every tenth row, up to 100,000 (one customer
/// with far more connections than the rest, where deep pages exist).
pub fn big_rows(n: usize) -> usize {
    (n / 10).min(100_000)
}

fn is_big(i: usize, n: usize) -> bool {
    i.is_multiple_of(10) && i / 10 < big_rows(n)
}

/// The workspace and tag of row `i` of `n`. Rows are interleaved across
/// workspaces in insertion order, as connections created over time are,
/// so a page of one workspace touches scattered heap pages.
pub fn address(i: usize, n: usize) -> (String, String) {
    let workspace = if is_big(i, n) {
        BIG_WORKSPACE.to_owned()
    } else {
        let k = if !i.is_multiple_of(10) { i - i / 10 - 1 } else { i / 10 };
        format!("ws_{:04}", k % WORKSPACES)
    };
    (workspace, format!("c_{i:07}"))
}

/// The tag of the `p`-th row of the big workspace in tag order.
pub fn big_tag(p: usize) -> String {
    format!("c_{:07}", p * 10)
}

/// The rows, as CreateConnection, CompleteConnection and a succeeded
/// ValidateConnection leave them: one revision, ACTIVE on it, the last
/// validation linked. Providers, scopes and field values vary by row.
const CONNECTIONS: &str = r#"
INSERT INTO connections
  (id, workspace, tag, provider, display_name, description, scopes, status, external_id, revision,
   active_revision, credential_fields, secret_fields_set, credentials_update_time, last_validation_id,
   version, request_id, request_fingerprint, create_time, update_time, next_validation_time)
SELECT md5('c' || i)::uuid, ws, 'c_' || lpad(i::text, 7, '0'), p,
       'c_' || lpad(i::text, 7, '0'),
       CASE WHEN i % 4 = 0 THEN '' ELSE 'Connection ' || i || ' of ' || ws END,
       CASE WHEN p IN ('mongodb_atlas', 'neo4j_aura') THEN '["database"]'
            WHEN i % 3 = 0 THEN '["storage","database","messaging","functions"]'
            ELSE '["storage","database"]' END,
       'active',
       CASE WHEN p = 'aws' THEN md5('x' || i) END,
       1, 1,
       CASE p
         WHEN 'aws' THEN '{"role_arn":"arn:aws:iam::' || (100000000000 + i) || ':role/cloudconn-access"}'
         WHEN 'gcp' THEN '{"project_id":"project-' || i || '"}'
         WHEN 'azure' THEN '{"client_id":"' || md5('a' || i)::uuid || '","subscription_id":"'
                           || md5('s' || i)::uuid || '","tenant_id":"' || md5('t' || i)::uuid || '"}'
         WHEN 'mongodb_atlas' THEN '{"atlas_public_key":"' || substr(md5('k' || i), 1, 8)
                                   || '","project_id":"' || substr(md5('p' || i), 1, 24) || '"}'
         ELSE '{"aura_client_id":"' || md5('u' || i) || '"}' END,
       CASE p
         WHEN 'aws' THEN '[]' WHEN 'gcp' THEN '["service_account_json"]'
         WHEN 'azure' THEN '["client_secret"]' WHEN 'mongodb_atlas' THEN '["atlas_private_key"]'
         ELSE '["aura_client_secret"]' END,
       created + interval '2 minutes',
       md5('v' || i)::uuid,
       4,
       CASE WHEN i % 2 = 0 THEN 'req-' || md5('r' || i) END,
       CASE WHEN i % 2 = 0 THEN md5('f' || i) || md5('g' || i) END,
       created, created + interval '3 minutes',
       -- Scheduled as an ACTIVE connection is: within the next day. None
       -- is due during the run.
       now() + interval '1 hour' + (i % 86400) * interval '1 second'
FROM (
  SELECT i,
         CASE WHEN i % 10 = 0 AND i / 10 < $2 THEN 'big'
              ELSE 'ws_' || lpad((CASE WHEN i % 10 <> 0 THEN i - i / 10 - 1 ELSE i / 10 END % $3)::text, 4, '0')
         END AS ws,
         (ARRAY['aws','gcp','azure','mongodb_atlas','neo4j_aura'])[((i / 10 + i) % 5)::int + 1] AS p,
         now() - ($1 - i) * interval '10 seconds' AS created
  FROM generate_series(0, $1 - 1) AS i
) AS r
"#;

/// Each connection's last validation: succeeded on revision 1, every
/// scope granted.
const VALIDATIONS: &str = r#"
INSERT INTO validations
  (id, connection_id, workspace, revision, state, attempts, create_time, start_time, end_time,
   error, scope_checks, identity, warnings, nonce)
SELECT c.last_validation_id, c.id, c.workspace, 1, 'succeeded', 1,
       c.credentials_update_time, c.credentials_update_time + interval '100 ms',
       c.credentials_update_time + interval '900 ms', NULL,
       (SELECT json_agg(json_build_object('scope', s, 'granted', true, 'missing_permissions', '[]'::json))::text
          FROM json_array_elements_text(c.scopes::json) AS s),
       '{"account":"' || c.provider || '-' || substr(c.tag, 3) || '","principal":"cloudconn@' || c.workspace || '"}',
       '[]', md5('n' || c.tag)
FROM connections c
"#;

/// Who used each connection: none, one or two consumers.
const CONSUMERS: &str = r#"
INSERT INTO connection_consumers (connection_id, consumer, last_used_time)
SELECT c.id, 'service-' || k || '/prd', now() - k * interval '1 hour'
FROM connections c, generate_series(1, 2) AS k
WHERE k <= substr(c.tag, 3)::int % 3
"#;

/// Writes `n` connections into a migrated, empty database.
pub async fn load(pool: &PgPool, n: usize) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    // A bulk load: nothing here needs to survive a crash one by one.
    sqlx::query("SET synchronous_commit = off").execute(&mut *conn).await?;
    sqlx::query(CONNECTIONS)
        .bind(n as i64)
        .bind(big_rows(n) as i64)
        .bind(WORKSPACES as i64)
        .execute(&mut *conn)
        .await?;
    sqlx::query(VALIDATIONS).execute(&mut *conn).await?;
    sqlx::query(CONSUMERS).execute(&mut *conn).await?;
    Ok(())
}

/// A sea-orm connection that runs nothing: it keeps each statement the
/// server's own store functions build, values and all, and answers as an
/// empty database would. So the plans below are of the server's exact
/// statements, not of a copy that could drift from them.
#[derive(Default)]
struct Recorder(Mutex<Vec<Statement>>);

impl Recorder {
    fn keep(&self, stmt: Statement) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(stmt);
    }

    fn take(&self) -> Vec<Statement> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Recorder {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.keep(stmt);
        Err(DbErr::Custom("the recorder only records".into()))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        Err(DbErr::Custom(format!("the recorder only records: {sql}")))
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.keep(stmt);
        Ok(None)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.keep(stmt);
        Ok(Vec::new())
    }
}

/// One statement and PostgreSQL's plan for it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    pub call: String,
    pub statement: String,
    pub plan: Vec<String>,
}

/// The plans of Get's and List's statements (a row of the big workspace,
/// and a deep page of it), with the values inlined: the plan for those
/// values. The server sends them as prepared statements, which PostgreSQL
/// may give a generic plan after five runs; that plan is not shown.
pub async fn plans(pool: &PgPool, n: usize) -> anyhow::Result<Vec<Plan>> {
    let rec = Recorder::default();
    let big = big_rows(n);
    // Three quarters in: the middle of the second half the deep pages are
    // measured in.
    let deep = big_tag(big * 3 / 4);
    let page: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, last_validation_id FROM connections WHERE workspace = $1 AND tag > $2 ORDER BY tag LIMIT 50",
    )
    .bind(BIG_WORKSPACE)
    .bind(&deep)
    .fetch_all(pool)
    .await?;
    let (ids, validation_ids): (Vec<Uuid>, Vec<Uuid>) = page.iter().map(|(id, v)| (*id, v.unwrap_or_default())).unzip();

    let mut calls: Vec<(&str, Vec<Statement>)> = Vec::new();
    connections::read(&rec, BIG_WORKSPACE, &deep, connections::Read { lock: false, consumers: true }).await?;
    calls.push(("GetConnection", rec.take()));
    connections::list(&rec, BIG_WORKSPACE, &ListFilter::default(), None, 51).await?;
    calls.push(("ListConnections, the first page's rows", rec.take()));
    connections::list(&rec, BIG_WORKSPACE, &ListFilter::default(), Some(&deep), 51).await?;
    validations::find_many(&rec, BIG_WORKSPACE, validation_ids).await?;
    consumers::last_used(&rec, ids).await?;
    calls.push(("ListConnections, a deep page", rec.take()));
    // What each replica's scheduler asks every second, per provider.
    cloudconn_server::store::schedule::claim_due(&rec, "aws", chrono::Utc::now(), 10).await?;
    calls.push(("the scheduler: what is due", rec.take()));

    let mut plans = Vec::new();
    for (call, statements) in calls {
        for stmt in statements {
            let statement = stmt.to_string();
            let plan: Vec<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {statement}"))).fetch_all(pool).await?;
            plans.push(Plan { call: call.to_owned(), statement, plan });
        }
    }
    Ok(plans)
}

/// Blocks of the service's tables and indexes PostgreSQL read into its
/// shared buffers, and found there, so far (`pg_statio_user_tables`),
/// after waiting `settle` for the backends to publish their counts.
pub async fn buffer_blocks(pool: &PgPool, settle: std::time::Duration) -> anyhow::Result<(i64, i64)> {
    if settle.is_zero() {
        return Ok((0, 0));
    }
    tokio::time::sleep(settle).await;
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_stat_clear_snapshot()").execute(&mut *conn).await?;
    Ok(sqlx::query_as(
        "SELECT coalesce(sum(heap_blks_read + coalesce(idx_blks_read, 0)), 0)::int8, \
                coalesce(sum(heap_blks_hit + coalesce(idx_blks_hit, 0)), 0)::int8 FROM pg_statio_user_tables",
    )
    .fetch_one(&mut *conn)
    .await?)
}
