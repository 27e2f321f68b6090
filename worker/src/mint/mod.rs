//! The run step in the worker (docs/run.md): turn the ACTIVE revision's
//! long-lived credentials into short-lived, least-privilege ones for one
//! scope. One file per provider, like the probes; [`Minters::production`]
//! lists the ones this build ships.
//!
//! What each scope is granted comes from the one run-time grant table,
//! `cloudconn_infra::permissions::grant_for`. The minters reuse the probes'
//! plumbing (HTTP client, OAuth helper, AWS SDK configuration, Atlas digest
//! session, the re-checks of values read from Vault), so a request minting
//! sends is built exactly as a validation's.
//!
//! Failures reuse the probes' classification ([`ProbeFailure`]): the server
//! maps it to `ErrorInfo.reason` the way it shows a failed validation.
//! Neither they nor any span or log carry a secret value, the issued ones
//! included: those only travel in [`Minted`]'s `WireSecret`s.
//!
//! Lifetimes: the request's TTL is asked for where the provider takes one
//! (AWS `DurationSeconds`, Atlas `deleteAfterDate`). Google, Entra ID and
//! Aura issue tokens of their own fixed lifetime (about an hour); the
//! minters report it as it is in `expire_time`, never the TTL asked for.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod mongodb_atlas;
pub mod neo4j_aura;

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use cloudconn_infra::{amqp::issue::Minted, permissions::Grant, secrets::SecretFields};
use secrecy::ExposeSecret;

use crate::probe::{ErrorCode, ProbeFailure, http};

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
    /// How to sign tokens for this connection, for a keyless revision.
    pub keyless: Option<crate::keyless::Keyless>,
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

/// A minter with a bound on how many of its calls run at once (as the
/// probes' `Bounded`): one slow provider cannot take every worker slot,
/// nor a burst of issues hammer its API.
pub struct Bounded {
    inner: Arc<dyn Mint>,
    permits: tokio::sync::Semaphore,
}

impl Bounded {
    pub fn new(inner: Arc<dyn Mint>, limit: usize) -> Self {
        Self { inner, permits: tokio::sync::Semaphore::new(limit.max(1)) }
    }

    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ProbeFailure> {
        self.permits.acquire().await.map_err(|_| ProbeFailure::transient("worker shutting down"))
    }
}

#[async_trait::async_trait]
impl Mint for Bounded {
    async fn mint(&self, request: &MintRequest, credentials: &SecretFields) -> Result<MintedCredentials, ProbeFailure> {
        let _permit = self.permit().await?;
        self.inner.mint(request, credentials).await
    }

    async fn revoke(&self, request: &RevokeRequest, credentials: &SecretFields) -> Result<u32, ProbeFailure> {
        let _permit = self.permit().await?;
        self.inner.revoke(request, credentials).await
    }
}

/// Minters by provider name (`aws`, `gcp`, …), and the issuer keyless
/// connections' tokens come from.
#[derive(Clone, Default)]
pub struct Minters(HashMap<String, Arc<dyn Mint>>, Option<Arc<cloudconn_infra::oidc::Issuer>>);

impl Minters {
    /// Signs keyless connections' tokens with `issuer`.
    pub fn keyless(mut self, issuer: Option<Arc<cloudconn_infra::oidc::Issuer>>) -> Self {
        self.1 = issuer;
        self
    }

    pub fn issuer(&self) -> Option<Arc<cloudconn_infra::oidc::Issuer>> {
        self.1.clone()
    }

    pub fn with(mut self, provider: &str, minter: Arc<dyn Mint>) -> Self {
        self.0.insert(provider.to_owned(), minter);
        self
    }

    pub fn get(&self, provider: &str) -> Option<Arc<dyn Mint>> {
        self.0.get(provider).cloned()
    }

