//! The Atlas Administration API v2, as far as the probe and minting use
//! it, with real HTTP Digest authentication (RFC 7616, MD5, qop=auth, over
//! the method and the request target, query included): a request without a
//! valid digest response is answered 401 with a fresh challenge.
//!
//! Database users (minting's temporary users): create (`POST
//! …/databaseUsers`, with Atlas's checks of `deleteAfterDate`: in the
//! future, within a week), update (`PATCH …/databaseUsers/{db}/{name}`:
//! a new password, roles or date), list (paged), delete. A user whose
//! `deleteAfterDate` has passed is gone, as at Atlas. A project holds at
//! most [`USERS_PER_PROJECT`] users: one more is refused with Atlas's own
//! answer (403 `GROUP_USERS_LIMIT_EXCEEDED`). Managing users needs
//! a key with a project role beyond read-only (see
//! [`Atlas::with_read_only_key`]). Tests see the users with
//! [`Atlas::database_users`]; passwords are kept only as digests.
//!
//! In the sandbox ([`Atlas::sandbox`]) every public key and project exists
//! and the private key steers ([`Magic`]). A digest response proves the
//! private key without sending it, so the sandbox tries each documented
//! word; a response made with any other private key is accepted (the
//! sandbox cannot know your key) after the same checks of realm, nonce, URI
//! and qop.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use serde_json::json;

use self::users::{create_user, delete_user, get_user, list_users, update_user};
use crate::{Call, Issued, magic::Magic};

mod users;

pub const ACCEPT: &str = "application/vnd.atlas.2023-01-01+json";
const REALM: &str = "MMS Public API";

/// An API key and what it may do.
#[derive(Clone, Default)]
pub struct Key {
    pub private_key: String,
    /// Projects the key can see (`*`: every one, in the sandbox).
    pub projects: Vec<String>,
    /// Whether it may list clusters (Project Read Only or more).
    pub can_read_clusters: bool,
    /// Refused as if the caller's IP were not on its access list.
    pub ip_blocked: bool,
}

#[derive(Default)]
pub struct Atlas {
    /// Public key → key.
    pub keys: HashMap<String, Key>,
    /// Project id → name.
    pub projects: HashMap<String, String>,
    nonces: Mutex<Issued<()>>,
    /// Public keys that may read but not manage database users (a Project
    /// Read Only key).
    read_only: HashSet<String>,
    /// Project id → its database users.
    users: Mutex<HashMap<String, Vec<DatabaseUser>>>,
    /// Keys are made up from the private key used ([`sandbox_key`]).
    sandbox: bool,
}

/// A database user of a project.
#[derive(Clone, Debug)]
pub struct DatabaseUser {
    pub username: String,
    /// The authentication database (`admin`).
    pub database_name: String,
    /// `role@database`.
    pub roles: Vec<String>,
    /// When Atlas deletes it.
    pub delete_after: Option<DateTime<Utc>>,
    /// MD5 of the password (never the password itself).
    password_md5: String,
}

impl DatabaseUser {
    /// Whether `password` is this user's.
    pub fn password_is(&self, password: &str) -> bool {
        md5_hex(password) == self.password_md5
    }

    fn json(&self, project: &str) -> serde_json::Value {
        let roles: Vec<_> = self
            .roles
            .iter()
            .map(|r| {
                let (role, database) = r.split_once('@').unwrap_or((r, "admin"));
                json!({ "roleName": role, "databaseName": database })
            })
            .collect();
        let mut user = json!({
            "username": self.username, "databaseName": self.database_name, "groupId": project, "roles": roles,
            "scopes": [], "labels": [], "ldapAuthType": "NONE", "x509Type": "NONE", "awsIAMType": "NONE",
        });
        if let Some(at) = self.delete_after {
            user["deleteAfterDate"] = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into();
        }
        user
    }
}

/// Atlas's limit of database users per project.
pub const USERS_PER_PROJECT: usize = 100;

impl Atlas {
    pub fn new(keys: HashMap<String, Key>, projects: HashMap<String, String>) -> Self {
        Self { keys, projects, ..Self::default() }
    }

    /// `public_key` may read the project but not manage its database users.
    pub fn with_read_only_key(mut self, public_key: &str) -> Self {
        self.read_only.insert(public_key.to_owned());
        self
    }

