//! The run step in the worker (DESIGN.md §8): turn the ACTIVE revision's
//! long-lived credentials into short-lived, least-privilege ones for one
//! scope. One file per provider, like the probes; [`Minters::production`]
//! lists the ones this build ships.
//!
//! Failures reuse the probes' classification ([`ProbeFailure`]): the server
//! maps it to `ErrorInfo.reason` the way it shows a failed validation.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use cloudconn_infra::{amqp::issue::Minted, secrets::SecretFields};

use crate::probe::ProbeFailure;

/// What a minter needs to know about the request.
#[derive(Debug, Clone)]
pub struct MintRequest {
    pub provider: String,
    /// One of the connection's scopes.
    pub scope: String,
    /// Validated by the server: 1–64 of `[A-Za-z0-9_.@/-]`.
    pub consumer: String,
    /// The lifetime to ask for; the minter may shorten it to what the
    /// provider allows, and says so in `expire_time`.
    pub ttl: Duration,
    /// AWS only.
    pub external_id: Option<String>,
    /// The connection's uid (names of what minting creates at the provider).
    pub connection_id: String,
    /// The revision the credentials come from.
    pub revision: u64,
}

/// Credentials and when the provider stops honouring them.
#[derive(Debug, Clone)]
pub struct MintedCredentials {
    pub credentials: Minted,
    pub expire_time: DateTime<Utc>,
}

/// What to clean up at the provider for a connection.
#[derive(Debug, Clone)]
pub struct RevokeRequest {
    pub provider: String,
    pub connection_id: String,
    /// Keep what was minted from this revision (a rotation); `None` removes
    /// everything (a delete).
    pub keep_revision: Option<u64>,
}

#[async_trait::async_trait]
pub trait Mint: Send + Sync + 'static {
    async fn mint(&self, request: &MintRequest, credentials: &SecretFields) -> Result<MintedCredentials, ProbeFailure>;

    /// Removes what minting left at the provider (Atlas's temporary database
    /// users); returns how many. Providers whose credentials just expire
    /// have nothing to remove.
    async fn revoke(&self, _request: &RevokeRequest, _credentials: &SecretFields) -> Result<u32, ProbeFailure> {
        Ok(0)
    }
}

/// Minters by provider name (`aws`, `gcp`, …).
#[derive(Clone, Default)]
pub struct Minters(HashMap<String, Arc<dyn Mint>>);

impl Minters {
    pub fn with(mut self, provider: &str, minter: Arc<dyn Mint>) -> Self {
        self.0.insert(provider.to_owned(), minter);
        self
    }

    pub fn get(&self, provider: &str) -> Option<Arc<dyn Mint>> {
        self.0.get(provider).cloned()
    }

    /// The minters this build ships, aimed at the configured endpoints.
    pub fn production(_config: &crate::config::WorkerConfig) -> Self {
        Self::default()
    }
}
