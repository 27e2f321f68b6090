//! Repeat hits, counted rather than audited (docs/run.md).
//!
//! A token subject served credentials it already received — the same cache
//! entry, so the same (connection, revision, scope, consumer, subject) and
//! the same credential — adds one to a count in memory and goes on: no row,
//! no event, no wait on the database. The usage writer flushes the counts
//! about once a second ([`FLUSH_EVERY`]) in one transaction: each key's
//! hits added to its `issue_hits` row and the consumers' `last_used_time`
//! moved on. A crash loses at most the counts of that second; a first
//! receipt is never among them, it was audited before its answer.
//!
//! Bounded: at most [`MAX_KEYS`] keys wait for a flush (the cache holds
//! fewer entries than that, so only a database that stays down reaches it);
//! half way there the writer is woken early, and beyond it a new key's hit
//! is dropped from the counts (never refused: the answer does not depend on
//! the count).

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use chrono::Utc;
use tokio::sync::Notify;

use crate::store::hits::{HitCount, HitKey};

/// How often counts reach the database, at the latest.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Keys waiting for a flush, at most.
pub const MAX_KEYS: usize = 65_536;

#[derive(Default)]
pub struct HitCounts {
    pending: Mutex<HashMap<HitKey, HitCount>>,
    /// Wakes the writer before its second is up (the map is half full).
    pub(super) full: Notify,
    /// Hits not counted because the map was full (logged at each flush).
    dropped: AtomicU64,
}

impl HitCounts {
    /// One more hit of `key`, now.
    pub fn count(&self, key: HitKey) {
        let last = Utc::now();
        let mut pending = self.lock();
        if let Some(count) = pending.get_mut(&key) {
            count.hits += 1;
            count.last = last;
            return;
        }
        if pending.len() >= MAX_KEYS {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        pending.insert(key, HitCount { hits: 1, last });
        if pending.len() == MAX_KEYS / 2 {
            self.full.notify_one();
        }
    }

    /// Everything counted since the last take, and how many hits were
    /// dropped meanwhile.
    pub fn take(&self) -> (HashMap<HitKey, HitCount>, u64) {
        (std::mem::take(&mut *self.lock()), self.dropped.swap(0, Ordering::Relaxed))
    }

    /// Puts back counts a flush could not write, for the next one (as far
    /// as the bound allows).
    pub fn restore(&self, counts: HashMap<HitKey, HitCount>) {
        let mut pending = self.lock();
        for (key, count) in counts {
            let room = pending.len() < MAX_KEYS;
            match pending.get_mut(&key) {
                Some(newer) => newer.hits += count.hits,
                None if room => {
                    pending.insert(key, count);
                }
                None => {
                    self.dropped.fetch_add(count.hits, Ordering::Relaxed);
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<HitKey, HitCount>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn key(consumer: &str) -> HitKey {
        HitKey {
            connection_id: Uuid::nil(),
            consumer: consumer.into(),
            subject: "s".into(),
            scope: "storage".into(),
            revision: 1,
        }
    }

    #[test]
    fn counts_add_up_and_a_failed_flush_is_put_back() {
        let counts = HitCounts::default();
        for _ in 0..3 {
            counts.count(key("a"));
        }
        counts.count(key("b"));
        let (taken, dropped) = counts.take();
        assert_eq!((taken[&key("a")].hits, taken[&key("b")].hits, dropped), (3, 1, 0));
        counts.count(key("a"));
        counts.restore(taken);
        let (taken, _) = counts.take();
        assert_eq!(taken[&key("a")].hits, 4);
        assert!(counts.take().0.is_empty());
    }

    #[test]
    fn the_pending_keys_are_bounded() {
        let counts = HitCounts::default();
        for i in 0..MAX_KEYS + 10 {
            counts.count(key(&format!("c{i}")));
        }
        counts.count(key("c0"));
        let (taken, dropped) = counts.take();
        assert_eq!((taken.len(), dropped, taken[&key("c0")].hits), (MAX_KEYS, 10, 2));
    }
}