    /// Adds a user of the customer's own (no `deleteAfterDate`), as if
    /// made in the Atlas UI.
    pub fn add_own_user(&self, project: &str, username: &str) {
        let user = DatabaseUser {
            username: username.to_owned(),
            database_name: "admin".into(),
            roles: vec!["read@admin".into()],
            delete_after: None,
            password_md5: md5_hex(&crate::random_token()),
        };
        self.with_users(project, |users| users.push(user));
    }

    /// The database users of `project` now (those past their
    /// `deleteAfterDate` are gone).
    pub fn database_users(&self, project: &str) -> Vec<DatabaseUser> {
        self.with_users(project, |users| users.clone())
    }

    /// Runs `f` on the project's users, once those past their
    /// `deleteAfterDate` are gone.
    fn with_users<T>(&self, project: &str, f: impl FnOnce(&mut Vec<DatabaseUser>) -> T) -> T {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let now = Utc::now();
        let list = users.entry(project.to_owned()).or_default();
        list.retain(|u| u.delete_after.is_none_or(|at| at > now));
        f(list)
    }

    /// A request that manages the project's users: authenticated and
    /// authorized first (before any body is read, as Atlas does), then
    /// `change` answers it.
    fn manage_users(
        &self,
        request: &Signed,
        project: &str,
        change: impl FnOnce(&mut Vec<DatabaseUser>) -> Response,
    ) -> Response {
        match self.check(request, project) {
            Ok(caller) if caller.can_manage_users => self.with_users(project, change),
            Ok(_) => error(StatusCode::FORBIDDEN, "USER_UNAUTHORIZED"),
            Err(response) => response,
        }
    }

    /// The sandbox: every key and project exists; the private key says how
    /// the key behaves.
    pub fn sandbox() -> Self {
        Self { sandbox: true, ..Self::default() }
    }
}

/// The key a sandbox private key stands for.
fn sandbox_key(private_key: &str) -> Key {
    let magic = Magic::of(private_key);
    Key {
        private_key: private_key.to_owned(),
        projects: if magic == Magic::NotFound { Vec::new() } else { vec!["*".into()] },
        can_read_clusters: magic != Magic::Denied,
        ip_blocked: false,
    }
}

