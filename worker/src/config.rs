//! The worker's configuration (docs/configuration.md).

use std::time::Duration;

use cloudconn_infra::config::{AmqpConfig, ConfigError, Findings, Source, TimeoutConfig, TransportConfig, VaultConfig};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct WorkerConfig {
    /// `CLOUDCONN_WORKER_CONCURRENCY`: probes in flight at once, default 32.
    #[serde(default = "default_concurrency")]
    pub worker_concurrency: usize,
    /// `CLOUDCONN_PROBE_TIMEOUT_MS`: bound on one probe attempt, default 20000.
    #[serde(default = "default_probe_timeout_ms")]
    pub probe_timeout_ms: u64,
    /// `CLOUDCONN_PROBE_ATTEMPTS`: attempts for retryable failures, default 3.
    #[serde(default = "default_probe_attempts")]
    pub probe_attempts: u32,
    /// `CLOUDCONN_PROBE_RETRY_BASE_MS`: first back-off between attempts
    /// (doubling), default 1000.
    #[serde(default = "default_retry_base_ms")]
    pub probe_retry_base_ms: u64,
    /// `CLOUDCONN_PROBE_CONCURRENCY_PER_PROVIDER`: probes of one provider in
    /// flight at once, default 64.
    #[serde(default = "default_per_provider")]
    pub probe_concurrency_per_provider: usize,
    /// `CLOUDCONN_METRICS_LISTEN`: address of `/metrics`, `/healthz`,
    /// `/readyz` (HTTP); unset = not served.
    #[serde(default)]
    pub metrics_listen: Option<String>,
    /// `CLOUDCONN_AWS_EXTERNAL_ID_CHECK`: what an AWS role whose trust
    /// policy accepts a foreign external id does to its validation, `fail`
    /// (default) or `warn`.
    #[serde(default)]
    pub aws_external_id_check: ExternalIdCheck,
    /// `CLOUDCONN_ATLAS_PROJECT_USER_CAP`: minting creates no new Atlas
    /// database user in a project that already has this many users (all of
    /// them, the customer's own included: Atlas's limit of 100 counts them
    /// all), default 90. Raise it only where Atlas raised the project's limit.
    #[serde(default = "default_atlas_project_user_cap")]
    pub atlas_project_user_cap: usize,
    /// `CLOUDCONN_ATLAS_USERS_PER_CONSUMER`: temporary Atlas users each
    /// (connection, revision, scope, consumer) takes turns with, 1–8,
    /// default 2 (blue/green: a refresh never changes the password of the
    /// user whose credentials are still out). Two per server replica that
    /// issues for the same consumer keeps that promise across replicas.
    #[serde(default = "default_atlas_users_per_consumer")]
    pub atlas_users_per_consumer: usize,
    /// Provider endpoints (`CLOUDCONN_AWS_ENDPOINT`, `CLOUDCONN_GCP_*`, …).
    #[serde(skip)]
    pub endpoints: Endpoints,
    /// The AWS identity the probe assumes roles with, when it is not the
    /// standard credential chain's: `--dev`'s provider sandbox sets it.
    /// Never read from the environment.
    #[serde(skip)]
    pub aws_platform_key: Option<PlatformKey>,
    /// The `CLOUDCONN_AMQP_*` section.
    #[serde(skip)]
    pub amqp: AmqpConfig,
    /// The `CLOUDCONN_VAULT_*` section (read-only token).
    #[serde(skip)]
    pub vault: VaultConfig,
    /// The `CLOUDCONN_OIDC_*` section: the tokens keyless connections use.
    #[serde(skip)]
    pub oidc: cloudconn_infra::config::OidcConfig,
    #[serde(skip)]
    pub timeouts: TimeoutConfig,
    /// The `CLOUDCONN_ALLOW_INSECURE_TRANSPORT` section.
    #[serde(skip)]
    pub transport: TransportConfig,
    /// `CLOUDCONN_VAULT_DENIED_REQUEUE_MS`: a job whose credential read
    /// Vault keeps refusing (401/403: our token expired or was revoked) is
    /// given back to the queue after this long instead of holding its slot,
    /// default 120000. (The token file is re-read on each refusal; see
    /// `CLOUDCONN_VAULT_TOKEN_FILE`.)
    #[serde(default = "default_vault_denied_requeue_ms")]
    pub vault_denied_requeue_ms: u64,
    /// `CLOUDCONN_VAULT_LIVENESS_MS`: `/healthz` fails (so Kubernetes
    /// restarts the worker) once jobs have been waiting on Vault and no read
    /// has succeeded for this long, default 300000 (5 min).
    #[serde(default = "default_vault_liveness_ms")]
    pub vault_liveness_ms: u64,
    /// `CLOUDCONN_ISSUE_MAX_TTL_MS`: the longest lifetime this worker mints
    /// credentials for, whatever a request asks (the server has the same
    /// cap; this one holds even for a request signed with a stolen key).
    #[serde(default = "default_issue_max_ttl_ms")]
    pub issue_max_ttl_ms: u64,
}

