//! State changes and queries of the `connections` table. Every query starts
//! from [`in_workspace`], so no code path can read across workspaces.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Select, Set,
};
use uuid::Uuid;

use crate::domain::{credentials::CredentialsView, status::ConnectionStatus};

use super::entities::{
    connections::{self, ActiveModel, Column, Entity, Model},
    validations,
};

/// A connection row with what the API shows alongside it.
#[derive(Debug, Clone)]
pub struct ConnectionRecord {
    pub row: Model,
    pub last_validation: Option<validations::Model>,
    /// Its consumers of the last 30 days, most recent first, when the read
    /// asked for them ([`Read::consumers`]); empty otherwise. Events never
    /// carry them.
    pub consumers: Vec<super::entities::connection_consumers::Model>,
}

impl ConnectionRecord {
    /// A record without consumers (a new connection has none; events and
    /// listings show none).
    pub fn new(row: Model, last_validation: Option<validations::Model>) -> Self {
        Self { row, last_validation, consumers: Vec::new() }
    }
}

/// What [`read`] brings along with the row.
#[derive(Debug, Clone, Copy, Default)]
pub struct Read {
    /// Lock the connection row until the transaction ends (PostgreSQL
    /// `FOR UPDATE OF connections`; the validation is not locked).
    pub lock: bool,
    /// The recent consumers, for a response that shows them.
    pub consumers: bool,
}

/// The row, its last validation and (if asked) its recent consumers in one
/// statement: one snapshot, so the three agree, and one round trip — the
/// whole of GetConnection, and the first step of every change.
pub async fn read(
    db: &impl ConnectionTrait,
    workspace: &str,
    tag: &str,
    with: Read,
) -> Result<Option<ConnectionRecord>, sea_orm::DbErr> {
    use sea_orm::{FromQueryResult, IdenStatic, QueryTrait, SelectA, SelectB, sea_query::LockType};
    let backend = db.get_database_backend();
    let mut select =
        in_workspace(workspace).filter(Column::Tag.eq(tag)).find_also_related(validations::Entity).limit(1);
    if with.consumers {
        select = select.expr_as(super::consumers::recent_expr(backend), super::consumers::RECENT_COLUMN);
    }
    if with.lock && super::supports_row_locks(backend) {
        // Only the connection: PostgreSQL refuses to lock the nullable side
        // of an outer join, and a validation is changed only under its
        // connection's lock anyway.
        QuerySelect::query(&mut select).lock_with_tables(LockType::Update, [Entity]);
    }
    let Some(result) = db.query_one_raw(select.build(backend)).await? else {
        return Ok(None);
    };
    let row = Model::from_query_result(&result, SelectA.as_str())?;
    let last_validation = validations::Model::from_query_result_optional(&result, SelectB.as_str())?;
    let consumers = if with.consumers {
        let text: Option<String> = result.try_get("", super::consumers::RECENT_COLUMN)?;
        super::consumers::parse_recent(row.id, text.as_deref())?
    } else {
        Vec::new()
    };
    Ok(Some(ConnectionRecord { row, last_validation, consumers }))
}

/// A row with its last validation, read on `db` (a transaction, inside one).
pub async fn load_record(db: &impl ConnectionTrait, row: Model) -> Result<ConnectionRecord, sea_orm::DbErr> {
    let last_validation = match row.last_validation_id {
        Some(id) => super::validations::find(db, &row.workspace, id).await?,
        None => None,
    };
    Ok(ConnectionRecord::new(row, last_validation))
}

/// The connections of one workspace.
pub fn in_workspace(workspace: &str) -> Select<Entity> {
    Entity::find().filter(Column::Workspace.eq(workspace))
}

pub async fn find(db: &impl ConnectionTrait, workspace: &str, tag: &str) -> Result<Option<Model>, sea_orm::DbErr> {
    in_workspace(workspace).filter(Column::Tag.eq(tag)).one(db).await
}

pub async fn find_by_request_id(
    db: &impl ConnectionTrait,
    workspace: &str,
    request_id: &str,
) -> Result<Option<Model>, sea_orm::DbErr> {
    in_workspace(workspace).filter(Column::RequestId.eq(request_id)).one(db).await
}

/// How many connections a workspace holds.
pub async fn count_in(db: &impl ConnectionTrait, workspace: &str) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    in_workspace(workspace).count(db).await
}

