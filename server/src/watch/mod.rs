//! WatchConnections: live events for gRPC clients.
//!
//! While anyone watches, a replica subscribes to the public events
//! exchange (`feed`), so a watcher connected to any replica sees every
//! replica's changes. Nobody watching, no subscription: otherwise every
//! replica would take delivery of (and ack) every event all day, for no
//! one. Events fan out to watchers through a broadcast channel; a watcher
//! that falls too far behind is told so (and should re-list), never
//! skipped silently.

pub mod feed;

use std::{sync::Arc, time::Duration};

use cloudconn_proto::v1 as pb;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::{domain::names::Workspace, outbox::cloudevents};

/// Events buffered per watcher before it counts as lagging.
pub const FEED_CAPACITY: usize = 1024;

/// This replica's watchers and the events that reach them.
#[derive(Clone)]
pub struct Hub {
    events: broadcast::Sender<String>,
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
        let feed = feed::EventFeed { settings, sender: events.clone(), watchers: watching, live: live_tx };
        (Self { events, watchers: Arc::new(watchers), live }, feed)
    }

    /// A hub whose events are sent in process (`--dev`): always live.
    pub fn in_process() -> Self {
        let (events, _) = broadcast::channel(FEED_CAPACITY);
        let (watchers, _) = watch::channel(0);
        let (_, live) = watch::channel(true);
        Self { events, watchers: Arc::new(watchers), live }
    }

    /// Where in-process events are sent.
    pub fn sender(&self) -> broadcast::Sender<String> {
        self.events.clone()
    }

    /// Joins as a watcher. Returns once events are flowing, so every change
    /// committed after the call returns reaches the watcher; or after
    /// `within` if the broker is unreachable (events follow once it is
    /// back).
    pub async fn join(&self, within: Duration) -> (broadcast::Receiver<String>, Watching) {
        // Subscribe first, count second: the feed may go live at any moment
        // after the count rises, and what it receives must find us.
        let feed = self.events.subscribe();
        self.watchers.send_modify(|n| *n += 1);
        let watching = Watching(self.watchers.clone());
        let mut live = self.live.clone();
        let _ = tokio::time::timeout(within, live.wait_for(|live| *live)).await;
        (feed, watching)
    }
}

/// Streams the events of `workspace` (and `tag`, if given) from `feed`
/// into `out` until the client goes away or the server shuts down; the
/// watcher stays counted until then.
pub async fn forward(
    (mut feed, _watching): (broadcast::Receiver<String>, Watching),
    workspace: Workspace,
    tag: Option<String>,
    out: mpsc::Sender<Result<pb::ConnectionEvent, Status>>,
    shutdown: CancellationToken,
) {
    loop {
        let body = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = out.closed() => return,
            body = feed.recv() => body,
        };
        let body = match body {
            Ok(body) => body,
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
        let Some(event) = cloudevents::parse(&body) else { continue };
        let Some(connection) = &event.connection else { continue };
        if connection.workspace != workspace.as_str() || tag.as_deref().is_some_and(|t| t != connection.tag) {
            continue;
        }
        if out.send(Ok(event)).await.is_err() {
            return;
        }
    }
}
