//! WatchConnections: live events for gRPC clients.
//!
//! Every replica subscribes to the public events exchange (`feed`), so a
//! watcher connected to any replica sees every replica's changes. Events
//! fan out to watchers through a broadcast channel; a watcher that falls
//! too far behind is told so (and should re-list), never skipped silently.

pub mod feed;

use cloudconn_proto::v1 as pb;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::{domain::names::Workspace, outbox::cloudevents};

/// Events buffered per watcher before it counts as lagging.
pub const FEED_CAPACITY: usize = 1024;

/// Streams the events of `workspace` (and `tag`, if given) from `feed`
/// into `out` until the client goes away or the server shuts down.
pub async fn forward(
    mut feed: broadcast::Receiver<String>,
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