fn default_concurrency() -> usize {
    32
}
fn default_per_provider() -> usize {
    64
}
fn default_probe_timeout_ms() -> u64 {
    20_000
}
fn default_probe_attempts() -> u32 {
    3
}
fn default_retry_base_ms() -> u64 {
    1_000
}
fn default_atlas_project_user_cap() -> usize {
    crate::mint::mongodb_atlas::DEFAULT_PROJECT_USER_CAP
}
fn default_atlas_users_per_consumer() -> usize {
    crate::mint::mongodb_atlas::DEFAULT_USERS_PER_CONSUMER
}
fn default_vault_denied_requeue_ms() -> u64 {
    120_000
}
fn default_vault_liveness_ms() -> u64 {
    300_000
}
fn default_issue_max_ttl_ms() -> u64 {
    3_600_000
}

impl WorkerConfig {
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        Self::from_source(&Source::load(file, std::env::vars())?)
    }

    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let mut config: Self = source.section()?;
        config.endpoints = source.section()?;
        config.amqp = source.section()?;
        config.amqp.read_keys()?;
        config.vault = source.vault()?;
        config.timeouts = source.section()?;
        config.transport = source.section()?;
        config.oidc = source.section()?;
        Ok(config)
    }

    /// Checks the whole configuration, naming every variable at fault at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut found = Findings::default();
        if self.worker_concurrency == 0 {
            found.problem("CLOUDCONN_WORKER_CONCURRENCY must be at least 1");
        }
        if self.probe_attempts == 0 {
            found.problem("CLOUDCONN_PROBE_ATTEMPTS must be at least 1");
        }
        if self.atlas_project_user_cap == 0 {
            found.problem("CLOUDCONN_ATLAS_PROJECT_USER_CAP must be at least 1");
        }
        if !(1..=crate::mint::mongodb_atlas::MAX_USERS_PER_CONSUMER).contains(&self.atlas_users_per_consumer) {
            found.problem(format!(
                "CLOUDCONN_ATLAS_USERS_PER_CONSUMER must be 1 to {}",
                crate::mint::mongodb_atlas::MAX_USERS_PER_CONSUMER
            ));
        }
        found.check(self.endpoints.validate());
        found.check(self.amqp.validate());
        self.amqp.validate_transport(&self.transport, &mut found);
        found.check(self.vault.validate());
        found.check(self.oidc.validate(false));
        self.vault.validate_transport(&self.transport, &mut found);
        found.finish()
    }

    pub fn vault_denied_requeue(&self) -> Duration {
        Duration::from_millis(self.vault_denied_requeue_ms.max(1))
    }

    pub fn issue_max_ttl(&self) -> Duration {
        Duration::from_millis(self.issue_max_ttl_ms.max(1))
    }

    pub fn vault_liveness(&self) -> Duration {
        Duration::from_millis(self.vault_liveness_ms.max(1))
    }

    pub fn probe_timeout(&self) -> Duration {
        Duration::from_millis(self.probe_timeout_ms.max(1))
    }

    /// Back-off before attempt `attempt + 1`.
    pub fn retry_backoff(&self, attempt: u32) -> Duration {
        Duration::from_millis(self.probe_retry_base_ms) * 2u32.saturating_pow(attempt.saturating_sub(1).min(10))
    }
}

