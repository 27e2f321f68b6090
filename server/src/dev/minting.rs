//! `--dev`: the run step in one process. Issue requests go straight to the
//! worker's own `IssueRunner` (the same code a worker runs on a delivery),
//! with the same deadline; no broker.

use std::sync::Arc;

use cloudconn_infra::amqp::issue::{IssueReply, IssueRequest};
use cloudconn_worker::issue::IssueRunner;
use tokio::time::Instant;

use crate::credentials::minter::{Minter, NoAnswer};

pub struct DevMinter {
    pub runner: Arc<IssueRunner>,
}

#[async_trait::async_trait]
impl Minter for DevMinter {
    async fn mint(&self, request: IssueRequest, deadline: Instant) -> Result<IssueReply, NoAnswer> {
        match tokio::time::timeout_at(deadline, self.runner.run(&request)).await {
            Ok(Some(reply)) => Ok(reply),
            // Past the deadline in the runner, or here.
            Ok(None) | Err(_) => Err(NoAnswer::Timeout),
        }
    }
}
