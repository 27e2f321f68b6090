//! What minting leaves at a provider goes when the connection is deleted or
//! rotated (docs/run.md). Only MongoDB Atlas keeps anything: temporary
//! database users, a few per (revision, scope, consumer). The others'
//! credentials simply expire.
//!
//! A revoke is a request to a worker like a mint (same queue, same
//! deadline), made after the change has committed: on delete before the
//! credentials are purged from Vault (the worker signs in with them), on
//! rotation with the new active revision. It is best effort by design: if
//! no worker answers, Atlas itself deletes every such user at its
//! `deleteAfterDate`, at most `CLOUDCONN_ISSUE_MAX_TTL_MS` after it was
//! made, so a failed revoke shortens nothing but that window.
//!
//! # Mints in flight
//! The worker lists the project's users and deletes the connection's. A
//! mint already sent when the change committed can create its user after
//! that listing. So the revoker watches this replica's mints
//! ([`Revoker::watching`] wraps the minter the issuer uses): if any mint of
//! the connection was in flight during the revoke, it waits until they
//! have all answered (at most the issue timeout, the longest a mint is
//! waited for) and revokes once more. Mints sent by *other* replicas are
//! not seen here; their users go at their `deleteAfterDate`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use cloudconn_infra::amqp::issue::{IssueAction, IssueReply, IssueRequest};
use tokio::{sync::Notify, time::Instant};
use uuid::Uuid;

use super::minter::{Minter, NoAnswer};
use crate::store::entities::connections::Model;

#[derive(Clone)]
pub struct Revoker {
    minter: Arc<dyn Minter>,
    timeout: Duration,
    in_flight: Arc<InFlight>,
}

impl Revoker {
    pub fn new(minter: Arc<dyn Minter>, timeout: Duration) -> Self {
        Self { minter, timeout, in_flight: Arc::default() }
    }

    /// A revoker, and `minter` wrapped so that the revoker sees the mints
    /// sent through it: give the issuer the wrapped one.
    pub fn watching(minter: Arc<dyn Minter>, timeout: Duration) -> (Self, Arc<dyn Minter>) {
        let revoker = Self::new(minter.clone(), timeout);
        let watched = Arc::new(Watched { inner: minter, in_flight: revoker.in_flight.clone() });
        (revoker, watched)
    }

    /// Whether minting leaves anything behind at this provider.
    pub fn needed(provider: &str) -> bool {
        provider == "mongodb_atlas"
    }

    /// Removes the connection's temporary users, all of them (`keep`
    /// `None`) or all but revision `keep`'s, signing in with revision
    /// `sign_in`; again once this replica's mints of the connection that
    /// were in flight meanwhile have answered. Logs the outcome; never
    /// fails the caller's change.
    pub async fn revoke(&self, row: &Model, sign_in: i64, keep: Option<i64>) {
        if !Self::needed(&row.provider) || sign_in <= 0 {
            return;
        }
        let watch = self.in_flight.watch(row.id);
        self.revoke_once(row, sign_in, keep).await;
        if watch.touched() {
            let drained = watch.drained(Instant::now() + self.timeout).await;
            tracing::info!(connection = %row.id, drained, "mints were in flight during the revoke; revoking again");
            self.revoke_once(row, sign_in, keep).await;
        }
    }

    async fn revoke_once(&self, row: &Model, sign_in: i64, keep: Option<i64>) {
        let action = IssueAction::Revoke { keep_revision: keep.map(|k| k as u64) };
        let (request, deadline) = super::worker_request(row, sign_in, self.timeout, action);
        match self.minter.mint(request, deadline).await {
            Ok(IssueReply::Revoked { removed, .. }) => {
                tracing::info!(connection = %row.id, removed, "temporary provider users removed");
            }
            Ok(IssueReply::Failed { error, .. }) => tracing::warn!(
                connection = %row.id, code = %error.code, "removing temporary provider users failed; they expire at their deleteAfterDate"
            ),
            Ok(IssueReply::Issued { .. }) => {
                tracing::warn!(connection = %row.id, "a worker answered a revoke with credentials")
            }
            Err(e) => tracing::warn!(
                connection = %row.id, reason = ?e, "no worker removed the temporary provider users; they expire at their deleteAfterDate"
            ),
        }
    }
}

