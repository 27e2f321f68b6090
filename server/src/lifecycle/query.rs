//! GetConnection and ListConnections.

use std::collections::HashMap;

use super::Lifecycle;
use crate::{
    domain::names::{Tag, Workspace},
    error::AppError,
    store::{
        connections::{self, ConnectionRecord, ListFilter},
        entities::connections::Model,
        validations,
    },
};

/// A validated list request. The page token has been decoded and checked
/// against the workspace and filters by the API layer.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub workspace: Workspace,
    pub filter: ListFilter,
    pub page_size: u64,
    pub after_tag: Option<String>,
}

pub struct ListPage {
    pub records: Vec<ConnectionRecord>,
    /// Tag of the last row, when more rows follow.
    pub next_after_tag: Option<String>,
}

impl Lifecycle {
    /// GetConnection: one statement, the consumers included.
    pub async fn get(&self, workspace: &Workspace, tag: &Tag) -> Result<ConnectionRecord, AppError> {
        let with = connections::Read { lock: false, consumers: true };
        connections::read(&self.db, workspace.as_str(), tag.as_str(), with).await?.ok_or(AppError::NotFound)
    }

    /// Attaches the last validation to a row.
    pub async fn record(&self, row: Model) -> Result<ConnectionRecord, AppError> {
        Ok(connections::load_record(&self.db, row).await?)
    }

    pub async fn list(&self, query: ListQuery) -> Result<ListPage, AppError> {
        // One row more than the page tells whether another page follows.
        let mut rows = connections::list(
            &self.db,
            query.workspace.as_str(),
            &query.filter,
            query.after_tag.as_deref(),
            query.page_size + 1,
        )
        .await?;
        let more = rows.len() as u64 > query.page_size;
        rows.truncate(query.page_size as usize);
        let next_after_tag = if more { rows.last().map(|r| r.tag.clone()) } else { None };

        // Last validations of the whole page in one query, not one per row.
        let ids = rows.iter().filter_map(|r| r.last_validation_id).collect();
        let mut by_id: HashMap<_, _> = validations::find_many(&self.db, query.workspace.as_str(), ids)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
        let records = rows
            .into_iter()
            .map(|row| {
                let last_validation = row.last_validation_id.and_then(|id| by_id.remove(&id));
                ConnectionRecord::new(row, last_validation)
            })
            .collect();
        Ok(ListPage { records, next_after_tag })
    }
}

/// A validated audit listing.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    pub workspace: Workspace,
    /// Only this connection's rows.
    pub tag: Option<String>,
    pub page_size: u64,
    /// Continue after this `(time, id)`.
    pub before: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
}

impl Lifecycle {
    /// One page of the audit trail, newest first, and the cursor of the
    /// next page (`<time µs>/<id>`) when there is one.
    pub async fn audit(
        &self,
        query: AuditQuery,
    ) -> Result<(Vec<crate::store::entities::audit::Model>, Option<String>), AppError> {
        let mut rows = crate::store::audit::list(
            &self.db,
            query.workspace.as_str(),
            query.tag.as_deref(),
            query.before,
            query.page_size + 1,
        )
        .await?;
        let more = rows.len() as u64 > query.page_size;
        rows.truncate(query.page_size as usize);
        let next = if more { rows.last().map(|r| format!("{}/{}", r.time.timestamp_micros(), r.id)) } else { None };
        Ok((rows, next))
    }
}
