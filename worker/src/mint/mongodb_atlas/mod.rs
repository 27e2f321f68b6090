//! MongoDB Atlas: temporary database users, through the Administration
//! API v2 with the probe's digest session.
//!
//! Each (connection, revision, scope, consumer) has its own few users,
//! named by [`names`], on the `admin` database with the scope's roles (the
//! run-time grant table) and `deleteAfterDate` = the credentials' expiry:
//! Atlas deletes a user then, even if cloudconn never comes back. A mint
//! lists the project's users, then either gives one of the key's users a
//! new password and date (`PATCH …/databaseUsers/admin/{name}`) or creates
//! it (`POST …/databaseUsers`), as [`names::plan`] decides. [`Mint::revoke`]
//! finds a connection's users (all of them on a delete, those of older
//! revisions on a rotation) by their prefix in the same list.
//!
//! Atlas allows a project 100 database users, the customer's own included,
//! so the list is also the count: a mint that would create a user in a
//! project that already has `CLOUDCONN_ATLAS_PROJECT_USER_CAP` (90) users
//! is refused with QUOTA_EXCEEDED naming the cap, before Atlas refuses it
//! and while some room is left for the customer. A consumer that already
//! has a user is not refused: at the cap it gets its own user rotated
//! instead of a second one ([`names::at_cap`]). Atlas's own refusal (`GROUP_USERS_LIMIT_EXCEEDED`,
//! the project's limit was lower or another writer filled it) is
//! QUOTA_EXCEEDED too.
//!
//! Two mints of one key at once (two server replicas): both may pick the
//! same absent user; the second create answers 409 and that mint takes
//! another of the key's users instead of changing the password the first
//! one just handed out.
//!
//! Creating, changing and deleting database users needs the API key's
//! Project Database Access Admin role (or Project Owner); the hint says so.

pub mod names;

use chrono::{DateTime, SubsecRound, Utc};
use cloudconn_infra::{
    amqp::issue::{Minted, WireSecret},
    permissions::Grant,
    secrets::SecretFields,
};
use rand::{Rng, distr::Alphanumeric};
use reqwest::{Client, Method, StatusCode};
use serde::Deserialize;

use self::names::{Plan, SlotState};
pub use self::names::{minted_revision, slot_names, user_prefix};
use super::{Mint, MintRequest, MintedCredentials, RevokeRequest, grant, wrong_kind};
use crate::probe::{
    ErrorCode, ProbeFailure, http,
    mongodb_atlas::{PROVIDER, Session, error_code, refused},
};

/// The project role creating and deleting database users needs.
const ROLE: &str = "Project Database Access Admin";
/// The database users authenticate against.
const AUTH_DATABASE: &str = "admin";
/// Atlas wants `deleteAfterDate` within a week; our TTLs are far shorter,
/// and anything longer is cut to six days.
const MAX_LIFETIME: chrono::Duration = chrono::Duration::days(6);
/// A user that expires before it can be used is no use: at least a minute.
const MIN_LIFETIME: chrono::Duration = chrono::Duration::minutes(1);
/// Users per page when listing (the API's maximum).
const PAGE_SIZE: usize = 500;
/// Pages read at most when listing: Atlas allows a project 100 users, so
/// one page is the rule; the bound only stops an endless listing.
const MAX_PAGES: usize = 20;
/// Atlas's own limit of database users per project (unless its support
/// raised it for the project), for messages.
pub const ATLAS_USERS_PER_PROJECT: usize = 100;
/// `CLOUDCONN_ATLAS_PROJECT_USER_CAP`'s default: ten below Atlas's limit,
/// so the customer can still add users of their own when cloudconn's are
/// at the cap.
pub const DEFAULT_PROJECT_USER_CAP: usize = 90;
/// `CLOUDCONN_ATLAS_USERS_PER_CONSUMER`'s default: blue/green.
pub const DEFAULT_USERS_PER_CONSUMER: usize = 2;
/// Slots are named `a` to `h`.
pub const MAX_USERS_PER_CONSUMER: usize = 8;
/// Atlas's answer when a project has as many database users as it may.
const LIMIT_ERROR: &str = "GROUP_USERS_LIMIT_EXCEEDED";

