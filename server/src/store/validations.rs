//! Queries of the `validations` table.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::validations::{self as rows, Column, Entity, Model};
use crate::domain::status::ValidationState;
use cloudconn_infra::amqp::messages::Outcome;

/// How a run of a validation went, whatever its outcome.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub attempts: i32,
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,
    pub end_time: chrono::DateTime<chrono::Utc>,
}

/// Saves the columns `change` sets on `validation`, with the run's.
async fn end(
    txn: &impl ConnectionTrait,
    validation: Model,
    run: Run,
    change: impl FnOnce(&mut rows::ActiveModel),
) -> Result<Model, sea_orm::DbErr> {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let mut active = validation.into_active_model();
    active.attempts = Set(run.attempts);
    active.start_time = Set(run.start_time);
    active.end_time = Set(Some(run.end_time));
    change(&mut active);
    active.update(txn).await
}

/// Ends a validation as SUPERSEDED: its result came for a revision that a
/// newer one replaced while it was probed.
pub async fn supersede(txn: &impl ConnectionTrait, validation: Model, run: Run) -> Result<Model, sea_orm::DbErr> {
    use sea_orm::Set;
    end(txn, validation, run, |active| active.state = Set(ValidationState::Superseded.as_str().to_owned())).await
}

/// Ends a validation with the worker's outcome: SUCCEEDED with the identity
/// found, or FAILED with why; both with the scope checks and warnings.
pub async fn finish(
    txn: &impl ConnectionTrait,
    validation: Model,
    run: Run,
    outcome: &Outcome,
) -> Result<Model, sea_orm::DbErr> {
    use sea_orm::Set;
    end(txn, validation, run, |active| match outcome {
        Outcome::Succeeded { identity, scope_checks, warnings } => {
            active.state = Set(ValidationState::Succeeded.as_str().to_owned());
            active.identity = Set(rows::identity_text(identity));
            active.scope_checks = Set(rows::scope_checks_text(scope_checks));
            active.warnings = Set(rows::warnings_text(warnings));
        }
        Outcome::Failed { error, scope_checks, warnings } => {
            active.state = Set(ValidationState::Failed.as_str().to_owned());
            active.error = Set(Some(rows::error_text(error)));
            active.scope_checks = Set(rows::scope_checks_text(scope_checks));
            active.warnings = Set(rows::warnings_text(warnings));
        }
    })
    .await
}

pub async fn find(db: &impl ConnectionTrait, workspace: &str, id: Uuid) -> Result<Option<Model>, sea_orm::DbErr> {
    Entity::find_by_id(id).filter(Column::Workspace.eq(workspace)).one(db).await
}

/// Loads the validations with these ids (one query for a whole list page).
pub async fn find_many(
    db: &impl ConnectionTrait,
    workspace: &str,
    ids: Vec<Uuid>,
) -> Result<Vec<Model>, sea_orm::DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find().filter(Column::Workspace.eq(workspace)).filter(Column::Id.is_in(ids)).all(db).await
}

/// The newest SUCCEEDED validation of `revision` of a connection: what the
/// run step issues from when the connection's last validation is another
/// (one under way after a scope change, or a failed one of a newer revision).
pub async fn last_succeeded(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
    revision: i64,
) -> Result<Option<Model>, sea_orm::DbErr> {
    use sea_orm::QueryOrder;
    Entity::find()
        .filter(Column::ConnectionId.eq(connection_id))
        .filter(Column::Revision.eq(revision))
        .filter(Column::State.eq(ValidationState::Succeeded.as_str()))
        .order_by_desc(Column::CreateTime)
        .one(db)
        .await
}

/// Removes a deleted connection's validation history.
pub async fn delete_for_connection(db: &impl ConnectionTrait, connection_id: Uuid) -> Result<(), sea_orm::DbErr> {
    Entity::delete_many().filter(Column::ConnectionId.eq(connection_id)).exec(db).await.map(|_| ())
}