/// An AWS access key the worker signs as (see `aws_platform_key`).
#[derive(Debug, Clone)]
pub struct PlatformKey {
    pub access_key_id: String,
    pub secret_access_key: secrecy::SecretString,
}

/// The AWS confused-deputy check (`CLOUDCONN_AWS_EXTERNAL_ID_CHECK`): the
/// probe assumes the role with a random wrong external id, and if AWS lets
/// it in, the trust policy does not protect the role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExternalIdCheck {
    /// The validation fails with `EXTERNAL_ID_NOT_ENFORCED`.
    #[default]
    Fail,
    /// Only a warning on an otherwise successful validation: for AWS
    /// stand-ins that cannot evaluate trust policies (an open moto).
    Warn,
}

impl<'de> Deserialize<'de> for ExternalIdCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        match value.trim().to_ascii_lowercase().as_str() {
            "fail" => Ok(Self::Fail),
            "warn" => Ok(Self::Warn),
            _ => Err(serde::de::Error::custom(format!(
                "CLOUDCONN_AWS_EXTERNAL_ID_CHECK must be `fail` or `warn`, not {value:?}"
            ))),
        }
    }
}

/// Where the probes connect. Public defaults; overridden for sovereign
/// clouds and tests. Never taken from a user's credentials: a key file's
/// `token_uri` or a URL in a secret would let any caller aim the worker at
/// internal addresses.
#[derive(Debug, Clone, Deserialize)]
pub struct Endpoints {
    /// `CLOUDCONN_AWS_ENDPOINT`: one endpoint for STS and the scope checks; unset = AWS's own.
    #[serde(default)]
    pub aws_endpoint: Option<String>,
    /// `CLOUDCONN_GCP_TOKEN_URL`: Google's OAuth 2.0 token endpoint.
    #[serde(default = "default_gcp_token_url")]
    pub gcp_token_url: String,
    /// `CLOUDCONN_GCP_API_BASE`: base of Cloud Resource Manager v1.
    #[serde(default = "default_gcp_api_base")]
    pub gcp_api_base: String,
    /// `CLOUDCONN_GCP_IAM_BASE`: base of the IAM API (a key's expiry).
    #[serde(default = "default_gcp_iam_base")]
    pub gcp_iam_base: String,
    /// `CLOUDCONN_GCP_STS_URL`: Google's Security Token Service token
    /// endpoint (keyless: workload identity federation).
    #[serde(default = "default_gcp_sts_url")]
    pub gcp_sts_url: String,
    /// `CLOUDCONN_GCP_IAM_CREDENTIALS_BASE`: base of the IAM Service Account
    /// Credentials API (keyless: impersonating the service account).
    #[serde(default = "default_gcp_iam_credentials_base")]
    pub gcp_iam_credentials_base: String,
    /// `CLOUDCONN_AZURE_AUTHORITY`: Entra ID authority host.
    #[serde(default = "default_azure_authority")]
    pub azure_authority: String,
    /// `CLOUDCONN_AZURE_ARM_BASE`: Azure Resource Manager base.
    #[serde(default = "default_azure_arm_base")]
    pub azure_arm_base: String,
    /// `CLOUDCONN_AZURE_GRAPH_BASE`: Microsoft Graph base (a client
    /// secret's expiry).
    #[serde(default = "default_azure_graph_base")]
    pub azure_graph_base: String,
    /// `CLOUDCONN_ATLAS_BASE`: Atlas Administration API base.
    #[serde(default = "default_atlas_base")]
    pub atlas_base: String,
    /// `CLOUDCONN_AURA_BASE`: Aura API base (token endpoint at `<base>/oauth/token`).
    #[serde(default = "default_aura_base")]
    pub aura_base: String,
}