/// The emulator's routes; `atlas` may be shared (`Arc<Atlas>`) to look at
/// its database users.
pub fn router(atlas: impl Into<Arc<Atlas>>) -> Router {
    Router::new()
        .route("/api/atlas/v2/groups/{id}", get(group))
        .route("/api/atlas/v2/groups/{id}/clusters", get(clusters))
        .route("/api/atlas/v2/groups/{id}/databaseUsers", get(list_users).post(create_user))
        .route(
            "/api/atlas/v2/groups/{id}/databaseUsers/{database}/{username}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .with_state(atlas.into())
}

/// The calls the probe makes, in order, for fault injection (each one's
/// digest challenge included: it is the same request, unauthenticated).
pub const CALLS: [Call; 2] = [
    Call {
        name: "atlas project",
        matches: |_, path| path.strip_prefix("/api/atlas/v2/groups/").is_some_and(|id| !id.contains('/')),
    },
    Call { name: "atlas clusters", matches: |_, path| path.ends_with("/clusters") },
];

/// The calls minting makes (list, then create or update) and revoking
/// (list, delete), digest challenges included.
pub const MINT_CALLS: [Call; 4] = [
    Call {
        name: "atlas create database user",
        matches: |method, path| *method == Method::POST && path.ends_with("/databaseUsers"),
    },
    Call {
        name: "atlas list database users",
        matches: |method, path| *method == Method::GET && path.ends_with("/databaseUsers"),
    },
    Call {
        name: "atlas delete database user",
        matches: |method, path| *method == Method::DELETE && path.contains("/databaseUsers/"),
    },
    Call {
        name: "atlas update database user",
        matches: |method, path| *method == Method::PATCH && path.contains("/databaseUsers/"),
    },
];

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn error(status: StatusCode, code: &str) -> Response {
    (status, Json(json!({ "error": status.as_u16(), "errorCode": code, "reason": status.canonical_reason() })))
        .into_response()
}

/// Parses `Digest k="v", k=v, …`.
fn digest_params(value: &str) -> Option<HashMap<String, String>> {
    let rest = value.strip_prefix("Digest ")?;
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let value: String = if chars.peek() == Some(&'"') {
            chars.next();
            chars.by_ref().take_while(|c| *c != '"').collect()
        } else {
            chars.by_ref().take_while(|c| *c != ',').collect()
        };
        out.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Some(out)
}

impl Atlas {
    fn challenge(&self) -> Response {
        let nonce = crate::random_token();
        self.nonces.lock().unwrap_or_else(|e| e.into_inner()).insert(nonce.clone(), ());
        let header =
            format!(r#"Digest realm="{REALM}", domain="", nonce="{nonce}", algorithm=MD5, qop="auth", stale=false"#);
        let mut response = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header.parse().expect("header"));
        response
    }

    /// Checks the request's digest response (over `method` and `target`,
    /// the request target as sent); returns the public key and the key it
    /// proves.
    fn authenticate(&self, headers: &HeaderMap, method: &Method, target: &str) -> Result<(String, Key), Response> {
        let Some(params) = headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(digest_params)
        else {
            return Err(self.challenge());
        };
        let p = |k: &str| params.get(k).cloned().unwrap_or_default();
        let known_nonce = self.nonces.lock().unwrap_or_else(|e| e.into_inner()).contains(&p("nonce"));
        if !known_nonce || p("realm") != REALM || p("uri") != target || p("qop") != "auth" {
            return Err(self.challenge());
        }
        let proves = |private_key: &str| {
            let ha1 = md5_hex(&format!("{}:{REALM}:{private_key}", p("username")));
            let ha2 = md5_hex(&format!("{method}:{}", p("uri")));
            md5_hex(&format!("{ha1}:{}:{}:{}:auth:{ha2}", p("nonce"), p("nc"), p("cnonce"))) == p("response")
        };
        if self.sandbox {
            let word = crate::magic::WORDS.iter().map(|(word, _)| *word).find(|word| proves(word));
            let key = sandbox_key(word.unwrap_or_default());
            return match Magic::of(&key.private_key) {
                Magic::WrongSecret => Err(self.challenge()),
                magic => magic.outage().map_or(Ok((p("username"), key)), Err),
            };
        }
        match self.keys.get(&p("username")) {
            Some(key) if proves(&key.private_key) => Ok((p("username"), key.clone())),
            _ => Err(self.challenge()),
        }
    }

    /// Checks the version, the digest, the access list and the project;
    /// returns who called.
    fn check(&self, request: &Signed, project: &str) -> Result<Caller, Response> {
        let Signed { method, uri, headers } = request;
        if headers.get(header::ACCEPT).and_then(|h| h.to_str().ok()) != Some(ACCEPT) {
            return Err(error(StatusCode::NOT_ACCEPTABLE, "INVALID_VERSION"));
        }
        let target = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
        let (public_key, key) = self.authenticate(headers, method, target)?;
        if key.ip_blocked {
            return Err(error(StatusCode::FORBIDDEN, "IP_ADDRESS_NOT_ON_ACCESS_LIST"));
        }
        let every = key.projects.iter().any(|p| p == "*");
        if !every && (!self.projects.contains_key(project) || !key.projects.iter().any(|p| p == project)) {
            return Err(error(StatusCode::NOT_FOUND, "GROUP_NOT_FOUND"));
        }
        // A key without a project role (and, in the sandbox,
        // `sandbox-denied`) or a read-only one may not manage users.
        let can_manage_users = key.can_read_clusters && !self.read_only.contains(&public_key);
        Ok(Caller { key, can_manage_users })
    }
}

/// What the checks read from a request: its method and target (the
/// digest covers both) and its headers.
struct Signed {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Signed {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self { method: parts.method.clone(), uri: parts.uri.clone(), headers: parts.headers.clone() })
    }
}

/// Who a request comes from.
struct Caller {
    key: Key,
    /// Project Database Access Admin or more.
    can_manage_users: bool,
}

async fn group(State(atlas): State<Arc<Atlas>>, Path(id): Path<String>, request: Signed) -> Response {
    match atlas.check(&request, &id) {
        Ok(_) => Json(
            json!({ "id": id, "name": atlas.projects.get(&id).map_or("Sandbox project", String::as_str), "orgId": "5e0000000000000000000001", "clusterCount": 1 }),
        )
        .into_response(),
        Err(response) => response,
    }
}

async fn clusters(State(atlas): State<Arc<Atlas>>, Path(id): Path<String>, request: Signed) -> Response {
    match atlas.check(&request, &id) {
        Ok(caller) if caller.key.can_read_clusters => Json(json!({ "results": [], "totalCount": 0 })).into_response(),
        Ok(_) => error(StatusCode::FORBIDDEN, "USER_UNAUTHORIZED"),
        Err(response) => response,
    }
}