/// Records a new QUEUED validation of `revision`, started by `trigger`.
pub async fn insert_queued(
    txn: &impl ConnectionTrait,
    workspace: &str,
    connection_id: Uuid,
    revision: i64,
    trigger: crate::domain::status::Trigger,
) -> Result<Model, sea_orm::DbErr> {
    use sea_orm::{ActiveModelTrait, Set};
    super::entities::validations::ActiveModel {
        id: Set(Uuid::new_v4()),
        connection_id: Set(connection_id),
        workspace: Set(workspace.to_owned()),
        revision: Set(revision),
        state: Set(ValidationState::Queued.as_str().to_owned()),
        attempts: Set(0),
        create_time: Set(super::now()),
        start_time: Set(None),
        end_time: Set(None),
        error: Set(None),
        scope_checks: Set(rows::scope_checks_text(&[])),
        identity: Set(rows::identity_text(&Default::default())),
        warnings: Set(rows::warnings_text(&[])),
        nonce: Set(Some(crate::domain::token::random_token())),
        trigger: Set(trigger.as_str().to_owned()),
    }
    .insert(txn)
    .await
}

/// Whether a validation is still under way (QUEUED or RUNNING).
pub fn is_unfinished(validation: &Model) -> bool {
    ValidationState::from_db(&validation.state).is_some_and(|s| !s.is_terminal())
}

/// Ends the connection's unfinished validation of a revision other than
/// `keep_revision` as SUPERSEDED, in `record` as in the database: a newer
/// revision, or a validation of another, overtook it.
///
/// Only a connection's last validation can be unfinished. A validation is
/// only ever recorded as the new last one, and recording one first ends
/// the unfinished last one unless it is of the same revision — in which
/// case it answers the call and nothing is recorded. So when the last one
/// is finished, or there is none, there is nothing to end and no statement
/// is sent. The statement itself still ends every unfinished one of another
/// revision: rows written before this rule held are ended too.
pub async fn supersede_last(
    txn: &impl ConnectionTrait,
    record: &mut crate::store::connections::ConnectionRecord,
    keep_revision: i64,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    let Some(last) = record.last_validation.as_mut().filter(|v| is_unfinished(v) && v.revision != keep_revision) else {
        return Ok(());
    };
    let now = super::now();
    Entity::update_many()
        .col_expr(Column::State, Expr::value(ValidationState::Superseded.as_str()))
        .col_expr(Column::EndTime, Expr::value(now))
        .filter(Column::ConnectionId.eq(record.row.id))
        .filter(Column::Revision.ne(keep_revision))
        .filter(Column::State.is_in([ValidationState::Queued.as_str(), ValidationState::Running.as_str()]))
        .exec(txn)
        .await?;
    last.state = ValidationState::Superseded.as_str().to_owned();
    last.end_time = Some(now);
    Ok(())
}

/// Up to `limit` validations still unfinished that were requested before
/// `cutoff`, oldest first (the partial index `validations_unfinished`).
pub async fn overdue(
    db: &impl ConnectionTrait,
    cutoff: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> Result<Vec<Model>, sea_orm::DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    Entity::find()
        .filter(Column::State.is_in([ValidationState::Queued.as_str(), ValidationState::Running.as_str()]))
        .filter(Column::CreateTime.lt(cutoff))
        .order_by_asc(Column::CreateTime)
        .limit(limit)
        .all(db)
        .await
}

/// Validations not yet terminal, oldest first (`--dev` re-sends their jobs
/// after a restart, since its in-process queue does not survive one).
pub async fn unfinished(db: &impl ConnectionTrait) -> Result<Vec<Model>, sea_orm::DbErr> {
    use sea_orm::QueryOrder;
    Entity::find()
        .filter(Column::State.is_in([ValidationState::Queued.as_str(), ValidationState::Running.as_str()]))
        .order_by_asc(Column::CreateTime)
        .all(db)
        .await
}

/// Deletes up to `batch` finished validations that are older than the
/// newest `keep` of their connection; returns how many. A connection's
/// current validation is always among its newest, so none is deleted.
pub async fn prune_history(db: &impl ConnectionTrait, keep: u64, batch: u64) -> Result<u64, sea_orm::DbErr> {
    // Integers of ours, not input: inlined, so one text serves both backends.
    let sql = format!(
        "DELETE FROM validations WHERE id IN (\
           SELECT id FROM (\
             SELECT id, state, ROW_NUMBER() OVER (PARTITION BY connection_id ORDER BY create_time DESC) AS n \
             FROM validations\
           ) ranked WHERE n > {keep} AND state NOT IN ('queued', 'running') LIMIT {batch})"
    );
    Ok(db.execute_unprepared(&sql).await?.rows_affected())
}