fn default_gcp_token_url() -> String {
    "https://oauth2.googleapis.com/token".into()
}
fn default_gcp_api_base() -> String {
    "https://cloudresourcemanager.googleapis.com".into()
}
fn default_gcp_iam_base() -> String {
    "https://iam.googleapis.com".into()
}
fn default_gcp_sts_url() -> String {
    "https://sts.googleapis.com/v1/token".into()
}
fn default_gcp_iam_credentials_base() -> String {
    "https://iamcredentials.googleapis.com".into()
}
fn default_azure_graph_base() -> String {
    "https://graph.microsoft.com".into()
}
fn default_azure_authority() -> String {
    "https://login.microsoftonline.com".into()
}
fn default_azure_arm_base() -> String {
    "https://management.azure.com".into()
}
fn default_atlas_base() -> String {
    "https://cloud.mongodb.com".into()
}
fn default_aura_base() -> String {
    "https://api.neo4j.io".into()
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            aws_endpoint: None,
            gcp_token_url: default_gcp_token_url(),
            gcp_api_base: default_gcp_api_base(),
            azure_authority: default_azure_authority(),
            azure_arm_base: default_azure_arm_base(),
            gcp_iam_base: default_gcp_iam_base(),
            gcp_sts_url: default_gcp_sts_url(),
            gcp_iam_credentials_base: default_gcp_iam_credentials_base(),
            azure_graph_base: default_azure_graph_base(),
            atlas_base: default_atlas_base(),
            aura_base: default_aura_base(),
        }
    }
}

