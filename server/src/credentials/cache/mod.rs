//! The credential cache: what this replica minted, per (connection uid,
//! active revision, scope, consumer, token subject), served while at least a
//! third of its lifetime remains.
//!
//! - **Per subject.** The consumer name is a label the caller chooses, so
//!   it cannot decide who shares an entry: the token's subject is part of
//!   the key. Whoever is served an entry is the subject it was minted for,
//!   and its mint was that subject's audited first receipt; every later
//!   hit on it is a repeat ([`super::hits`]).
//! - **Single flight.** Each key holds a `OnceCell`: the first caller mints
//!   and everyone who arrives meanwhile waits for that one answer — 50
//!   concurrent first calls are one provider call. A failure is shared with
//!   the waiters of that flight and then forgotten, so the next call tries
//!   again rather than being served a cached refusal.
//! - **Invalidation.** Every call that reads the connection row knows the
//!   active revision and the issuable scopes: entries of another revision
//!   or of a scope no longer issuable are dropped then
//!   ([`Cache::retain_connection`]). A repeat answered from this replica's
//!   copy of the row ([`super::rows`]) names the revision and scopes that
//!   copy holds, so it is bound by the same rules, as of the copy. A deleted connection's entries go with
//!   [`Cache::forget`] (and anyway can never be reached: a new connection
//!   has a new uid).
//! - **Bounded, fairly.** At most `per_workspace` entries per workspace and
//!   `capacity` in all. A new entry makes room in its own workspace when
//!   that holds its share: stale entries first, then the least recently
//!   used. When the whole cache is full, stale entries anywhere go first,
//!   then the least recently used of the workspace holding the most (the
//!   one asking, on a tie). So one tenant filling its share evicts only its
//!   own entries, and never turns another tenant's hit into a mint.
//!
//! Entries hold the credentials as minted, secret values in `secrecy`
//! types; nothing here logs them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::Utc;
use cloudconn_infra::amqp::messages::ProbeError;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::Issued;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub workspace: String,
    pub connection: Uuid,
    pub revision: i64,
    pub scope: String,
    pub consumer: String,
    /// The token's `sub` the credentials are for.
    pub subject: String,
}

impl Key {
    /// The entry's name within its connection.
    fn id(&self) -> Id {
        (self.scope.clone(), self.consumer.clone(), self.subject.clone())
    }
}

/// (scope, consumer, subject).
type Id = (String, String, String);

/// Why a flight failed, shareable between its waiters.
#[derive(Debug, Clone)]
pub enum MintError {
    /// The provider refused or failed (the validation codes of §2).
    Provider(ProbeError),
    /// No worker answered in time, or the request could not be sent.
    NoWorker(String),
    RateLimited {
        retry_after: std::time::Duration,
        message: String,
    },
    QuotaExceeded(String),
    Unavailable(&'static str),
    Internal(String),
}

impl MintError {
    pub fn from_app(e: AppError) -> Self {
        match e {
            AppError::RateLimited { retry_after, message } => Self::RateLimited { retry_after, message },
            AppError::QuotaExceeded { message } => Self::QuotaExceeded(message),
            AppError::Unavailable { dependency } => Self::Unavailable(dependency),
            other => Self::Internal(format!("{other:#}")),
        }
    }
}

impl From<MintError> for AppError {
    fn from(e: MintError) -> Self {
        match e {
            MintError::Provider(error) => AppError::Provider(error.into()),
            MintError::NoWorker(message) => AppError::WorkersUnavailable(message),
            MintError::RateLimited { retry_after, message } => AppError::RateLimited { retry_after, message },
            MintError::QuotaExceeded(message) => AppError::QuotaExceeded { message },
            MintError::Unavailable(dependency) => AppError::Unavailable { dependency },
            MintError::Internal(why) => AppError::Internal(anyhow::anyhow!(why)),
        }
    }
}

type Flight = Arc<OnceCell<Result<Arc<Issued>, MintError>>>;

/// One entry: its flight, and when it was last asked for (a tick of the
/// cache's clock), for least-recently-used eviction.
struct Slot {
    flight: Flight,
    used: u64,
}

/// One connection's entries, all of one revision.
struct Entries {
    workspace: String,
    revision: i64,
    flights: HashMap<Id, Slot>,
}

#[derive(Default)]
struct State {
    connections: HashMap<Uuid, Entries>,
    /// Counts every lookup: the order of use, cheaper than a time.
    clock: u64,
}

pub struct Cache {
    capacity: usize,
    per_workspace: usize,
    state: Mutex<State>,
}

impl Cache {
    /// At most `capacity` entries, `per_workspace` of them for one workspace.
    pub fn new(capacity: usize, per_workspace: usize) -> Self {
        let capacity = capacity.max(1);
        Self { capacity, per_workspace: per_workspace.clamp(1, capacity), state: Mutex::default() }
    }

    /// The fresh entry for `key`, or what `mint` makes of it (awaited by
    /// every concurrent caller of the key); `true` when this call minted.
    pub async fn get_or_mint<F, Fut>(&self, key: &Key, mint: F) -> Result<(Arc<Issued>, bool), AppError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Issued, MintError>>,
    {
        // Twice at most: a stale entry is replaced once, then minted anew.
        for _ in 0..2 {
            let flight = self.flight(key);
            let mut minted_here = false;
            let result = flight
                .get_or_init(|| {
                    minted_here = true;
                    let minting = mint();
                    async move { minting.await.map(Arc::new) }
                })
                .await
                .clone();
            match result {
                Ok(issued) if issued.fresh(Utc::now()) => return Ok((issued, minted_here)),
                // Stale: drop it (unless someone already has) and go again.
                Ok(_) => self.remove_if(key, &flight),
                Err(e) => {
                    self.remove_if(key, &flight);
                    return Err(e.into());
                }
            }
        }
        Err(AppError::Internal(anyhow::anyhow!("freshly minted credentials were already stale")))
    }

