//! Reads and writes `connection_consumers` (see its migration).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, sea_query::OnConflict,
};
use uuid::Uuid;

use super::entities::connection_consumers::{ActiveModel, Column, Entity, Model};

/// How far back `Connection.consumers` looks (docs/run.md).
pub const WINDOW: chrono::Duration = chrono::Duration::days(30);
/// Consumers shown per connection, most recent first.
pub const SHOWN: usize = 100;

/// Records that each `(connection, consumer)` was used at its time: one
/// statement for the batch, keeping the later time on a conflict.
pub async fn touch(
    txn: &impl ConnectionTrait,
    uses: &HashMap<(Uuid, String), DateTime<Utc>>,
) -> Result<(), sea_orm::DbErr> {
    if uses.is_empty() {
        return Ok(());
    }
    let rows = uses.iter().map(|((connection_id, consumer), time)| ActiveModel {
        connection_id: sea_orm::Set(*connection_id),
        consumer: sea_orm::Set(consumer.clone()),
        last_used_time: sea_orm::Set(*time),
    });
    Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([Column::ConnectionId, Column::Consumer])
                .value(Column::LastUsedTime, super::later_of::<Entity>(Column::LastUsedTime))
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map(drop)
}

/// The column [`recent_expr`] adds to a connection's read.
pub const RECENT_COLUMN: &str = "recent_consumers";

/// One connection's consumers of the last [`WINDOW`], most recent first,
/// at most [`SHOWN`], as a scalar subquery of the connection's own read (a
/// JSON array of `{"c": consumer, "t": time}`), so GetConnection is one
/// statement. Consumer names are `[A-Za-z0-9_.@/-]` (the API checks them),
/// but JSON would carry any name anyway. The two dialects spell JSON
/// aggregation differently; NULL when there is none.
pub fn recent_expr(backend: sea_orm::DbBackend) -> sea_orm::sea_query::Expr {
    use sea_orm::{DbBackend, sea_query::Expr};
    let cutoff = Utc::now() - WINDOW;
    let sql = match backend {
        // `::text`: sqlx reads a `json` value as `JsonValue`, not `String`.
        DbBackend::Postgres => format!(
            "(SELECT json_agg(json_build_object('c', r.consumer, 't', r.last_used_time) \
               ORDER BY r.last_used_time DESC)::text \
             FROM (SELECT consumer, last_used_time FROM connection_consumers \
                   WHERE connection_id = \"connections\".\"id\" AND last_used_time > $1 \
                   ORDER BY last_used_time DESC LIMIT {SHOWN}) r)"
        ),
        _ => format!(
            "(SELECT json_group_array(json_object('c', r.consumer, 't', r.last_used_time)) \
             FROM (SELECT consumer, last_used_time FROM connection_consumers \
                   WHERE connection_id = \"connections\".\"id\" AND last_used_time > ? \
                   ORDER BY last_used_time DESC LIMIT {SHOWN}) r)"
        ),
    };
    Expr::cust_with_values(sql, [cutoff])
}

/// Reads [`recent_expr`]'s column back into rows, most recent first.
pub fn parse_recent(connection_id: Uuid, text: Option<&str>) -> Result<Vec<Model>, sea_orm::DbErr> {
    #[derive(serde::Deserialize)]
    struct Use<'a> {
        c: String,
        #[serde(borrow)]
        t: std::borrow::Cow<'a, str>,
    }
    let Some(text) = text else { return Ok(Vec::new()) };
    let uses: Vec<Use> = serde_json::from_str(text)
        .map_err(|e| sea_orm::DbErr::Type(format!("{RECENT_COLUMN} is not the JSON array it should be: {e}")))?;
    let mut rows = uses
        .into_iter()
        .map(|u| {
            // PostgreSQL writes `2026-12-07T22:00:00.123456+00:00`; SQLite
            // returns the text sqlx stored, RFC 3339 too.
            let time = DateTime::parse_from_rfc3339(&u.t)
                .map_err(|e| sea_orm::DbErr::Type(format!("{RECENT_COLUMN}: a time that is not RFC 3339: {e}")))?;
            Ok(Model { connection_id, consumer: u.c, last_used_time: time.with_timezone(&Utc) })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    // SQLite's aggregate keeps the subquery's order in practice, not by
    // promise: sort, which is free on an already sorted list.
    rows.sort_by_key(|row| std::cmp::Reverse(row.last_used_time));
    Ok(rows)
}

/// When each of these connections was last used (within the window): one
/// grouped query for a whole page of a listing.
pub async fn last_used(
    db: &impl ConnectionTrait,
    connection_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, DateTime<Utc>>, sea_orm::DbErr> {
    if connection_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Option<DateTime<Utc>>)> = Entity::find()
        .select_only()
        .column(Column::ConnectionId)
        .column_as(Column::LastUsedTime.max(), "last_used_time")
        .filter(Column::ConnectionId.is_in(connection_ids))
        .filter(Column::LastUsedTime.gt(Utc::now() - WINDOW))
        .group_by(Column::ConnectionId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(id, time)| Some((id, time?))).collect())
}

/// How many consumers a connection has had within the window (a new
/// consumer is refused beyond [`MAX_PER_CONNECTION`]).
pub async fn count(db: &impl ConnectionTrait, connection_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    Entity::find()
        .filter(Column::ConnectionId.eq(connection_id))
        .filter(Column::LastUsedTime.gt(Utc::now() - WINDOW))
        .count(db)
        .await
}

/// Distinct consumers one connection may have within the window: the names
/// are the caller's, so without a bound one token could grow the table
/// without end.
pub const MAX_PER_CONNECTION: u64 = 1000;

/// Whether this consumer was recorded for the connection within the window.
pub async fn known(db: &impl ConnectionTrait, connection_id: Uuid, consumer: &str) -> Result<bool, sea_orm::DbErr> {
    Ok(Entity::find_by_id((connection_id, consumer.to_owned()))
        .filter(Column::LastUsedTime.gt(Utc::now() - WINDOW))
        .one(db)
        .await?
        .is_some())
}

/// Deletes rows older than the window; returns how many.
pub async fn prune(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    Entity::delete_many().filter(Column::LastUsedTime.lt(Utc::now() - WINDOW)).exec(db).await.map(|r| r.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::parse_recent;

    #[test]
    fn recent_consumers_read_back_newest_first_and_bad_text_is_an_error_not_a_panic() {
        let id = uuid::Uuid::new_v4();
        let text =
            r#"[{"c":"old","t":"2026-12-01T10:00:00+00:00"},{"c":"new","t":"2026-12-07T22:00:00.123456+00:00"}]"#;
        let rows = parse_recent(id, Some(text)).unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.consumer.as_str()).collect();
        assert_eq!(names, ["new", "old"]);
        assert_eq!(rows[0].last_used_time.timestamp_subsec_micros(), 123_456);
        assert!(parse_recent(id, None).unwrap().is_empty());
        assert!(parse_recent(id, Some("not json")).is_err());
        assert!(parse_recent(id, Some(r#"[{"c":"x","t":"yesterday"}]"#)).is_err());
    }
}