pub struct AtlasMinter {
    /// `CLOUDCONN_ATLAS_BASE`.
    pub base: String,
    pub client: Client,
    /// `CLOUDCONN_ATLAS_PROJECT_USER_CAP`.
    pub project_user_cap: usize,
    /// `CLOUDCONN_ATLAS_USERS_PER_CONSUMER`.
    pub users_per_consumer: usize,
}

/// A strong random password: 32 alphanumerics (190 bits) from the thread's
/// CSPRNG (ChaCha, seeded and reseeded by the OS).
fn password() -> String {
    rand::rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect()
}

/// `role@database` as the API's role object.
fn role(entry: &str) -> serde_json::Value {
    let (role, database) = entry.split_once('@').unwrap_or((entry, AUTH_DATABASE));
    serde_json::json!({ "roleName": role, "databaseName": database })
}

/// When a user minted now for `ttl` must go.
fn delete_after(now: DateTime<Utc>, ttl: std::time::Duration) -> DateTime<Utc> {
    let lifetime = chrono::Duration::from_std(ttl).unwrap_or(MAX_LIFETIME).clamp(MIN_LIFETIME, MAX_LIFETIME);
    // Whole seconds: the date goes to Atlas, and is reported, as such.
    (now + lifetime).trunc_subsecs(0)
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    results: Vec<DatabaseUser>,
    #[serde(rename = "totalCount", default)]
    total_count: Option<usize>,
}

#[derive(Deserialize)]
struct DatabaseUser {
    username: String,
    #[serde(rename = "databaseName", default)]
    database_name: String,
    /// As sent: one odd date must not make the whole list unreadable.
    #[serde(rename = "deleteAfterDate", default)]
    delete_after: Option<String>,
}

impl DatabaseUser {
    /// Where this user stands as one of a key's users. A date we cannot
    /// read is taken as far off: such a user is rotated only when nothing
    /// else is free.
    fn state(&self, now: DateTime<Utc>) -> SlotState {
        match self.delete_after.as_deref().map(DateTime::parse_from_rfc3339) {
            Some(Err(_)) => SlotState::Live(DateTime::<Utc>::MAX_UTC),
            date => SlotState::of(date.and_then(Result::ok).map(|at| at.to_utc()), now),
        }
    }
}

/// What an answer other than success means.
async fn failure(response: reqwest::Response, project: &str, what: &str) -> ProbeFailure {
    let status = response.status();
    let code = if status.is_client_error() { error_code(response).await } else { String::new() };
    if code == LIMIT_ERROR {
        return ProbeFailure::new(
            ErrorCode::QuotaExceeded,
            format!(
                "MongoDB Atlas refused a new database user: project {project} is at its limit of database users \
                 ({ATLAS_USERS_PER_PROJECT} unless Atlas raised it)"
            ),
            "Remove database users the project no longer needs, or wait for cloudconn's unused temporary users \
             (cc-…) to expire.",
        );
    }
    refused(status, &code, project, ROLE).unwrap_or_else(|| {
        let code = if code.is_empty() { String::new() } else { format!(", {code}") };
        http::unexpected(PROVIDER, &format!("{what} answered {status}{code}"))
    })
}

/// A new user would take the project to more than `cap` users.
fn over_cap(project: &str, users: &[DatabaseUser], cap: usize, slots: usize) -> ProbeFailure {
    let ours = users.iter().filter(|u| u.username.starts_with("cc-")).count();
    ProbeFailure::new(
        ErrorCode::QuotaExceeded,
        format!(
            "MongoDB Atlas project {project} already has {} database users ({ours} of them cloudconn's temporary \
             users); cloudconn creates no more once a project has {cap} (CLOUDCONN_ATLAS_PROJECT_USER_CAP), to stay \
             below Atlas's limit of {ATLAS_USERS_PER_PROJECT} per project",
            users.len()
        ),
        format!(
            "Reuse consumer names: each scope and consumer keeps at most {slots} users, whose passwords are renewed \
             in place. Otherwise wait for unused temporary users to expire, remove database users the project no \
             longer needs, or, if Atlas raised this project's limit, ask the cloudconn operators to raise the cap."
        ),
    )
}

