//! This replica's copy of what a repeat hit needs from a connection's row:
//! its uid, provider, active revision and issuable scopes.
//!
//! Why a copy: a repeat hit used to read the row (joined with its last
//! validation) on every call, and that read cost more than everything else
//! a hit does together — a hit could never be faster than a Get. With the
//! copy a repeat is answered from memory: one rate-limit cell, this map,
//! the credential cache and the hit counter.
//!
//! What it costs in truth: a change the copy does not see yet. Changes made
//! on this replica (update, delete, a validation's outcome recorded here)
//! drop the copy when they commit ([`RowCopies::forget`]), so they stop
//! this replica's repeats at once. A change made on another replica is seen
//! when the copy ages out: at most `max_age` (`CLOUDCONN_ISSUE_ROW_MAX_AGE_MS`,
//! 1 s by default; 0 reads the row on every call, as before). Credentials
//! already handed out stay valid at the provider until their `expire_time`
//! whatever happens here, so that second changes little of what a delete or
//! a rotation means.
//!
//! Only repeats use it. A mint or a first receipt (a cache miss) reads the
//! row, so nothing leaves cloudconn for a new caller on a stale copy; a
//! refusal (not ACTIVE, scope not issuable) reads it too, and is never
//! copied. Bounded: at most `capacity` copies, `per_workspace` of them for
//! one workspace; a copy that finds no room is simply not kept, so the
//! next call reads the row — slower, never wrong.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use uuid::Uuid;

/// What the row said when it was read.
#[derive(Debug)]
pub struct RowCopy {
    pub connection: Uuid,
    pub provider: String,
    pub revision: i64,
    /// The scopes the connection grants and its last successful validation
    /// of `revision` showed as granted.
    pub issuable: Vec<String>,
    read_at: Instant,
}

impl RowCopy {
    pub fn new(connection: Uuid, provider: String, revision: i64, issuable: Vec<String>) -> Self {
        Self { connection, provider, revision, issuable, read_at: Instant::now() }
    }
}

/// Copies by workspace, then tag (nested, so a lookup borrows the request's
/// strings instead of building a key).
pub struct RowCopies {
    max_age: Duration,
    capacity: usize,
    per_workspace: usize,
    state: Mutex<HashMap<String, HashMap<String, Arc<RowCopy>>>>,
    /// Bumped by every [`RowCopies::forget`]. A caller reads it before it
    /// reads the row and hands it to [`RowCopies::put`], which keeps nothing
    /// if a change committed meanwhile: otherwise a row read just before a
    /// change could be put back just after the change dropped its copy.
    changes: AtomicU64,
}

