//! WatchConnections: live events for gRPC clients.
//!
//! While anyone watches, a replica subscribes to the public events
//! exchange (`feed`), so a watcher connected to any replica sees every
//! replica's changes. Nobody watching, no subscription: otherwise every
//! replica would take delivery of (and ack) every event all day, for no
//! one. Each event is parsed once, as it arrives, and fans out to watchers
//! through a broadcast channel; a watcher that falls too far behind is
//! told so (and should re-list), never skipped silently.
//!
//! Streams are bounded like calls (security review M1): at most
//! [`MAX_STREAMS`] per replica and [`MAX_STREAMS_PER_SUBJECT`] per token
//! subject, and a stream ends when its token expires, or after
//! [`MAX_STREAM_LIFETIME`], whichever is first.

pub mod feed;

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use cloudconn_proto::v1 as pb;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::{
    domain::names::Workspace,
    error::AppError,
    outbox::cloudevents::Fanout,
    quota::{Caps, Share, Shares},
};

/// Events buffered per watcher before it counts as lagging.
pub const FEED_CAPACITY: usize = 1024;
/// Watch streams open on one replica, every caller together.
pub const MAX_STREAMS: usize = 4096;
/// Watch streams one token subject may have open on one replica.
pub const MAX_STREAMS_PER_SUBJECT: usize = 16;
/// The longest a watch stream lasts: then the client watches again, and
/// its token is checked again.
pub const MAX_STREAM_LIFETIME: Duration = Duration::from_secs(3600);

/// This replica's watchers and the events that reach them.
#[derive(Clone)]
pub struct Hub {
    events: broadcast::Sender<Arc<pb::ConnectionEvent>>,
    /// Open streams, per subject.
    streams: Shares,
    /// Open watch streams: the feed subscribes while this is above zero.
    watchers: Arc<watch::Sender<usize>>,
    /// Whether events are flowing in (the feed's queue is bound).
    live: watch::Receiver<bool>,
}

/// One open watch stream; counted until dropped.
pub struct Watching(Arc<watch::Sender<usize>>);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Hub {
    /// A hub fed by a [`feed::EventFeed`] (returned: run it), which
    /// subscribes only while someone watches.
    pub fn with_feed(settings: feed::FeedSettings) -> (Self, feed::EventFeed) {
        let (events, _) = broadcast::channel(FEED_CAPACITY);
        let (watchers, watching) = watch::channel(0);
        let (live_tx, live) = watch::channel(false);
        let feed = feed::EventFeed { settings, sender: Fanout::new(events.clone()), watchers: watching, live: live_tx };
        (Self { events, streams: streams(), watchers: Arc::new(watchers), live }, feed)
    }

    /// A hub whose events are sent in process (`--dev`): always live.
    pub fn in_process() -> Self {
        let (events, _) = broadcast::channel(FEED_CAPACITY);
        let (watchers, _) = watch::channel(0);
        let (_, live) = watch::channel(true);
        Self { events, streams: streams(), watchers: Arc::new(watchers), live }
    }

    /// Where in-process events are sent.
    pub fn sender(&self) -> Fanout {
        Fanout::new(self.events.clone())
    }

    /// Joins as a watcher for `subject`, if its share of streams allows.
    /// Returns once events are flowing, so every change committed after the
    /// call returns reaches the watcher; or after `within` if the broker is
    /// unreachable (events follow once it is back).
    pub async fn join(&self, subject: &str, within: Duration) -> Result<Joined, AppError> {
        let share = self.streams.take(subject, "")?;
        // Subscribe first, count second: the feed may go live at any moment
        // after the count rises, and what it receives must find us.
        let feed = self.events.subscribe();
        self.watchers.send_modify(|n| *n += 1);
        let watching = Watching(self.watchers.clone());
        let mut live = self.live.clone();
        let _ = tokio::time::timeout(within, live.wait_for(|live| *live)).await;
        Ok(Joined { feed, _watching: watching, _share: share })
    }
}

/// Per subject only: every watcher counts as one tenant, whose share is
/// the whole pool.
fn streams() -> Shares {
    let caps = Caps {
        total: MAX_STREAMS,
        per_subject: MAX_STREAMS_PER_SUBJECT,
        per_tenant: MAX_STREAMS,
        reserve: 0,
        light: 0,
    };
    Shares::new(caps, "watch streams")
}

/// A joined watcher: its events, counted (for the feed) and holding its
/// share of streams until dropped.
pub struct Joined {
    feed: broadcast::Receiver<Arc<pb::ConnectionEvent>>,
    _watching: Watching,
    _share: Share,
}

/// What a watcher asked for, and until when it may watch.
pub struct Target {
    pub workspace: Workspace,
    pub tag: Option<String>,
    /// The token's `exp`, if it has one.
    pub token_expires: Option<SystemTime>,
}

/// Streams the events of the target's workspace (and tag, if given) into
/// `out` until the client goes away, the server shuts down, or the stream's
/// time is up; the watcher stays counted until then.
pub async fn forward(
    mut joined: Joined,
    target: Target,
    out: mpsc::Sender<Result<pb::ConnectionEvent, Status>>,
    shutdown: CancellationToken,
) {
    let (ends, why) = stream_end(target.token_expires, SystemTime::now());
    let ends = tokio::time::sleep(ends);
    tokio::pin!(ends);
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = out.closed() => return,
            _ = &mut ends => {
                let _ = out.send(Err(why)).await;
                return;
            }
            event = joined.feed.recv() => event,
        };
        let event = match event {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                let _ = out
                    .send(Err(Status::data_loss(format!(
                        "this watcher fell {missed} events behind; list the connections again and re-watch"
                    ))))
                    .await;
                return;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(connection) = &event.connection else { continue };
        if connection.workspace != target.workspace.as_str()
            || target.tag.as_deref().is_some_and(|t| t != connection.tag)
        {
            continue;
        }
        if out.send(Ok(event.as_ref().clone())).await.is_err() {
            return;
        }
    }
}

/// How long a stream may run from `now`, and the status that ends it.
fn stream_end(token_expires: Option<SystemTime>, now: SystemTime) -> (Duration, Status) {
    let left = token_expires.map(|exp| exp.duration_since(now).unwrap_or_default());
    match left {
        Some(left) if left < MAX_STREAM_LIFETIME => {
            (left, Status::unauthenticated("the token expired; watch again with a fresh token"))
        }
        _ => (
            MAX_STREAM_LIFETIME,
            Status::unavailable(format!(
                "watch streams end after {} minutes; list the connections again and re-watch",
                MAX_STREAM_LIFETIME.as_secs() / 60
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_ends_at_its_tokens_expiry_or_its_lifetime() {
        let now = SystemTime::now();
        let (left, why) = stream_end(Some(now + Duration::from_secs(90)), now);
        assert_eq!((left, why.code()), (Duration::from_secs(90), tonic::Code::Unauthenticated));
        let (left, why) = stream_end(Some(now + Duration::from_secs(86_400)), now);
        assert_eq!((left, why.code()), (MAX_STREAM_LIFETIME, tonic::Code::Unavailable));
        assert_eq!(stream_end(None, now).0, MAX_STREAM_LIFETIME);
        assert_eq!(stream_end(Some(now - Duration::from_secs(5)), now).0, Duration::ZERO);
    }
}