/// The mints of this replica in flight, per connection, for the revokes
/// watching them. An entry lives while a mint or a watch of its connection
/// does: at most one per request in flight (the minter bounds those).
#[derive(Default)]
struct InFlight {
    connections: Mutex<HashMap<Uuid, Activity>>,
    /// Woken whenever a mint answers.
    answered: Notify,
}

#[derive(Default)]
struct Activity {
    /// Mints sent and not answered.
    live: usize,
    /// Mints sent since the entry was made (only compared, never reset).
    started: u64,
    /// Revokes watching.
    watchers: usize,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Activity>> {
        self.connections.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn watch(self: &Arc<Self>, connection: Uuid) -> Watch {
        let mut map = self.lock();
        let activity = map.entry(connection).or_default();
        activity.watchers += 1;
        Watch { in_flight: self.clone(), connection, live: activity.live, started: activity.started }
    }

    fn start(self: &Arc<Self>, connection: Uuid) -> Sending {
        let mut map = self.lock();
        let activity = map.entry(connection).or_default();
        activity.live += 1;
        activity.started += 1;
        Sending { in_flight: self.clone(), connection }
    }

    /// Applies `change` to the connection's entry, and drops the entry
    /// once nothing uses it.
    fn settle(&self, connection: Uuid, change: impl FnOnce(&mut Activity)) {
        let mut map = self.lock();
        if let Some(activity) = map.get_mut(&connection) {
            change(activity);
            if activity.live == 0 && activity.watchers == 0 {
                map.remove(&connection);
            }
        }
    }
}

/// A mint in flight; answered when dropped (whatever the outcome, a caller
/// gone included).
struct Sending {
    in_flight: Arc<InFlight>,
    connection: Uuid,
}

impl Drop for Sending {
    fn drop(&mut self) {
        self.in_flight.settle(self.connection, |a| a.live = a.live.saturating_sub(1));
        self.in_flight.answered.notify_waiters();
    }
}

/// A revoke's view of its connection's mints from when it began.
struct Watch {
    in_flight: Arc<InFlight>,
    connection: Uuid,
    /// In flight when it began.
    live: usize,
    started: u64,
}

impl Watch {
    /// Whether a mint was in flight at any time since the watch began.
    fn touched(&self) -> bool {
        self.live > 0 || self.in_flight.lock().get(&self.connection).is_some_and(|a| a.started != self.started)
    }

    /// Waits until no mint of the connection is in flight, or `deadline`;
    /// whether they all answered.
    async fn drained(&self, deadline: Instant) -> bool {
        loop {
            // Registered before the check, so an answer in between is not missed.
            let answered = self.in_flight.answered.notified();
            if self.in_flight.lock().get(&self.connection).is_none_or(|a| a.live == 0) {
                return true;
            }
            if tokio::time::timeout_at(deadline, answered).await.is_err() {
                return false;
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.in_flight.settle(self.connection, |a| a.watchers = a.watchers.saturating_sub(1));
    }
}

/// The issuer's minter, counting its mints per connection.
struct Watched {
    inner: Arc<dyn Minter>,
    in_flight: Arc<InFlight>,
}

#[async_trait::async_trait]
impl Minter for Watched {
    async fn mint(&self, request: IssueRequest, deadline: Instant) -> Result<IssueReply, NoAnswer> {
        let _sending = match (&request.action, Uuid::parse_str(&request.connection_id)) {
            (IssueAction::Mint, Ok(connection)) => Some(self.in_flight.start(connection)),
            _ => None,
        };
        self.inner.mint(request, deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watch_sees_mints_begun_before_or_during_it_and_waits_for_them() {
        let in_flight = Arc::new(InFlight::default());
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let quiet = in_flight.watch(a);
        let _other = in_flight.start(b);
        assert!(!quiet.touched(), "another connection's mint");
        assert!(quiet.drained(Instant::now()).await);

        let sending = in_flight.start(a);
        let late = in_flight.watch(a);
        assert!(quiet.touched(), "begun during the watch");
        assert!(late.touched(), "in flight when the watch began");
        assert!(!late.drained(Instant::now() + Duration::from_millis(20)).await, "bounded");
        let waiting = tokio::spawn(async move { late.drained(Instant::now() + Duration::from_secs(10)).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(sending);
        assert!(waiting.await.unwrap(), "woken when the mint answered");
        drop(quiet);
        assert!(!in_flight.lock().contains_key(&a), "nothing left once unused");
    }
}