impl RowCopies {
    pub fn new(max_age: Duration, capacity: usize, per_workspace: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            max_age,
            capacity,
            per_workspace: per_workspace.clamp(1, capacity),
            state: Mutex::default(),
            changes: AtomicU64::new(0),
        }
    }

    /// What to hand [`RowCopies::put`]: read before the row is.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// The copy of `workspace`/`tag`, if one younger than `max_age` is held.
    pub fn get(&self, workspace: &str, tag: &str) -> Option<Arc<RowCopy>> {
        if self.max_age.is_zero() {
            return None;
        }
        let state = self.lock();
        let copy = state.get(workspace)?.get(tag)?;
        (copy.read_at.elapsed() < self.max_age).then(|| copy.clone())
    }

    /// Keeps `copy` for `workspace`/`tag`, if no change committed on this
    /// replica since `changes` was read and there is room (aged copies make
    /// room first).
    pub fn put(&self, workspace: &str, tag: &str, copy: RowCopy, changes: u64) {
        if self.max_age.is_zero() {
            return;
        }
        let mut state = self.lock();
        // Under the lock: a forget after this check waits for the insert,
        // then removes it.
        if self.changes() != changes {
            return;
        }
        let held = |state: &HashMap<String, HashMap<String, Arc<RowCopy>>>| -> (usize, usize) {
            let own = state.get(workspace).map_or(0, |tags| tags.len() - usize::from(tags.contains_key(tag)));
            (own, state.values().map(HashMap::len).sum::<usize>())
        };
        let (own, total) = held(&state);
        if own >= self.per_workspace || total >= self.capacity {
            let max_age = self.max_age;
            for tags in state.values_mut() {
                tags.retain(|_, c| c.read_at.elapsed() < max_age);
            }
            state.retain(|_, tags| !tags.is_empty());
            let (own, total) = held(&state);
            if own >= self.per_workspace || total >= self.capacity {
                return;
            }
        }
        state.entry(workspace.to_owned()).or_default().insert(tag.to_owned(), Arc::new(copy));
    }

    /// Drops the copy of `workspace`/`tag`: the connection just changed here.
    pub fn forget(&self, workspace: &str, tag: &str) {
        let mut state = self.lock();
        self.changes.fetch_add(1, Ordering::AcqRel);
        Self::remove(&mut state, workspace, tag);
    }

    /// Drops the copy of `workspace`/`tag` because a fresher read of the
    /// row superseded it (not a change: copies being put stay welcome).
    pub fn discard(&self, workspace: &str, tag: &str) {
        Self::remove(&mut self.lock(), workspace, tag);
    }

    fn remove(state: &mut HashMap<String, HashMap<String, Arc<RowCopy>>>, workspace: &str, tag: &str) {
        if let Some(tags) = state.get_mut(workspace) {
            tags.remove(tag);
            if tags.is_empty() {
                state.remove(workspace);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashMap<String, Arc<RowCopy>>>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy() -> RowCopy {
        RowCopy::new(Uuid::new_v4(), "aws".into(), 1, vec!["storage".into()])
    }

    #[test]
    fn a_copy_is_served_until_it_ages_out_or_is_forgotten() {
        let rows = RowCopies::new(Duration::from_millis(50), 10, 10);
        rows.put("w", "t", copy(), rows.changes());
        assert!(rows.get("w", "t").is_some());
        assert!(rows.get("w", "other").is_none());
        rows.forget("w", "t");
        assert!(rows.get("w", "t").is_none());
        rows.put("w", "t", copy(), rows.changes());
        std::thread::sleep(Duration::from_millis(60));
        assert!(rows.get("w", "t").is_none(), "an aged copy must be read again");
    }

    #[test]
    fn a_row_read_before_a_change_is_not_put_back_after_it() {
        let rows = RowCopies::new(Duration::from_secs(60), 10, 10);
        let before = rows.changes();
        rows.forget("w", "t");
        rows.put("w", "t", copy(), before);
        assert!(rows.get("w", "t").is_none(), "the change committed after the read");
        rows.discard("w", "t");
        rows.put("w", "t", copy(), rows.changes());
        assert!(rows.get("w", "t").is_some(), "a discard is not a change");
    }

    #[test]
    fn max_age_zero_keeps_nothing() {
        let rows = RowCopies::new(Duration::ZERO, 10, 10);
        rows.put("w", "t", copy(), rows.changes());
        assert!(rows.get("w", "t").is_none());
    }

    #[test]
    fn a_workspace_at_its_share_keeps_no_more_and_others_still_get_room() {
        let rows = RowCopies::new(Duration::from_secs(60), 3, 2);
        rows.put("a", "1", copy(), rows.changes());
        rows.put("a", "2", copy(), rows.changes());
        rows.put("a", "3", copy(), rows.changes());
        assert!(rows.get("a", "3").is_none(), "beyond its share");
        rows.put("a", "1", copy(), rows.changes());
        assert!(rows.get("a", "1").is_some(), "replacing its own copy needs no room");
        rows.put("b", "1", copy(), rows.changes());
        assert!(rows.get("b", "1").is_some());
        rows.put("c", "1", copy(), rows.changes());
        assert!(rows.get("c", "1").is_none(), "the whole map is full");
    }
}