impl Endpoints {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let all = [
            ("CLOUDCONN_AWS_ENDPOINT", self.aws_endpoint.as_deref()),
            ("CLOUDCONN_GCP_TOKEN_URL", Some(self.gcp_token_url.as_str())),
            ("CLOUDCONN_GCP_API_BASE", Some(self.gcp_api_base.as_str())),
            ("CLOUDCONN_AZURE_AUTHORITY", Some(self.azure_authority.as_str())),
            ("CLOUDCONN_AZURE_ARM_BASE", Some(self.azure_arm_base.as_str())),
            ("CLOUDCONN_GCP_IAM_BASE", Some(self.gcp_iam_base.as_str())),
            ("CLOUDCONN_GCP_STS_URL", Some(self.gcp_sts_url.as_str())),
            ("CLOUDCONN_GCP_IAM_CREDENTIALS_BASE", Some(self.gcp_iam_credentials_base.as_str())),
            ("CLOUDCONN_AZURE_GRAPH_BASE", Some(self.azure_graph_base.as_str())),
            ("CLOUDCONN_ATLAS_BASE", Some(self.atlas_base.as_str())),
            ("CLOUDCONN_AURA_BASE", Some(self.aura_base.as_str())),
        ];
        for (name, value) in all {
            let Some(value) = value else { continue };
            match url::Url::parse(value) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => return Err(ConfigError::Invalid(format!("{name} must be an http(s) URL"))),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_every_documented_variable() {
        // The openssl-made test keys beside the signing code.
        let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/src/amqp/testdata");
        let signing = keys.join("openssl-ed25519-key.pem").display().to_string();
        let peers = keys.join("openssl-ed25519-public.pem").display().to_string();
        let env = [
            ("CLOUDCONN_WORKER_CONCURRENCY", "7"),
            ("CLOUDCONN_PROBE_TIMEOUT_MS", "1500"),
            ("CLOUDCONN_PROBE_ATTEMPTS", "4"),
            ("CLOUDCONN_PROBE_RETRY_BASE_MS", "10"),
            ("CLOUDCONN_PROBE_CONCURRENCY_PER_PROVIDER", "5"),
            ("CLOUDCONN_METRICS_LISTEN", "0.0.0.0:9091"),
            ("CLOUDCONN_AMQP_URL", "amqp://127.0.0.1:5672/%2f"),
            ("CLOUDCONN_AMQP_PREFIX", "w"),
            ("CLOUDCONN_AMQP_SIGNING_KEY_FILE", signing.as_str()),
            ("CLOUDCONN_AMQP_PEER_KEYS_FILE", peers.as_str()),
            ("CLOUDCONN_ISSUE_MAX_TTL_MS", "1800000"),
            ("CLOUDCONN_VAULT_ADDR", "http://127.0.0.1:8200"),
            ("CLOUDCONN_VAULT_TOKEN", "t"),
            ("CLOUDCONN_AWS_ENDPOINT", "http://127.0.0.1:5000"),
            ("CLOUDCONN_GCP_TOKEN_URL", "http://127.0.0.1:1/token"),
            ("CLOUDCONN_GCP_API_BASE", "http://127.0.0.1:2"),
            ("CLOUDCONN_AZURE_AUTHORITY", "http://127.0.0.1:3"),
            ("CLOUDCONN_AZURE_ARM_BASE", "http://127.0.0.1:4"),
            ("CLOUDCONN_ATLAS_BASE", "http://127.0.0.1:5"),
            ("CLOUDCONN_AURA_BASE", "http://127.0.0.1:6"),
            ("CLOUDCONN_GCP_IAM_BASE", "http://127.0.0.1:7"),
            ("CLOUDCONN_AZURE_GRAPH_BASE", "http://127.0.0.1:8"),
            ("CLOUDCONN_VAULT_DENIED_REQUEUE_MS", "1500"),
            ("CLOUDCONN_VAULT_LIVENESS_MS", "2500"),
            ("CLOUDCONN_ALLOW_INSECURE_TRANSPORT", "true"),
            ("CLOUDCONN_AWS_EXTERNAL_ID_CHECK", "warn"),
            ("CLOUDCONN_ATLAS_PROJECT_USER_CAP", "40"),
            ("CLOUDCONN_ATLAS_USERS_PER_CONSUMER", "4"),
        ];
        let source = Source::load(None, env.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap();
        let c = WorkerConfig::from_source(&source).unwrap();
        c.validate().unwrap();
        assert_eq!(c.worker_concurrency, 7);
        assert_eq!(c.probe_timeout(), Duration::from_millis(1500));
        assert_eq!(c.probe_attempts, 4);
        assert_eq!(c.probe_concurrency_per_provider, 5);
        assert_eq!((c.atlas_project_user_cap, c.atlas_users_per_consumer), (40, 4));
        assert_eq!(c.metrics_listen.as_deref(), Some("0.0.0.0:9091"));
        assert_eq!(c.retry_backoff(1), Duration::from_millis(10));
        assert_eq!(c.retry_backoff(3), Duration::from_millis(40));
        assert_eq!(c.amqp.amqp_prefix, "w");
        assert!(c.amqp.keys.is_some(), "the key files are read");
        assert_eq!(c.issue_max_ttl(), Duration::from_secs(1800));
        assert_eq!(c.vault_denied_requeue(), Duration::from_millis(1500));
        assert_eq!(c.vault_liveness(), Duration::from_millis(2500));
        assert!(c.transport.allow_insecure_transport);
        assert_eq!(c.aws_external_id_check, ExternalIdCheck::Warn);
        let e = &c.endpoints;
        assert_eq!(e.aws_endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(
            [&e.gcp_token_url, &e.gcp_api_base, &e.azure_authority, &e.azure_arm_base, &e.atlas_base, &e.aura_base],
            [
                "http://127.0.0.1:1/token",
                "http://127.0.0.1:2",
                "http://127.0.0.1:3",
                "http://127.0.0.1:4",
                "http://127.0.0.1:5",
                "http://127.0.0.1:6"
            ]
        );
        assert_eq!([&e.gcp_iam_base, &e.azure_graph_base], ["http://127.0.0.1:7", "http://127.0.0.1:8"]);
    }

    fn load(env: &[(&str, &str)]) -> Result<WorkerConfig, ConfigError> {
        let source = Source::load(None, env.iter().map(|(k, v)| (k.to_string(), v.to_string())))?;
        WorkerConfig::from_source(&source)
    }

    #[test]
    fn the_external_id_check_fails_by_default_and_refuses_unknown_values() {
        assert_eq!(load(&[]).unwrap().aws_external_id_check, ExternalIdCheck::Fail);
        assert_eq!(
            load(&[("CLOUDCONN_AWS_EXTERNAL_ID_CHECK", "FAIL")]).unwrap().aws_external_id_check,
            ExternalIdCheck::Fail
        );
        let error = load(&[("CLOUDCONN_AWS_EXTERNAL_ID_CHECK", "off")]).unwrap_err().to_string();
        assert!(error.contains("CLOUDCONN_AWS_EXTERNAL_ID_CHECK must be `fail` or `warn`"), "{error}");
    }
}
