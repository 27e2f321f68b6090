//! The run step in the worker (docs/run.md), queue → worker → requester:
//! one issue request per delivery, answered on its `reply_to`.
//!
//! check it came from a server ([`guard`]: signed, current, not replayed;
//! nothing else is acted on) → drop it if its deadline has passed (nobody
//! waits; the provider is never called for it) → read the ACTIVE revision
//! from Vault → mint → sign and send the reply → ack. Unlike validation jobs nothing is retried or redelivered
//! here: the requester waits a few seconds at most, and asks again.

pub mod guard;

use std::{sync::Arc, time::Duration};

use chrono::SecondsFormat;
use cloudconn_infra::{
    amqp::{
        consumer::Handler,
        issue::{ISSUE_VERSION, IssueAction, IssueReply, IssueRequest},
        messages::ProbeError,
        publisher::Publisher,
        signing::Context,
    },
    secrets::{SecretPath, SecretStore, SecretStoreError},
};
use lapin::{
    message::Delivery,
    options::{BasicAckOptions, BasicRejectOptions},
};
use tokio_util::sync::CancellationToken;

use self::guard::{Admitted, RequestGuard};
use crate::{
    mint::{MintRequest, Minters, RevokeRequest},
    probe::outcome::probe_error,
};

/// Turns a request into its reply: no queue plumbing, so `--dev` runs the
/// same code in process.
pub struct IssueRunner {
    pub secrets: Arc<dyn SecretStore>,
    pub minters: Minters,
}

impl IssueRunner {
    /// The reply, or `None` once the request's deadline has passed (before
    /// or while minting): nobody would read the answer.
    pub async fn run(&self, request: &IssueRequest) -> Option<IssueReply> {
        let left = Duration::from_millis(request.deadline_unix_ms.saturating_sub(now_unix_ms()));
        if left.is_zero() {
            return None;
        }
        tokio::time::timeout(left, self.mint(request)).await.ok()
    }

    async fn mint(&self, request: &IssueRequest) -> IssueReply {
        let Some(minter) = self.minters.get(&request.provider) else {
            return failed(ProbeError {
                code: "PROVIDER_UNAVAILABLE".into(),
                message: format!("this worker cannot issue credentials for {}", request.provider),
                hint: "Ask the cloudconn operators to deploy a worker that supports this provider.".into(),
                retryable: true,
                missing_permissions: Vec::new(),
            });
        };
        let path = SecretPath { workspace: request.workspace.clone(), uid: request.connection_id.clone() };
        let credentials = match self.secrets.read(&path, request.revision).await {
            Ok(credentials) => credentials,
            // Rotated or deleted since the server read the row: the caller
            // asks again and the server reads the new state.
            Err(SecretStoreError::NotFound) => {
                return failed(ProbeError {
                    code: "REVISION_GONE".into(),
                    message: "the active credential revision changed while credentials were being issued".into(),
                    hint: "Ask again.".into(),
                    retryable: true,
                    missing_permissions: Vec::new(),
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "issue: reading the revision failed");
                return failed(ProbeError {
                    code: "SECRET_STORE_UNAVAILABLE".into(),
                    message: "the worker could not read the connection's credentials".into(),
                    hint: "This is retried by asking again; if it persists, the operators should check Vault.".into(),
                    retryable: true,
                    missing_permissions: Vec::new(),
                });
            }
        };
        if let IssueAction::Revoke { keep_revision } = request.action {
            let revoke = RevokeRequest {
                provider: request.provider.clone(),
                connection_id: request.connection_id.clone(),
                keep_revision,
            };
            return match minter.revoke(&revoke, &credentials).await {
                Ok(removed) => IssueReply::Revoked { version: ISSUE_VERSION, removed },
                Err(failure) => failed(probe_error(failure)),
            };
        }
        let mint = MintRequest {
            provider: request.provider.clone(),
            scope: request.scope.clone(),
            consumer: request.consumer.clone(),
            ttl: Duration::from_secs(request.ttl_secs),
            external_id: request.external_id.clone(),
            connection_id: request.connection_id.clone(),
            revision: request.revision,
            // Used only by a keyless revision's minter.
            keyless: Some(crate::keyless::Keyless {
                issuer: self.minters.issuer(),
                subject: cloudconn_infra::oidc::Subject {
                    workspace: request.workspace.clone(),
                    connection_id: request.connection_id.clone(),
                    tag: request.tag.clone(),
                    scope: request.scope.clone(),
                    consumer: request.consumer.clone(),
                },
            }),
        };
        match minter.mint(&mint, &credentials).await {
            Ok(minted) => IssueReply::Issued {
                version: ISSUE_VERSION,
                expire_time: minted.expire_time.to_rfc3339_opts(SecondsFormat::Secs, true),
                credentials: minted.credentials,
            },
            Err(failure) => failed(probe_error(failure)),
        }
    }
}

fn failed(error: ProbeError) -> IssueReply {
    IssueReply::Failed { version: ISSUE_VERSION, error }
}

fn now_unix_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or_default()
}

/// The AMQP side: check, run, sign and reply, ack.
pub struct IssueHandler {
    pub runner: IssueRunner,
    pub guard: RequestGuard,
    pub replies: Publisher,
    pub metrics: Option<Arc<crate::metrics::WorkerMetrics>>,
}

#[async_trait::async_trait]
impl Handler for IssueHandler {
    async fn handle(&self, delivery: Delivery, _shutdown: CancellationToken) {
        let outcome = self.handle_request(&delivery).await;
        if let Some(m) = &self.metrics {
            m.issue(outcome);
        }
    }
}

impl IssueHandler {
    async fn handle_request(&self, delivery: &Delivery) -> &'static str {
        let Admitted { request, reply_to, correlation } = match self.guard.admit(delivery, now_unix_ms()) {
            Ok(admitted) => admitted,
            Err(refusal) => {
                // Not (or no longer) from a server: nothing to answer,
                // nothing to keep. The log names the check, never the body.
                tracing::error!(refusal = refusal.label(), "issue request refused; dropping it");
                let _ = delivery.reject(BasicRejectOptions { requeue: false }).await;
                return refusal.label();
            }
        };
        let span = tracing::info_span!("issue request", provider = %request.provider, scope = %request.scope, revision = request.revision);
        let reply = tracing::Instrument::instrument(self.runner.run(&request), span).await;
        let outcome = match &reply {
            None => "expired",
            Some(IssueReply::Issued { .. }) => "issued",
            Some(IssueReply::Failed { .. }) => "failed",
            Some(IssueReply::Revoked { .. }) => "revoked",
        };
        if let Some(reply) = reply {
            let payload = serde_json::to_vec(&reply).unwrap_or_default();
            // Bound to the request by its correlation id: the server takes
            // a reply only with a worker's signature over both.
            let signature = self.guard.keys().signer.sign(Context::IssueReply, &[correlation.as_bytes(), &payload]);
            if let Err(e) = self.replies.publish_reply(&reply_to, &correlation, &payload, signature).await {
                // The requester times out and asks again; the credentials
                // minted expire on their own (Atlas users are removed with
                // the connection's next rotation or delete).
                tracing::warn!(error = %e, "issue: the reply could not be sent");
            }
        } else {
            tracing::info!(provider = %request.provider, "issue request past its deadline; dropped without calling the provider");
        }
        let _ = delivery.ack(BasicAckOptions::default()).await;
        outcome
    }
}