/// Inserts `row` unless its workspace already holds `limit` connections,
/// in one statement: `INSERT … SELECT <values> WHERE (SELECT COUNT …) <
/// limit RETURNING *`. `None`: the workspace is full. A soft cap: two
/// inserts racing at the limit may both pass; what matters is that one
/// workspace cannot grow the table without bound.
pub async fn insert_within(
    txn: &impl ConnectionTrait,
    row: ActiveModel,
    limit: u64,
) -> Result<Option<Model>, sea_orm::DbErr> {
    use sea_orm::{
        ActiveValue, Iterable,
        sea_query::{Expr, ExprTrait, Query, SubQueryStatement},
    };
    let workspace = match row.workspace.clone() {
        ActiveValue::Set(w) | ActiveValue::Unchanged(w) => w,
        ActiveValue::NotSet => return Err(sea_orm::DbErr::Custom("a new connection needs its workspace".into())),
    };
    let (mut columns, mut values) = (Vec::new(), Vec::new());
    for column in Column::iter() {
        if let ActiveValue::Set(value) | ActiveValue::Unchanged(value) = row.get(column) {
            columns.push(column);
            values.push(Expr::val(value));
        }
    }
    let held = Query::select()
        .expr(Expr::col(Column::Id).count())
        .from(Entity)
        .and_where(Column::Workspace.eq(workspace))
        .to_owned();
    let within = Query::select()
        .exprs(values)
        .and_where(Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(held))).lt(limit))
        .to_owned();
    let insert = Query::insert()
        .into_table(Entity)
        .columns(columns)
        .select_from(within)
        .map_err(|e| sea_orm::DbErr::Custom(format!("building the insert: {e}")))?
        .returning_all()
        .to_owned();
    let backend = txn.get_database_backend();
    Entity::find().from_raw_sql(backend.build(&insert)).one(txn).await
}

/// Saves the columns `change` sets on `row`, bumping its `version` (the
/// etag) and setting its `update_time` to `now`: every change does both.
async fn update(
    txn: &impl ConnectionTrait,
    row: Model,
    now: chrono::DateTime<chrono::Utc>,
    change: impl FnOnce(&mut ActiveModel),
) -> Result<Model, sea_orm::DbErr> {
    let version = row.version + 1;
    let mut active = row.into_active_model();
    change(&mut active);
    active.version = Set(version);
    active.update_time = Set(now);
    active.update(txn).await
}

/// Records a newly saved credential revision and what it shows
/// (CompleteConnection).
pub async fn save_revision(
    txn: &impl ConnectionTrait,
    row: Model,
    revision: i64,
    view: &CredentialsView,
) -> Result<Model, sea_orm::DbErr> {
    let now = super::now();
    let (credential_fields, secret_fields_set) = connections::credentials_text(view);
    update(txn, row, now, |active| {
        active.revision = Set(revision);
        active.credential_fields = Set(credential_fields);
        active.secret_fields_set = Set(secret_fields_set);
        active.credentials_update_time = Set(Some(now));
    })
    .await
}

/// What an UpdateConnection changes: `Some` columns are set.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub scopes: Option<Vec<String>>,
}

/// Saves changed display name, description and scopes (UpdateConnection).
pub async fn update_details(txn: &impl ConnectionTrait, row: Model, details: Details) -> Result<Model, sea_orm::DbErr> {
    update(txn, row, super::now(), |active| {
        if let Some(name) = details.display_name {
            active.display_name = Set(name);
        }
        if let Some(description) = details.description {
            active.description = Set(description);
        }
        if let Some(scopes) = details.scopes {
            active.scopes = Set(connections::scopes_text(&scopes));
        }
    })
    .await
}

/// Points the row at its newest validation (a validation was requested).
pub async fn point_at_validation(
    txn: &impl ConnectionTrait,
    row: Model,
    validation: Uuid,
) -> Result<Model, sea_orm::DbErr> {
    update(txn, row, super::now(), |active| active.last_validation_id = Set(Some(validation))).await
}

/// Points the row at the validation the scheduler started for it and sets
/// when it is due next (until the outcome sets it again).
pub async fn point_at_scheduled_validation(
    txn: &impl ConnectionTrait,
    row: Model,
    validation: Uuid,
    next: chrono::DateTime<chrono::Utc>,
) -> Result<Model, sea_orm::DbErr> {
    update(txn, row, super::now(), |active| {
        active.last_validation_id = Set(Some(validation));
        active.next_validation_time = Set(Some(next));
    })
    .await
}