    /// The key's credentials if they are held and fresh, without minting or
    /// waiting on a flight: what a repeat is answered with. `None` sends the
    /// caller the long way ([`Cache::get_or_mint`]).
    pub fn peek(&self, key: &Key) -> Option<Arc<Issued>> {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.clock += 1;
        let slot = state
            .connections
            .get_mut(&key.connection)
            .filter(|e| e.revision == key.revision)?
            .flights
            .get_mut(&key.id())?;
        let issued = slot.flight.get()?.as_ref().ok()?.clone();
        if !issued.fresh(Utc::now()) {
            return None;
        }
        slot.used = state.clock;
        Some(issued)
    }

    /// Drops the connection's entries of other revisions and of scopes not
    /// in `scopes` (no longer granted, or not shown granted by validation).
    pub fn retain_connection(&self, connection: Uuid, revision: i64, scopes: &[String]) {
        let mut state = self.lock();
        if let Some(entries) = state.connections.get_mut(&connection) {
            if entries.revision != revision {
                entries.flights.clear();
                entries.revision = revision;
            } else {
                entries.flights.retain(|(scope, _, _), _| scopes.contains(scope));
            }
            if entries.flights.is_empty() {
                state.connections.remove(&connection);
            }
        }
    }

    /// Drops every entry of a connection (it was deleted).
    pub fn forget(&self, connection: Uuid) {
        self.lock().connections.remove(&connection);
    }

    /// How many entries are held (minting ones included).
    pub fn len(&self) -> usize {
        self.lock().connections.values().map(|e| e.flights.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key's flight, made (room first) if there is none.
    fn flight(&self, key: &Key) -> Flight {
        let mut state = self.lock();
        state.clock += 1;
        let now = state.clock;
        let id = key.id();
        if let Some(slot) = state
            .connections
            .get_mut(&key.connection)
            .filter(|e| e.revision == key.revision)
            .and_then(|e| e.flights.get_mut(&id))
        {
            slot.used = now;
            return slot.flight.clone();
        }
        make_room(&mut state.connections, &key.workspace, self.per_workspace, self.capacity);
        let entries = state.connections.entry(key.connection).or_insert_with(|| Entries {
            workspace: key.workspace.clone(),
            revision: key.revision,
            flights: HashMap::new(),
        });
        if entries.revision != key.revision {
            entries.flights.clear();
            entries.revision = key.revision;
        }
        let flight = Flight::default();
        entries.flights.insert(id, Slot { flight: flight.clone(), used: now });
        flight
    }

    fn remove_if(&self, key: &Key, flight: &Flight) {
        let mut state = self.lock();
        if let Some(entries) = state.connections.get_mut(&key.connection) {
            let id = key.id();
            if entries.flights.get(&id).is_some_and(|s| Arc::ptr_eq(&s.flight, flight)) {
                entries.flights.remove(&id);
            }
            if entries.flights.is_empty() {
                state.connections.remove(&key.connection);
            }
        }
    }
}

/// How many entries `workspace` holds.
fn held_by(map: &HashMap<Uuid, Entries>, workspace: &str) -> usize {
    map.values().filter(|e| e.workspace == workspace).map(|e| e.flights.len()).sum()
}

/// Frees a place for a new entry of `workspace`, if it needs one: within
/// the workspace when it holds its share, else (the cache being full) in
/// the workspace holding the most. Stale and expired entries go first,
/// then the least recently used. Flights still minting are never evicted
/// (their callers wait on them); they count, and the cache may briefly
/// exceed its bounds by them.
fn make_room(map: &mut HashMap<Uuid, Entries>, workspace: &str, per_workspace: usize, capacity: usize) {
    let total: usize = map.values().map(|e| e.flights.len()).sum();
    let own = held_by(map, workspace);
    if own < per_workspace && total < capacity {
        return;
    }
    let now = Utc::now();
    for entries in map.values_mut() {
        entries.flights.retain(|_, s| s.flight.get().is_none_or(|r| r.as_ref().is_ok_and(|i| i.fresh(now))));
    }
    map.retain(|_, e| !e.flights.is_empty());
    let own = held_by(map, workspace);
    let total: usize = map.values().map(|e| e.flights.len()).sum();
    let victim = if own >= per_workspace {
        workspace.to_owned()
    } else if total >= capacity {
        let mut held: HashMap<&str, usize> = HashMap::new();
        for entries in map.values() {
            *held.entry(entries.workspace.as_str()).or_default() += entries.flights.len();
        }
        match held.into_iter().max_by_key(|(w, n)| (*n, *w == workspace)) {
            Some((w, _)) => w.to_owned(),
            None => return,
        }
    } else {
        return;
    };
    let oldest = map
        .iter()
        .filter(|(_, e)| e.workspace == victim)
        .flat_map(|(c, e)| {
            e.flights.iter().filter(|(_, s)| s.flight.get().is_some()).map(move |(id, s)| (s.used, *c, id))
        })
        .min_by_key(|(used, _, _)| *used)
        .map(|(_, c, id)| (c, id.clone()));
    if let Some((connection, id)) = oldest
        && let Some(entries) = map.get_mut(&connection)
    {
        entries.flights.remove(&id);
        if entries.flights.is_empty() {
            map.remove(&connection);
        }
    }
}

#[cfg(test)]
mod tests;
