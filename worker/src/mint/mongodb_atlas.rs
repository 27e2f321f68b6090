//! MongoDB Atlas: a temporary database user per issue, through the
//! Administration API v2 with the probe's digest session.
//!
//! `POST /api/atlas/v2/groups/{project}/databaseUsers` creates it on the
//! `admin` database with the scope's roles (the run-time grant table),
//! a random password, and `deleteAfterDate` = the expiry: Atlas deletes the
//! user then, even if cloudconn never comes back. Its name says whose it is,
//! `cc-<first 12 hex of the connection uid>-r<revision>-<random>`, so
//! [`Mint::revoke`] can find a connection's users (all of them on a delete,
//! those of older revisions on a rotation) by listing the project's users.
//!
//! Creating and deleting database users needs the API key's Project
//! Database Access Admin role (or Project Owner); the hint says so.

use chrono::{DateTime, SubsecRound, Utc};
use cloudconn_infra::{
    amqp::issue::{Minted, WireSecret},
    permissions::Grant,
    secrets::SecretFields,
};
use rand::{Rng, distr::Alphanumeric};
use reqwest::{Client, Method, StatusCode};
use serde::Deserialize;

use super::{Mint, MintRequest, MintedCredentials, RevokeRequest, grant, wrong_kind};
use crate::probe::{
    ProbeFailure, http,
    mongodb_atlas::{PROVIDER, Session, refusal},
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

pub struct AtlasMinter {
    /// `CLOUDCONN_ATLAS_BASE`.
    pub base: String,
    pub client: Client,
}

/// The prefix of every user minted for `connection_id`:
/// `cc-<first 12 hex of the uid>-r`.
pub fn user_prefix(connection_id: &str) -> String {
    let hex: String = connection_id.chars().filter(char::is_ascii_hexdigit).take(12).collect();
    format!("cc-{}-r", hex.to_ascii_lowercase())
}

/// A new user's name for `connection_id` and `revision`.
pub fn username(connection_id: &str, revision: u64) -> String {
    let random: String = rand::rng().sample_iter(&Alphanumeric).take(8).map(char::from).collect();
    format!("{}{revision}-{}", user_prefix(connection_id), random.to_ascii_lowercase())
}

/// The revision of a user minted for the connection of `prefix`, or `None`
/// for any other user (another connection's, or the customer's own).
pub fn minted_revision(prefix: &str, username: &str) -> Option<u64> {
    let (revision, random) = username.strip_prefix(prefix)?.split_once('-')?;
    let well_formed = !revision.is_empty()
        && revision.bytes().all(|b| b.is_ascii_digit())
        && !random.is_empty()
        && random.bytes().all(|b| b.is_ascii_alphanumeric());
    well_formed.then(|| revision.parse().ok()).flatten()
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
}

/// What an answer other than success means.
async fn failure(response: reqwest::Response, project: &str, what: &str) -> ProbeFailure {
    let status = response.status();
    match refusal(response, project, ROLE).await {
        Some(failure) => failure,
        None => http::unexpected(PROVIDER, &format!("{what} answered {status}")),
    }
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
        let expire_time = delete_after(Utc::now(), request.ttl);
        let (username, password) = (username(&request.connection_id, request.revision), password());
        let body = serde_json::json!({
            "databaseName": AUTH_DATABASE,
            "groupId": project,
            "username": username,
            "password": password,
            "roles": roles.iter().map(|r| role(r)).collect::<Vec<_>>(),
            "deleteAfterDate": expire_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let path = ["api", "atlas", "v2", "groups", project.as_str(), "databaseUsers"];
        let response = session.send(Method::POST, &path, &[], Some(&body)).await?;
        if !matches!(response.status(), StatusCode::OK | StatusCode::CREATED) {
            return Err(failure(response, &project, "creating the database user").await);
        }
        Ok(MintedCredentials {
            expire_time,
            credentials: Minted::DatabaseUser {
                username,
                password: WireSecret::new(password),
                database: AUTH_DATABASE.into(),
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            },
        })
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

    const UID: &str = "4e098c3f-fe71-466b-97f2-2e4926947752";

    #[test]
    fn usernames_name_the_connection_and_revision_and_are_found_again() {
        let name = username(UID, 7);
        assert!(name.starts_with("cc-4e098c3ffe71-r7-"), "{name}");
        assert_eq!(name.len(), "cc-4e098c3ffe71-r7-".len() + 8);
        assert_ne!(name, username(UID, 7), "a random part");
        let prefix = user_prefix(UID);
        assert_eq!(minted_revision(&prefix, &name), Some(7));
        assert_eq!(minted_revision(&prefix, "cc-4e098c3ffe71-r12-abcd1234"), Some(12));
        for other in [
            "cc-000000000000-r7-abcd1234", // another connection
            "app-user",                    // the customer's own
            "cc-4e098c3ffe71-r-abcd",      // no revision
            "cc-4e098c3ffe71-r7",          // no random part
            "cc-4e098c3ffe71-rx-abcd",
            "cc-4e098c3ffe71-r7-ab/cd",
        ] {
            assert_eq!(minted_revision(&prefix, other), None, "{other}");
        }
    }

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