impl AtlasMinter {
    /// Every database user of `project` (at most [`MAX_PAGES`] pages).
    async fn users(&self, session: &mut Session<'_>, project: &str) -> Result<Vec<DatabaseUser>, ProbeFailure> {
        let path = ["api", "atlas", "v2", "groups", project, "databaseUsers"];
        let mut users = Vec::new();
        for page in 1..=MAX_PAGES {
            let (page_number, page_size) = (page.to_string(), PAGE_SIZE.to_string());
            let query = [("pageNum", page_number.as_str()), ("itemsPerPage", page_size.as_str())];
            let response = session.send(Method::GET, &path, &query, None).await?;
            if response.status() != StatusCode::OK {
                return Err(failure(response, project, "the database user list").await);
            }
            let page: Page = http::json(PROVIDER, response, "database user list").await?;
            let last = page.results.len() < PAGE_SIZE;
            users.extend(page.results);
            if last || page.total_count.is_some_and(|total| users.len() >= total) {
                break;
            }
        }
        Ok(users)
    }
}

#[async_trait::async_trait]
impl Mint for AtlasMinter {
    async fn mint(&self, request: &MintRequest, credentials: &SecretFields) -> Result<MintedCredentials, ProbeFailure> {
        let Grant::AtlasRoles(roles) = grant(request)? else {
            return Err(wrong_kind(request, "an Atlas database user"));
        };
        let (mut session, project) = Session::open(&self.client, &self.base, credentials)?;
        let now = Utc::now();
        let expire_time = delete_after(now, request.ttl);
        let slots = self.users_per_consumer.clamp(1, MAX_USERS_PER_CONSUMER);
        let names = slot_names(&request.connection_id, request.revision, &request.scope, &request.consumer, slots);
        let users = self.users(&mut session, &project).await?;
        let mut states: Vec<SlotState> = names
            .iter()
            .map(|name| match users.iter().find(|u| &u.username == name) {
                Some(user) => user.state(now),
                None => SlotState::Absent,
            })
            .collect();
        let password = password();
        let mut body = serde_json::json!({
            "databaseName": AUTH_DATABASE,
            "groupId": project,
            "password": password,
            "roles": roles.iter().map(|r| role(r)).collect::<Vec<_>>(),
            "deleteAfterDate": expire_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let mut total = users.len();
        // Each turn settles one slot (taken by someone else, or gone), so
        // this ends; the bound only guards against a provider that lies.
        for _ in 0..=2 * slots {
            let mut plan = names::plan(&states);
            if matches!(plan, Plan::Create(_)) && total >= self.project_user_cap {
                plan =
                    names::at_cap(&states).ok_or_else(|| over_cap(&project, &users, self.project_user_cap, slots))?;
            }
            let (Plan::Rotate(i) | Plan::Create(i)) = plan;
            let username = names[i].as_str();
            body["username"] = username.into();
            let groups = ["api", "atlas", "v2", "groups", project.as_str(), "databaseUsers"];
            let response = match plan {
                Plan::Create(_) => session.send(Method::POST, &groups, &[], Some(&body)).await?,
                Plan::Rotate(_) => {
                    if matches!(states[i], SlotState::Live(_)) {
                        tracing::warn!(
                            slots,
                            "the Atlas user expiring first of this consumer gets a new password while its credentials are still out (the project is at CLOUDCONN_ATLAS_PROJECT_USER_CAP, or CLOUDCONN_ATLAS_USERS_PER_CONSUMER is below two per server replica)"
                        );
                    }
                    let user =
                        ["api", "atlas", "v2", "groups", project.as_str(), "databaseUsers", AUTH_DATABASE, username];
                    session.send(Method::PATCH, &user, &[], Some(&body)).await?
                }
            };
            match (plan, response.status()) {
                (_, StatusCode::OK | StatusCode::CREATED) => {
                    return Ok(MintedCredentials {
                        expire_time,
                        credentials: Minted::DatabaseUser {
                            username: username.to_owned(),
                            password: WireSecret::new(password),
                            database: AUTH_DATABASE.into(),
                            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                        },
                    });
                }
                // Another mint of this key created it a moment ago: its
                // password is out now, so take another slot.
                (Plan::Create(_), StatusCode::CONFLICT) => {
                    states[i] = SlotState::Live(DateTime::<Utc>::MAX_UTC);
                    total += 1;
                }
                // Atlas deleted it at its date since the listing.
                (Plan::Rotate(_), StatusCode::NOT_FOUND) => states[i] = SlotState::Absent,
                (Plan::Create(_), _) => return Err(failure(response, &project, "creating the database user").await),
                (Plan::Rotate(_), _) => return Err(failure(response, &project, "updating the database user").await),
            }
        }
        Err(http::unexpected(PROVIDER, "the consumer's database users kept changing while minting"))
    }

    async fn revoke(&self, request: &RevokeRequest, credentials: &SecretFields) -> Result<u32, ProbeFailure> {
        let (mut session, project) = Session::open(&self.client, &self.base, credentials)?;
        let prefix = user_prefix(&request.connection_id);
        // The whole list first: deleting while paging would shift the pages.
        let doomed: Vec<DatabaseUser> = self
            .users(&mut session, &project)
            .await?
            .into_iter()
            .filter(|user| {
                minted_revision(&prefix, &user.username).is_some_and(|revision| Some(revision) != request.keep_revision)
            })
            .collect();
        let mut deleted = 0;
        for user in doomed {
            let database = if user.database_name.is_empty() { AUTH_DATABASE } else { user.database_name.as_str() };
            let path = ["api", "atlas", "v2", "groups", project.as_str(), "databaseUsers", database, &user.username];
            let response = session.send(Method::DELETE, &path, &[], None).await?;
            match response.status() {
                StatusCode::OK | StatusCode::ACCEPTED | StatusCode::NO_CONTENT => deleted += 1,
                // Gone already (its deleteAfterDate passed meanwhile).
                StatusCode::NOT_FOUND => {}
                _ => return Err(failure(response, &project, "deleting a database user").await),
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn delete_after_is_the_ttl_in_whole_seconds_within_what_atlas_takes() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00.750Z").unwrap().to_utc();
        let at =
            |ttl: u64| delete_after(now, Duration::from_secs(ttl)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        assert_eq!(at(900), "2026-01-01T00:15:00.000Z");
        assert_eq!(at(0), "2026-01-01T00:01:00.000Z");
        assert_eq!(at(30 * 86_400), "2026-01-07T00:00:00.000Z");
    }

    #[test]
    fn a_users_date_is_read_leniently() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        let user = |date: Option<&str>| DatabaseUser {
            username: "cc-x".into(),
            database_name: "admin".into(),
            delete_after: date.map(str::to_owned),
        };
        let later = DateTime::parse_from_rfc3339("2026-01-01T00:10:00.000Z").unwrap().to_utc();
        assert_eq!(user(Some("2026-01-01T00:10:00.000Z")).state(now), SlotState::Live(later));
        assert_eq!(user(Some("2025-12-31T23:00:00Z")).state(now), SlotState::Expired);
        assert_eq!(user(None).state(now), SlotState::Expired);
        assert_eq!(user(Some("next tuesday")).state(now), SlotState::Live(DateTime::<Utc>::MAX_UTC));
    }

    #[test]
    fn passwords_are_long_and_random() {
        let (a, b) = (password(), password());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(
            role("readWriteAnyDatabase@admin"),
            serde_json::json!({"roleName": "readWriteAnyDatabase", "databaseName": "admin"})
        );
    }
}