    /// The minters this build ships, aimed at the configured endpoints (the
    /// probes' endpoints, timeout and AWS platform identity), each bounded
    /// by `CLOUDCONN_PROBE_CONCURRENCY_PER_PROVIDER` like the probes.
    pub fn production(config: &crate::config::WorkerConfig) -> Self {
        let endpoints = &config.endpoints;
        let client = http::client(config.probe_timeout());
        let minters: [(&str, Arc<dyn Mint>); 5] = [
            ("aws", Arc::new(aws::AwsMinter::new(crate::probe::aws::AwsProbe::from_config(config)))),
            (
                "gcp",
                Arc::new(gcp::GcpMinter {
                    token_url: endpoints.gcp_token_url.clone(),
                    federation: crate::probe::gcp_federation::Federation::new(endpoints),
                    client: client.clone(),
                }),
            ),
            (
                "azure",
                Arc::new(azure::AzureMinter { authority: endpoints.azure_authority.clone(), client: client.clone() }),
            ),
            (
                "mongodb_atlas",
                Arc::new(mongodb_atlas::AtlasMinter {
                    base: endpoints.atlas_base.clone(),
                    client: client.clone(),
                    project_user_cap: config.atlas_project_user_cap,
                    users_per_consumer: config.atlas_users_per_consumer,
                }),
            ),
            ("neo4j_aura", Arc::new(neo4j_aura::AuraMinter::new(endpoints.aura_base.clone(), client))),
        ];
        minters.into_iter().fold(Self::default(), |all, (name, minter)| {
            all.with(name, Arc::new(Bounded::new(minter, config.probe_concurrency_per_provider)))
        })
    }
}

/// A saved credential field, or empty.
fn field(credentials: &SecretFields, name: &str) -> String {
    credentials.get(name).map(|v| v.expose_secret().to_owned()).unwrap_or_default()
}

/// The run-time grant of `request`'s scope, or the failure for a scope the
/// grant table does not have (the server only asks for a connection's own
/// scopes, all of which the table covers: a version skew between the two).
fn grant(request: &MintRequest) -> Result<Grant, ProbeFailure> {
    cloudconn_infra::permissions::grant_for(&request.provider, &request.scope).ok_or_else(|| {
        ProbeFailure::new(
            ErrorCode::AccessDenied,
            format!("this worker has no grant for scope {} of {}", request.scope, request.provider),
            "Update the cloudconn workers: the server knows a scope these workers do not.",
        )
    })
}

/// A grant of another provider's kind: a request for another provider sent
/// to this minter. `what` names what this minter issues.
fn wrong_kind(request: &MintRequest, what: &str) -> ProbeFailure {
    ProbeFailure::new(
        ErrorCode::AccessDenied,
        format!("{} credentials cannot be minted as {what}", request.provider),
        "This is a cloudconn fault, not the connection's: report it to the cloudconn operators.",
    )
}

/// `from` plus the lifetime a token endpoint announced, or an hour (what
/// all three token providers issue) when it announced none.
fn expiry_after(from: DateTime<Utc>, expires_in: Option<Duration>) -> DateTime<Utc> {
    let lifetime = expires_in.unwrap_or(Duration::from_secs(3600));
    from + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(1))
}

/// An OAuth token as [`Minted::AccessToken`].
fn access_token(
    token: crate::probe::oauth::IssuedToken,
    asked: DateTime<Utc>,
    requested_scope: Option<&str>,
    audience: &str,
) -> MintedCredentials {
    // RFC 6749 §5.1: a server may leave the scopes out when they are the
    // ones asked for.
    let scopes = token.scopes.unwrap_or_else(|| requested_scope.map(str::to_owned).into_iter().collect());
    MintedCredentials {
        expire_time: expiry_after(asked, token.expires_in),
        credentials: Minted::AccessToken {
            access_token: cloudconn_infra::amqp::issue::WireSecret(token.access_token),
            token_type: "Bearer".into(),
            scopes,
            audience: audience.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_without_expires_in_is_taken_for_an_hour() {
        let now = Utc::now();
        assert_eq!(expiry_after(now, None), now + chrono::Duration::hours(1));
        assert_eq!(expiry_after(now, Some(Duration::from_secs(3599))), now + chrono::Duration::seconds(3599));
    }

    #[test]
    fn every_provider_of_the_table_has_a_minter() {
        let minters = Minters::production(&test_config());
        for provider in ["aws", "gcp", "azure", "mongodb_atlas", "neo4j_aura"] {
            assert!(minters.get(provider).is_some(), "{provider}");
        }
    }

    pub(crate) fn test_config() -> crate::config::WorkerConfig {
        crate::config::WorkerConfig::from_source(
            &cloudconn_infra::config::Source::load(None, std::iter::empty()).unwrap(),
        )
        .unwrap()
    }
}
