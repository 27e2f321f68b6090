//! The credential cache: what this replica minted, per (connection uid,
//! active revision, scope, consumer), served while at least a third of its
//! lifetime remains.
//!
//! - **Single flight.** Each key holds a `OnceCell`: the first caller mints
//!   and everyone who arrives meanwhile waits for that one answer — 50
//!   concurrent first calls are one provider call. A failure is shared with
//!   the waiters of that flight and then forgotten, so the next call tries
//!   again rather than being served a cached refusal.
//! - **Invalidation.** Every call has just read the connection row, so it
//!   knows the active revision and the scopes: entries of another revision
//!   or of a removed scope are dropped then ([`Cache::retain_connection`]).
//!   Another replica's rotation is seen the same way, with no broadcast.
//!   A deleted connection's entries go with [`Cache::forget`] (and anyway
//!   can never be reached: a new connection has a new uid).
//! - **Bounded.** At most `capacity` entries: expired and stale ones make
//!   room first, then the one closest to expiry.
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
    pub connection: Uuid,
    pub revision: i64,
    pub scope: String,
    pub consumer: String,
}

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

/// One connection's entries, all of one revision.
struct Entries {
    revision: i64,
    flights: HashMap<(String, String), Flight>,
}

pub struct Cache {
    capacity: usize,
    connections: Mutex<HashMap<Uuid, Entries>>,
}

