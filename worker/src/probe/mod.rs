//! The probe interface: one implementation per provider, selected by the
//! job's provider. A probe reads nothing but the credentials it is given and
//! the endpoints it was configured with, and answers with what it found or a
//! classified failure. One file per provider; [`Probes::production`] lists
//! the ones this build ships.

pub mod aws;
pub mod aws_web;
pub mod azure;
pub mod azure_federated;
pub mod expiry;
pub mod gcp;
pub mod gcp_federation;
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

/// Validation error codes (docs/api.md, Validations).
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
    /// Issuing only: the provider-side objects minting makes are at their
    /// cap (Atlas database users per project).
    QuotaExceeded,
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
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
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
    /// When this attempt's time is up (the worker's probe timeout); the
    /// extras after the checks (`expiry.rs`) stay within it.
    pub deadline: Option<tokio::time::Instant>,
    /// How to sign tokens for this connection, for a keyless revision.
    pub keyless: Option<crate::keyless::Keyless>,
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

/// Probes by provider name (`aws`, `gcp`, …), and the issuer keyless
/// connections' tokens come from.
#[derive(Clone, Default)]
pub struct Probes(HashMap<String, Arc<dyn Probe>>, Option<Arc<cloudconn_infra::oidc::Issuer>>);

impl Probes {
    /// Signs keyless connections' tokens with `issuer`.
    pub fn keyless(mut self, issuer: Option<Arc<cloudconn_infra::oidc::Issuer>>) -> Self {
        self.1 = issuer;
        self
    }

    pub fn issuer(&self) -> Option<Arc<cloudconn_infra::oidc::Issuer>> {
        self.1.clone()
    }

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
        let probes = Self::default()
            .with("aws", Arc::new(aws::AwsProbe::from_config(config)))
            .with(
                "mongodb_atlas",
                Arc::new(mongodb_atlas::AtlasProbe { base: endpoints.atlas_base.clone(), client: client.clone() }),
            )
            .with("gcp", Arc::new(gcp::GcpProbe::new(endpoints, client.clone())))
            .with(
                "azure",
                Arc::new(azure::AzureProbe {
                    authority: endpoints.azure_authority.clone(),
                    arm_base: endpoints.azure_arm_base.clone(),
                    graph_base: endpoints.azure_graph_base.clone(),
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
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use secrecy::SecretString;

    use super::*;

    /// Credentials read from Vault are re-checked before they go into a URL
    /// or a header (security review L8): a value the server's patterns
    /// would refuse ends as MALFORMED_CREDENTIALS before any request. The
    /// endpoints are a closed port, so a request sent would end as a
    /// transient failure instead.
    #[tokio::test]
    async fn unsafe_values_from_the_secret_store_are_refused_before_any_request() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let base = format!("http://{closed}");
        let endpoints = crate::config::Endpoints {
            gcp_token_url: format!("{base}/token"),
            gcp_api_base: base.clone(),
            azure_authority: base.clone(),
            azure_arm_base: base.clone(),
            atlas_base: base.clone(),
            aura_base: base.clone(),
            ..Default::default()
        };
        let client = http::client(Duration::from_secs(2));
        let key = include_str!("../../../tests/fixtures/gcp-test-key.pem");
        let key_file = serde_json::json!({
            "type": "service_account", "client_email": "a@b.iam.gserviceaccount.com", "private_key": key,
        })
        .to_string();
        let guid = "11111111-2222-3333-4444-555555555555";
        let cases: [(Arc<dyn Probe>, &str, Vec<(&str, &str)>); 5] = [
            (
                Arc::new(mongodb_atlas::AtlasProbe { base: endpoints.atlas_base.clone(), client: client.clone() }),
                "atlas_public_key",
                vec![
                    ("project_id", "5f1b2c3d4e5f6a7b8c9d0e1f"),
                    ("atlas_public_key", "abcdefgh\", realm=\"x"),
                    ("atlas_private_key", "p"),
                ],
            ),
            (
                Arc::new(mongodb_atlas::AtlasProbe { base: endpoints.atlas_base.clone(), client: client.clone() }),
                "project_id",
                vec![("project_id", "../../admin"), ("atlas_public_key", "abcdefgh"), ("atlas_private_key", "p")],
            ),
            (
                Arc::new(neo4j_aura::AuraProbe { base: endpoints.aura_base.clone(), client: client.clone() }),
                "aura_client_id",
                vec![("aura_client_id", "id\r\nX-Injected: 1"), ("aura_client_secret", "s")],
            ),
            (
                Arc::new(azure::AzureProbe {
                    authority: endpoints.azure_authority.clone(),
                    arm_base: endpoints.azure_arm_base.clone(),
                    graph_base: endpoints.azure_graph_base.clone(),
                    client: client.clone(),
                }),
                "tenant_id",
                vec![
                    ("tenant_id", "common/oauth2/v2.0/token?x="),
                    ("subscription_id", guid),
                    ("client_id", guid),
                    ("client_secret", "s"),
                ],
            ),
            (
                Arc::new(gcp::GcpProbe::new(&endpoints, client.clone())),
                "project_id",
                vec![("project_id", "p/../../other"), ("service_account_json", &key_file)],
            ),
        ];
        let request = ProbeRequest {
            provider: String::new(),
            scopes: vec!["database".into()],
            external_id: None,
            connection_id: "c".into(),
            deadline: None,
            keyless: None,
        };
        for (probe, field, values) in cases {
            let credentials: SecretFields =
                values.into_iter().map(|(k, v)| (k.to_owned(), SecretString::from(v.to_owned()))).collect();
            let failure = probe.probe(&request, &credentials).await.unwrap_err();
            assert_eq!(
                (failure.code, failure.retryable),
                (ErrorCode::MalformedCredentials, false),
                "{field}: {failure:?}"
            );
            assert!(failure.message.contains(field), "{field}: {}", failure.message);
        }
    }
}
