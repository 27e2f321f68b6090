//! Queries of the `validations` table.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::validations::{Column, Entity, Model};

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

/// Removes a deleted connection's validation history.
pub async fn delete_for_connection(db: &impl ConnectionTrait, connection_id: Uuid) -> Result<(), sea_orm::DbErr> {
    Entity::delete_many().filter(Column::ConnectionId.eq(connection_id)).exec(db).await.map(|_| ())
}
