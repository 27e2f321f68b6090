//! The database user routes: create, update, list, read, delete, with
//! Atlas's checks of what a body may hold and of the project's limit.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Atlas, DatabaseUser, Signed, USERS_PER_PROJECT, error, md5_hex};

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewUser {
    username: String,
    password: String,
    database_name: String,
    #[serde(default)]
    roles: Vec<NewRole>,
    #[serde(default)]
    delete_after_date: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewRole {
    role_name: String,
    database_name: String,
}

fn invalid(detail: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": 400, "errorCode": "INVALID_ATTRIBUTE", "detail": detail, "reason": "Bad Request" })),
    )
        .into_response()
}

pub(super) async fn create_user(
    State(atlas): State<Arc<Atlas>>,
    Path(id): Path<String>,
    request: Signed,
    body: Bytes,
) -> Response {
    atlas.manage_users(&request, &id, |users| match new_user(&body) {
        Ok(user) if users.iter().any(|u| u.username == user.username && u.database_name == user.database_name) => {
            (StatusCode::CONFLICT, Json(json!({ "error": 409, "errorCode": "USER_ALREADY_EXISTS" }))).into_response()
        }
        // Atlas's answer, body and all.
        Ok(_) if users.len() >= USERS_PER_PROJECT => (
            StatusCode::FORBIDDEN,
            Json(json!({
                "detail": format!("Groups can contain at most {USERS_PER_PROJECT} database users."),
                "error": 403, "errorCode": "GROUP_USERS_LIMIT_EXCEEDED", "parameters": [USERS_PER_PROJECT],
                "reason": "Forbidden",
            })),
        )
            .into_response(),
        Ok(user) => {
            let answer = user.json(&id);
            users.push(user);
            (StatusCode::CREATED, Json(answer)).into_response()
        }
        Err(response) => response,
    })
}

/// The user a create request's body describes, with Atlas's checks.
fn new_user(body: &[u8]) -> Result<DatabaseUser, Response> {
    let Ok(new) = serde_json::from_slice::<NewUser>(body) else { return Err(invalid("Invalid JSON body.")) };
    if new.username.is_empty() || new.database_name != "admin" || new.roles.is_empty() {
        return Err(invalid("A user needs a username, databaseName admin and at least one role."));
    }
    if !(8..=256).contains(&new.password.len()) {
        return Err(invalid("The password must be 8 to 256 characters."));
    }
    let delete_after = delete_after_date(new.delete_after_date.as_deref())?;
    Ok(DatabaseUser {
        username: new.username,
        database_name: new.database_name,
        roles: new.roles.iter().map(|r| format!("{}@{}", r.role_name, r.database_name)).collect(),
        delete_after,
        password_md5: md5_hex(&new.password),
    })
}

/// Atlas's checks of `deleteAfterDate`: in the future, within a week.
fn delete_after_date(text: Option<&str>) -> Result<Option<DateTime<Utc>>, Response> {
    match text.map(DateTime::parse_from_rfc3339) {
        None => Ok(None),
        Some(Ok(at)) => {
            let (at, now) = (at.to_utc(), Utc::now());
            if at <= now || at > now + chrono::Duration::days(7) {
                return Err(invalid("deleteAfterDate must be in the future and within one week."));
            }
            Ok(Some(at))
        }
        Some(Err(_)) => Err(invalid("deleteAfterDate is not an ISO 8601 date.")),
    }
}

/// What an update may change; everything else in the body (the name, the
/// database, the project) must be the user's own, as at Atlas.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Changes {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    roles: Option<Vec<NewRole>>,
    #[serde(default)]
    delete_after_date: Option<String>,
}

pub(super) async fn update_user(
    State(atlas): State<Arc<Atlas>>,
    Path((id, database, username)): Path<(String, String, String)>,
    request: Signed,
    body: Bytes,
) -> Response {
    atlas.manage_users(&request, &id, |users| {
        let Some(user) = users.iter_mut().find(|u| u.username == username && u.database_name == database) else {
            return error(StatusCode::NOT_FOUND, "USER_NOT_FOUND");
        };
        let Ok(changes) = serde_json::from_slice::<Changes>(&body) else { return invalid("Invalid JSON body.") };
        if changes.username.as_ref().is_some_and(|name| *name != username) {
            return invalid("The username cannot be changed.");
        }
        if changes.password.as_ref().is_some_and(|p| !(8..=256).contains(&p.len())) {
            return invalid("The password must be 8 to 256 characters.");
        }
        if changes.roles.as_ref().is_some_and(Vec::is_empty) {
            return invalid("A user needs at least one role.");
        }
        let delete_after = match delete_after_date(changes.delete_after_date.as_deref()) {
            Ok(at) => at,
            Err(response) => return response,
        };
        if let Some(password) = changes.password {
            user.password_md5 = md5_hex(&password);
        }
        if let Some(roles) = changes.roles {
            user.roles = roles.iter().map(|r| format!("{}@{}", r.role_name, r.database_name)).collect();
        }
        if delete_after.is_some() {
            user.delete_after = delete_after;
        }
        Json(user.json(&id)).into_response()
    })
}

pub(super) async fn list_users(
    State(atlas): State<Arc<Atlas>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request: Signed,
) -> Response {
    if let Err(response) = atlas.check(&request, &id) {
        return response;
    }
    let number = |k: &str, default: usize| query.get(k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(default);
    let (page, per_page) = (number("pageNum", 1).max(1), number("itemsPerPage", 100).clamp(1, 500));
    let users = atlas.database_users(&id);
    let results: Vec<_> = users.iter().skip((page - 1) * per_page).take(per_page).map(|u| u.json(&id)).collect();
    Json(json!({ "results": results, "totalCount": users.len(), "links": [] })).into_response()
}

pub(super) async fn get_user(
    State(atlas): State<Arc<Atlas>>,
    Path((id, database, username)): Path<(String, String, String)>,
    request: Signed,
) -> Response {
    if let Err(response) = atlas.check(&request, &id) {
        return response;
    }
    let users = atlas.database_users(&id);
    match users.iter().find(|u| u.username == username && u.database_name == database) {
        Some(user) => Json(user.json(&id)).into_response(),
        None => error(StatusCode::NOT_FOUND, "USER_NOT_FOUND"),
    }
}

pub(super) async fn delete_user(
    State(atlas): State<Arc<Atlas>>,
    Path((id, database, username)): Path<(String, String, String)>,
    request: Signed,
) -> Response {
    atlas.manage_users(&request, &id, |users| {
        let before = users.len();
        users.retain(|u| !(u.username == username && u.database_name == database));
        if users.len() == before {
            error(StatusCode::NOT_FOUND, "USER_NOT_FOUND")
        } else {
            StatusCode::NO_CONTENT.into_response()
        }
    })
}
