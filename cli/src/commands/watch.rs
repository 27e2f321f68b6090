//! `watch`: the workspace's (or one connection's) lifecycle events, one
//! line each, until the stream ends or Ctrl-C.

use cloudconn_proto::v1 as pb;
use tokio_stream::StreamExt;

use crate::{args::OutputFormat, client::Client, exit::Failure, output};

pub async fn run(client: &mut Client, tag: Option<String>, format: OutputFormat) -> Result<(), Failure> {
    let request = pb::WatchConnectionsRequest { workspace: client.workspace.clone(), tag: tag.unwrap_or_default() };
    let mut events = client.grpc.watch_connections(request).await?.into_inner();
    if format == OutputFormat::Text && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprintln!("watching workspace {} (Ctrl-C stops)", client.workspace);
    }
    while let Some(event) = events.next().await {
        let event = event?;
        match format {
            // One JSON object per line (NDJSON), so `jq` can follow along.
            OutputFormat::Json => output::print_json_line(&event, "cloudconn.v1.ConnectionEvent")?,
            OutputFormat::Text => output::event_line(&event),
        }
    }
    Ok(())
}