/// When the connection is next validated, and the retryable failures in a
/// row that led to it (see `domain::schedule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// `None`: not scheduled (not ACTIVE, or scheduling is off).
    pub next: Option<chrono::DateTime<chrono::Utc>>,
    pub failures: i32,
}

/// What a validation's outcome changes on its connection.
pub struct OutcomeChange {
    /// Set when it changes (a success, or the loss of the active revision).
    pub active_revision: Option<i64>,
    pub status: Option<ConnectionStatus>,
    pub schedule: Schedule,
    /// The credential expiry date an `expiring` event announces with this
    /// change, and its reminder stage, remembered so each stage of each date
    /// is announced once.
    pub announced_expiry: Option<(chrono::DateTime<chrono::Utc>, i16)>,
}

/// Records what a validation's outcome did to the connection.
pub async fn record_outcome(
    txn: &impl ConnectionTrait,
    row: Model,
    change: OutcomeChange,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Model, sea_orm::DbErr> {
    update(txn, row, now, |active| {
        if let Some(revision) = change.active_revision {
            active.active_revision = Set(revision);
        }
        if let Some(status) = change.status {
            active.status = Set(status.as_str().to_owned());
        }
        active.next_validation_time = Set(change.schedule.next);
        active.revalidation_failures = Set(change.schedule.failures);
        if let Some((time, stage)) = change.announced_expiry {
            active.expiry_warned_time = Set(Some(time));
            active.expiry_warned_stage = Set(stage);
        }
    })
    .await
}

/// Connections by (provider, status): one grouped count over the table.
pub async fn census(db: &impl ConnectionTrait) -> Result<Vec<(String, String, i64)>, sea_orm::DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Provider)
        .column(Column::Status)
        .column_as(Column::Id.count(), "n")
        .group_by(Column::Provider)
        .group_by(Column::Status)
        .into_tuple::<(String, String, i64)>()
        .all(db)
        .await
}

pub async fn delete(txn: &impl ConnectionTrait, id: Uuid) -> Result<(), sea_orm::DbErr> {
    Entity::delete_by_id(id).exec(txn).await.map(|_| ())
}

/// Filters of a list call.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub provider: Option<&'static str>,
    pub status: Option<&'static str>,
}

/// One page ordered by tag, starting after `after_tag` (keyset pagination:
/// stable under concurrent inserts and deletes, and O(page) at any depth).
pub async fn list(
    db: &impl ConnectionTrait,
    workspace: &str,
    filter: &ListFilter,
    after_tag: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>, sea_orm::DbErr> {
    let mut query = in_workspace(workspace);
    if let Some(p) = filter.provider {
        query = query.filter(Column::Provider.eq(p));
    }
    if let Some(s) = filter.status {
        query = query.filter(Column::Status.eq(s));
    }
    if let Some(after) = after_tag {
        query = query.filter(Column::Tag.gt(after));
    }
    query.order_by_asc(connections::Column::Tag).limit(limit).all(db).await
}

/// The validation `id` and the connection it belongs to, both read and, on
/// PostgreSQL, both locked, in one statement (the result consumer).
///
/// Locking the validation too is what makes reading it here safe: a
/// redelivered result recorded concurrently finished it while we waited,
/// and PostgreSQL hands a waiter the newest version of every row it locks
/// (not only the connection's). The rows are locked in `FROM` order, the
/// connection first, as every other path locks them, so this cannot
/// deadlock with a save or a validation request.
pub async fn find_with_validation_for_update(
    txn: &impl ConnectionTrait,
    validation: Uuid,
) -> Result<Option<(Model, validations::Model)>, sea_orm::DbErr> {
    use sea_orm::JoinType;
    let owner = Entity::belongs_to(validations::Entity).from(Column::Id).to(validations::Column::ConnectionId).into();
    let mut query = Entity::find()
        .select_also(validations::Entity)
        .join(JoinType::InnerJoin, owner)
        .filter(validations::Column::Id.eq(validation));
    if super::supports_row_locks(txn.get_database_backend()) {
        query = query.lock_exclusive();
    }
    Ok(query.one(txn).await?.and_then(|(row, validation)| Some((row, validation?))))
}

pub async fn find_by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, sea_orm::DbErr> {
    Entity::find_by_id(id).one(db).await
}
