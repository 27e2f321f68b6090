//! The probe interface: one implementation per provider, selected by the
//! job's provider. A probe reads nothing but the credentials it is given and
//! the endpoints it was configured with, and answers with what it found or a
//! classified failure. One file per provider; [`Probes::production`] lists
//! the ones this build ships.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod http;
pub mod mongodb_atlas;
pub mod neo4j_aura;
pub mod oauth;
pub mod outcome;

use std::{collections::BTreeMap, collections::HashMap, sync::Arc};

use cloudconn_infra::{amqp::messages::ScopeCheck, secrets::SecretFields};

/// What a successful probe found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeReport {
    /// Provider identity: account_id, arn, project_number, subscription_name, …
    pub identity: BTreeMap<String, String>,
    /// One per requested scope.
    pub scope_checks: Vec<ScopeCheck>,
    /// Non-fatal findings.
    pub warnings: Vec<String>,
}

/// Validation error codes (DESIGN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidCredentials,
    AccessDenied,
    ResourceNotFound,
    ExternalIdMismatch,
    ExternalIdNotEnforced,
    MalformedCredentials,
    ProviderUnavailable,
    Timeout,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::AccessDenied => "ACCESS_DENIED",
            Self::ResourceNotFound => "RESOURCE_NOT_FOUND",
            Self::ExternalIdMismatch => "EXTERNAL_ID_MISMATCH",
            Self::ExternalIdNotEnforced => "EXTERNAL_ID_NOT_ENFORCED",
            Self::MalformedCredentials => "MALFORMED_CREDENTIALS",
            Self::ProviderUnavailable => "PROVIDER_UNAVAILABLE",
            Self::Timeout => "TIMEOUT",
        }
    }
}

/// A classified probe failure. `retryable` failures (provider unreachable,
/// 5xx, throttling) are retried with backoff; the others end the validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFailure {
    pub code: ErrorCode,
    /// What happened, for people. Never a secret value.
    pub message: String,
    /// What to fix.
    pub hint: String,
    pub retryable: bool,
    pub missing_permissions: Vec<String>,
    pub scope_checks: Vec<ScopeCheck>,
    /// The provider's `Retry-After`, when it sent one with a 429 or 503.
    pub retry_after: Option<std::time::Duration>,
}

impl ProbeFailure {
    pub fn new(code: ErrorCode, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: hint.into(),
            retryable: false,
            missing_permissions: Vec::new(),
            scope_checks: Vec::new(),
            retry_after: None,
        }
    }

    /// A transient failure worth retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            retryable: true,
            ..Self::new(
                ErrorCode::ProviderUnavailable,
                message,
                "The provider did not answer; this is retried automatically.",
            )
        }
    }
}

/// What a probe needs to know about the job.
#[derive(Debug, Clone)]
pub struct ProbeRequest {
    pub provider: String,
    pub scopes: Vec<String>,
    /// AWS only.
    pub external_id: Option<String>,
    /// The connection's uid, for session names and the like.
    pub connection_id: String,
}

#[async_trait::async_trait]
pub trait Probe: Send + Sync + 'static {
    async fn probe(&self, request: &ProbeRequest, credentials: &SecretFields) -> Result<ProbeReport, ProbeFailure>;
}

/// A probe with a bound on how many of its calls run at once, so one slow
/// provider cannot take every worker slot, nor a burst hammer its API.
pub struct Bounded {
    inner: Arc<dyn Probe>,
    permits: tokio::sync::Semaphore,
}

impl Bounded {
    pub fn new(inner: Arc<dyn Probe>, limit: usize) -> Self {
        Self { inner, permits: tokio::sync::Semaphore::new(limit.max(1)) }
    }
}

#[async_trait::async_trait]
impl Probe for Bounded {
    async fn probe(&self, request: &ProbeRequest, credentials: &SecretFields) -> Result<ProbeReport, ProbeFailure> {
        let _permit = self.permits.acquire().await.map_err(|_| ProbeFailure::transient("worker shutting down"))?;
        self.inner.probe(request, credentials).await
    }
}

/// Probes by provider name (`aws`, `gcp`, …).
#[derive(Clone, Default)]
pub struct Probes(HashMap<String, Arc<dyn Probe>>);

impl Probes {
    pub fn with(mut self, provider: &str, probe: Arc<dyn Probe>) -> Self {
        self.0.insert(provider.to_owned(), probe);
        self
    }

    pub fn get(&self, provider: &str) -> Option<Arc<dyn Probe>> {
        self.0.get(provider).cloned()
    }

    /// The probes this build ships, aimed at the configured endpoints. A
    /// provider without a probe yet fails its jobs with a plain message:
    /// nothing pretends to have checked the credentials.
    pub fn production(config: &crate::config::WorkerConfig) -> Self {
        let (endpoints, timeout) = (&config.endpoints, config.probe_timeout());
        let client = http::client(timeout);
        let aws = aws::AwsProbe::new(endpoints.aws_endpoint.clone(), timeout)
            .with_external_id_check(config.aws_external_id_check);
        let probes = Self::default()
            .with("aws", Arc::new(aws))
            .with(
                "mongodb_atlas",
                Arc::new(mongodb_atlas::AtlasProbe { base: endpoints.atlas_base.clone(), client: client.clone() }),
            )
            .with(
                "gcp",
                Arc::new(gcp::GcpProbe {
                    token_url: endpoints.gcp_token_url.clone(),
                    api_base: endpoints.gcp_api_base.clone(),
                    client: client.clone(),
                }),
            )
            .with(
                "azure",
                Arc::new(azure::AzureProbe {
                    authority: endpoints.azure_authority.clone(),
                    arm_base: endpoints.azure_arm_base.clone(),
                    client: client.clone(),
                }),
            )
            .with("neo4j_aura", Arc::new(neo4j_aura::AuraProbe { base: endpoints.aura_base.clone(), client }));
        Self(
            probes
                .0
                .into_iter()
                .map(|(name, probe)| {
                    (name, Arc::new(Bounded::new(probe, config.probe_concurrency_per_provider)) as Arc<dyn Probe>)
                })
                .collect(),
        )
    }
}