impl Cache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), connections: Mutex::new(HashMap::new()) }
    }

    /// The fresh entry for `key`, or what `mint` makes of it (awaited by
    /// every concurrent caller of the key); `true` when this call minted.
    pub async fn get_or_mint<F, Fut>(&self, key: Key, mint: F) -> Result<(Arc<Issued>, bool), AppError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Issued, MintError>>,
    {
        // Twice at most: a stale entry is replaced once, then minted anew.
        for _ in 0..2 {
            let flight = self.flight(&key);
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
                Ok(_) => self.remove_if(&key, &flight),
                Err(e) => {
                    self.remove_if(&key, &flight);
                    return Err(e.into());
                }
            }
        }
        Err(AppError::Internal(anyhow::anyhow!("freshly minted credentials were already stale")))
    }

    /// Drops the connection's entries of other revisions and of scopes it
    /// no longer has.
    pub fn retain_connection(&self, connection: Uuid, revision: i64, scopes: &[String]) {
        let mut map = self.lock();
        if let Some(entries) = map.get_mut(&connection) {
            if entries.revision != revision {
                entries.flights.clear();
                entries.revision = revision;
            } else {
                entries.flights.retain(|(scope, _), _| scopes.contains(scope));
            }
        }
    }

    /// Drops every entry of a connection (it was deleted).
    pub fn forget(&self, connection: Uuid) {
        self.lock().remove(&connection);
    }

    /// How many entries are held (minting ones included).
    pub fn len(&self) -> usize {
        self.lock().values().map(|e| e.flights.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Entries>> {
        self.connections.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key's flight, made (room first) if there is none.
    fn flight(&self, key: &Key) -> Flight {
        let mut map = self.lock();
        let id = (key.scope.clone(), key.consumer.clone());
        if let Some(flight) =
            map.get(&key.connection).filter(|e| e.revision == key.revision).and_then(|e| e.flights.get(&id))
        {
            return flight.clone();
        }
        if map.values().map(|e| e.flights.len()).sum::<usize>() >= self.capacity {
            make_room(&mut map, self.capacity);
        }
        let entries =
            map.entry(key.connection).or_insert_with(|| Entries { revision: key.revision, flights: HashMap::new() });
        if entries.revision != key.revision {
            entries.flights.clear();
            entries.revision = key.revision;
        }
        entries.flights.entry(id).or_default().clone()
    }

    fn remove_if(&self, key: &Key, flight: &Flight) {
        let mut map = self.lock();
        if let Some(entries) = map.get_mut(&key.connection) {
            let id = (key.scope.clone(), key.consumer.clone());
            if entries.flights.get(&id).is_some_and(|f| Arc::ptr_eq(f, flight)) {
                entries.flights.remove(&id);
            }
            if entries.flights.is_empty() {
                map.remove(&key.connection);
            }
        }
    }
}

/// Frees at least one place: stale entries first, then the ones closest to
/// expiry. Flights still minting are never evicted (their callers wait on
/// them); they count, and the cache may briefly exceed its capacity by them.
fn make_room(map: &mut HashMap<Uuid, Entries>, capacity: usize) {
    let now = Utc::now();
    for entries in map.values_mut() {
        entries.flights.retain(|_, f| f.get().is_none_or(|r| r.as_ref().is_ok_and(|i| i.fresh(now))));
    }
    map.retain(|_, e| !e.flights.is_empty());
    let mut held: Vec<(chrono::DateTime<Utc>, Uuid, (String, String))> = map
        .iter()
        .flat_map(|(c, e)| {
            e.flights.iter().filter_map(move |(id, f)| match f.get() {
                Some(Ok(issued)) => Some((issued.expire_time, *c, id.clone())),
                _ => None,
            })
        })
        .collect();
    let total: usize = map.values().map(|e| e.flights.len()).sum();
    if total < capacity {
        return;
    }
    held.sort_by_key(|(expire, _, _)| *expire);
    // A tenth at once, so a full cache does not scan on every insert.
    for (_, connection, id) in held.into_iter().take((total + 1 - capacity).max(capacity / 10)) {
        if let Some(entries) = map.get_mut(&connection) {
            entries.flights.remove(&id);
        }
    }
    map.retain(|_, e| !e.flights.is_empty());
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use chrono::Duration as ChronoDuration;
    use cloudconn_infra::amqp::issue::{Minted, WireSecret};

    use super::*;

    fn issued(lifetime_secs: i64, age_secs: i64) -> Issued {
        let issue_time = Utc::now() - ChronoDuration::seconds(age_secs);
        Issued {
            credentials: Minted::AccessToken {
                access_token: WireSecret::new("t"),
                token_type: "Bearer".into(),
                scopes: vec![],
                audience: String::new(),
            },
            issue_time,
            expire_time: issue_time + ChronoDuration::seconds(lifetime_secs),
        }
    }

    fn key(consumer: &str, revision: i64) -> Key {
        Key { connection: Uuid::nil(), revision, scope: "storage".into(), consumer: consumer.into() }
    }

    #[tokio::test]
    async fn concurrent_misses_mint_once_and_hits_mint_nothing() {
        let cache = Arc::new(Cache::new(100));
        let mints = Arc::new(AtomicU32::new(0));
        let calls = (0..50).map(|_| {
            let (cache, mints) = (cache.clone(), mints.clone());
            tokio::spawn(async move {
                cache
                    .get_or_mint(key("a", 1), || {
                        let mints = mints.clone();
                        async move {
                            mints.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            Ok(issued(900, 0))
                        }
                    })
                    .await
                    .map(|(_, minted)| minted)
                    .unwrap()
            })
        });
        let mut minted = Vec::new();
        for call in calls.collect::<Vec<_>>() {
            minted.push(call.await.unwrap());
        }
        assert_eq!(mints.load(Ordering::SeqCst), 1);
        assert_eq!(minted.iter().filter(|m| **m).count(), 1);
    }

    #[tokio::test]
    async fn stale_entries_and_other_revisions_are_minted_anew() {
        let cache = Cache::new(100);
        // Two thirds of its life gone: stale.
        cache.get_or_mint(key("a", 1), || async { Ok(issued(900, 601)) }).await.ok();
        let (_, minted) = cache.get_or_mint(key("a", 1), || async { Ok(issued(900, 0)) }).await.unwrap();
        assert!(minted, "a stale entry is replaced");
        let (_, minted) = cache.get_or_mint(key("a", 1), || async { Ok(issued(900, 0)) }).await.unwrap();
        assert!(!minted);
        cache.retain_connection(Uuid::nil(), 2, &["storage".into()]);
        assert!(cache.is_empty(), "a rotation drops the old revision's entries");
        cache.get_or_mint(key("a", 2), || async { Ok(issued(900, 0)) }).await.unwrap();
        cache.retain_connection(Uuid::nil(), 2, &["database".into()]);
        assert!(cache.is_empty(), "a removed scope drops its entries");
    }

    #[tokio::test]
    async fn failures_are_not_cached_and_the_size_is_bounded() {
        let cache = Cache::new(10);
        let failed = cache.get_or_mint(key("a", 1), || async { Err(MintError::NoWorker("x".into())) }).await;
        assert!(failed.is_err());
        assert!(cache.is_empty());
        for i in 0..25 {
            cache.get_or_mint(key(&format!("c{i}"), 1), || async { Ok(issued(900, 0)) }).await.unwrap();
        }
        assert!(cache.len() <= 10, "{}", cache.len());
    }
}
