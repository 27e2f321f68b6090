//! AWS: cross-account role assumption, with the official SDK.
//!
//! The platform's own identity comes from the standard credential chain
//! (environment, shared config, web identity, ECS/EC2 metadata). With it:
//! 1. `AssumeRole` on the customer's role with `ExternalId` = the
//!    connection's external id, a recognisable session name and the
//!    shortest duration (15 min). AccessDenied here means the trust policy
//!    does not let us in with that external id: the hint says exactly what
//!    the policy must contain.
//! 2. The confused-deputy check: `AssumeRole` again with a random *wrong*
//!    external id, which is what another tenant submitting this role's ARN
//!    would make cloudconn do. If AWS lets that in, the trust policy does
//!    not protect the role (no `sts:ExternalId` condition, or one like
//!    `StringLike "*"`): the validation fails with EXTERNAL_ID_NOT_ENFORCED
//!    and a hint quoting the condition to add
//!    (`CLOUDCONN_AWS_EXTERNAL_ID_CHECK=warn` makes it a warning instead).
//! 3. `GetCallerIdentity` with the assumed credentials (account, role ARN).
//! 4. One read-only call per permission a requested scope needs.
//!
//! `CLOUDCONN_AWS_ENDPOINT` (moto in tests) replaces every endpoint.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_sts::config::Credentials;
use aws_smithy_http_client::tls;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;

mod errors;

use self::errors::no_identity;
pub(crate) use self::errors::{Failure, assume_role_failure, classify, is_denied};
use super::{ErrorCode, Probe, ProbeFailure, ProbeReport, ProbeRequest};
use crate::config::ExternalIdCheck;
use cloudconn_infra::{amqp::messages::ScopeCheck, permissions, secrets::SecretFields};

/// The shortest session AssumeRole allows.
const SESSION_SECONDS: i32 = 900;

pub struct AwsProbe {
    /// `CLOUDCONN_AWS_ENDPOINT`, if set.
    pub endpoint: Option<String>,
    pub timeout: Duration,
    /// `CLOUDCONN_AWS_EXTERNAL_ID_CHECK`.
    external_id_check: ExternalIdCheck,
    /// The platform's own keys when they do not come from the standard
    /// chain (an embedding program, the IAM-enforcing moto in the tests).
    platform: Option<Credentials>,
    /// The platform's configuration, loaded once from the credential chain.
    base: OnceCell<SdkConfig>,
    /// Set once the chain has yielded an identity; until then each
    /// validation checks first (an operator may fix it without a restart).
    identity_found: OnceCell<()>,
}

impl AwsProbe {
    pub fn new(endpoint: Option<String>, timeout: Duration) -> Self {
        Self {
            endpoint,
            timeout,
            external_id_check: ExternalIdCheck::Fail,
            platform: None,
            base: OnceCell::new(),
            identity_found: OnceCell::new(),
        }
    }

    /// The probe the worker's configuration describes: its AWS endpoint,
    /// probe timeout, external-id check and platform key (the minter signs
    /// its `AssumeRole` calls with the same identity).
    pub fn from_config(config: &crate::config::WorkerConfig) -> Self {
        let mut aws = Self::new(config.endpoints.aws_endpoint.clone(), config.probe_timeout())
            .with_external_id_check(config.aws_external_id_check);
        if let Some(key) = &config.aws_platform_key {
            aws = aws.with_platform_key(&key.access_key_id, &key.secret_access_key);
        }
        aws
    }

    /// What an unenforced external id does to the validation (default: fail).
    pub fn with_external_id_check(mut self, check: ExternalIdCheck) -> Self {
        self.external_id_check = check;
        self
    }

    /// Signs as this access key instead of the standard credential chain.
    pub fn with_platform_key(mut self, access_key_id: &str, secret_access_key: &SecretString) -> Self {
        self.platform =
            Some(Credentials::new(access_key_id, secret_access_key.expose_secret(), None, None, "cloudconn-platform"));
        self
    }

    /// The platform's SDK configuration (the probe's and minting's).
    pub(crate) async fn base(&self) -> &SdkConfig {
        self.base
            .get_or_init(|| async {
                // HTTPS through rustls on ring, like the rest of cloudconn.
                let http = aws_smithy_http_client::Builder::new()
                    .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
                    .build_https();
                let mut loader = aws_config::defaults(BehaviorVersion::latest())
                    .http_client(http)
                    .timeout_config(TimeoutConfig::builder().operation_attempt_timeout(self.timeout).build())
                    // The worker retries transient failures itself (with its
                    // own budget); SDK retries on top would multiply it.
                    .retry_config(RetryConfig::disabled());
                if let Some(endpoint) = &self.endpoint {
                    loader = loader.endpoint_url(endpoint);
                }
                if let Some(platform) = &self.platform {
                    loader = loader.credentials_provider(platform.clone());
                }
                let config = loader.load().await;
                // STS is global; a region is only needed to sign.
                if config.region().is_none() {
                    config.to_builder().region(Region::new("us-east-1")).build()
                } else {
                    config
                }
            })
            .await
    }
}

impl AwsProbe {
    /// Whether the worker has an AWS identity of its own to call STS with.
    /// Without one (no keys in the environment or shared config, no web
    /// identity, no instance role) every call fails the same way, which the
    /// SDK reports as "could not reach AWS" after a page of warnings; this
    /// says what it is: the operators' problem, not the connection's.
    pub(crate) async fn check_identity(&self, base: &SdkConfig) -> Result<(), ProbeFailure> {
        use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError};
        if self.identity_found.get().is_some() {
            return Ok(());
        }
        let Some(provider) = base.credentials_provider() else { return Err(no_identity()) };
        match provider.provide_credentials().await {
            Ok(_) => {
                let _ = self.identity_found.set(());
                Ok(())
            }
            Err(CredentialsError::CredentialsNotLoaded(_)) => {
                tracing::warn!(
                    "the worker has no AWS identity (no AWS_* keys, shared config, web identity or instance role)"
                );
                Err(no_identity())
            }
            Err(e) => Err(ProbeFailure::transient(format!("cannot load the worker's AWS identity: {e}"))),
        }
    }
}

macro_rules! scope_call {
    ($fut:expr, $permission:expr, $missing:ident) => {
        match $fut.await {
            Ok(_) => {}
            Err(e) => match classify(&e) {
                Failure::Transient(m) => return Err(ProbeFailure::transient(m)),
                Failure::Refused(code) if is_denied(&code) => $missing.push($permission.to_string()),
                Failure::Refused(code) => {
                    return Err(ProbeFailure::transient(format!("{} failed: {code}", $permission)))
                }
            },
        }
    };
}

/// Assumes the role with a random external id that is not the
/// connection's: `true` if AWS refused (the trust policy checks the id),
/// `false` if it let cloudconn in.
async fn foreign_external_id_refused(
    sts: &aws_sdk_sts::Client,
    role_arn: &str,
    session: &str,
) -> Result<bool, ProbeFailure> {
    let foreign = format!("cloudconn-check-{}", uuid::Uuid::new_v4().simple());
    let attempt = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(format!("{session}-xcheck"))
        .external_id(foreign)
        .duration_seconds(SESSION_SECONDS)
        .send()
        .await;
    match attempt {
        Ok(_) => Ok(false),
        Err(e) => match classify(&e) {
            Failure::Refused(code) if is_denied(&code) => Ok(true),
            Failure::Transient(m) => Err(ProbeFailure::transient(m)),
            // Neither a yes nor a no: never count it as enforced.
            Failure::Refused(code) => {
                Err(ProbeFailure::transient(format!("the external-id check got {code} from AWS")))
            }
        },
    }
}

#[async_trait::async_trait]
impl Probe for AwsProbe {
    async fn probe(&self, request: &ProbeRequest, credentials: &SecretFields) -> Result<ProbeReport, ProbeFailure> {
        let role_arn = credentials.get("role_arn").map(|v| v.expose_secret().to_owned()).unwrap_or_default();
        let session = format!("cloudconn-validate-{}", request.connection_id.chars().take(8).collect::<String>());
        let base = self.base().await;
        let (creds, warnings) = if crate::keyless::kind(credentials) == super::aws_web::KIND {
            let keyless = crate::keyless::required(&request.keyless)?;
            super::aws_web::assume_checked(base, keyless, &role_arn, &session).await?
        } else {
            self.assume_with_external_id(base, request, &role_arn, &session).await?
        };
        self.check_scopes(base, &creds, request, warnings).await
    }
}

impl AwsProbe {
    /// Steps 1 and 2: the role assumed with the connection's external id,
    /// and the confused-deputy check.
    async fn assume_with_external_id(
        &self,
        base: &SdkConfig,
        request: &ProbeRequest,
        role_arn: &str,
        session: &str,
    ) -> Result<(aws_sdk_sts::types::Credentials, Vec<String>), ProbeFailure> {
        let (role_arn, session) = (role_arn.to_owned(), session.to_owned());
        let external_id = request.external_id.clone().unwrap_or_default();
        self.check_identity(base).await?;
        let sts = aws_sdk_sts::Client::new(base);

        let assumed = match sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(&session)
            .external_id(&external_id)
            .duration_seconds(SESSION_SECONDS)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => return Err(assume_role_failure(classify(&e), &role_arn, &external_id)),
        };
        let Some(creds) = assumed.credentials() else {
            return Err(ProbeFailure::transient("AssumeRole returned no credentials"));
        };

        // Before anything else is reported about the role: a role anyone can
        // link must not become ACTIVE (nor have its permissions mapped).
        let mut warnings = Vec::new();
        if !foreign_external_id_refused(&sts, &role_arn, &session).await? {
            let condition = format!("\"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"{external_id}\"}}}}");
            let risk = format!(
                "the trust policy of {role_arn} lets cloudconn assume the role with an external id that is not \
                 this connection's, so anyone who knows the role ARN could link it through cloudconn (confused deputy)"
            );
            let fix = format!(
                "Add {condition} to the trust-policy statement that allows cloudconn's AWS account to call \
                 sts:AssumeRole (this connection's external id, exactly)"
            );
            match self.external_id_check {
                ExternalIdCheck::Fail => {
                    return Err(ProbeFailure::new(
                        ErrorCode::ExternalIdNotEnforced,
                        risk,
                        format!("{fix}, then validate again."),
                    ));
                }
                ExternalIdCheck::Warn => warnings.push(format!("The external id is not enforced: {risk}. {fix}.")),
            }
        }
        Ok((creds.clone(), warnings))
    }

    /// Steps 3 and 4, with the role's session credentials.
    async fn check_scopes(
        &self,
        base: &SdkConfig,
        creds: &aws_sdk_sts::types::Credentials,
        request: &ProbeRequest,
        warnings: Vec<String>,
    ) -> Result<ProbeReport, ProbeFailure> {
        let assumed_config = base
            .to_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(Credentials::new(
                creds.access_key_id(),
                creds.secret_access_key(),
                Some(creds.session_token().to_owned()),
                None,
                "cloudconn-assumed-role",
            )))
            .build();

        let me =
            aws_sdk_sts::Client::new(&assumed_config).get_caller_identity().send().await.map_err(
                |e| match classify(&e) {
                    Failure::Transient(m) => ProbeFailure::transient(m),
                    Failure::Refused(code) => ProbeFailure::transient(format!("GetCallerIdentity failed: {code}")),
                },
            )?;

        let mut scope_checks = Vec::new();
        for scope in &request.scopes {
            let mut missing: Vec<String> = Vec::new();
            // One read-only call per permission the shared table lists for
            // the scope (what the setup kit grants).
            for permission in permissions::for_scope("aws", scope) {
                match *permission {
                    "s3:ListAllMyBuckets" => {
                        let s3 = aws_sdk_s3::Client::new(&assumed_config);
                        scope_call!(s3.list_buckets().send(), permission, missing);
                    }
                    "rds:DescribeDBInstances" => {
                        let rds = aws_sdk_rds::Client::new(&assumed_config);
                        scope_call!(rds.describe_db_instances().max_records(20).send(), permission, missing);
                    }
                    "dynamodb:ListTables" => {
                        let dynamodb = aws_sdk_dynamodb::Client::new(&assumed_config);
                        scope_call!(dynamodb.list_tables().limit(1).send(), permission, missing);
                    }
                    "sqs:ListQueues" => {
                        let sqs = aws_sdk_sqs::Client::new(&assumed_config);
                        scope_call!(sqs.list_queues().max_results(1).send(), permission, missing);
                    }
                    "sns:ListTopics" => {
                        let sns = aws_sdk_sns::Client::new(&assumed_config);
                        scope_call!(sns.list_topics().send(), permission, missing);
                    }
                    "lambda:ListFunctions" => {
                        let lambda = aws_sdk_lambda::Client::new(&assumed_config);
                        scope_call!(lambda.list_functions().max_items(1).send(), permission, missing);
                    }
                    // A permission added to the table without its check here
                    // is never reported granted.
                    other => missing.push(format!("{other} (this worker cannot check it)")),
                }
            }
            if permissions::for_scope("aws", scope).is_empty() {
                missing.push(format!("unknown scope {scope}"));
            }
            scope_checks.push(ScopeCheck {
                scope: scope.clone(),
                granted: missing.is_empty(),
                missing_permissions: missing,
            });
        }

        let mut report = ProbeReport { scope_checks, ..Default::default() };
        report.identity.insert("account_id".into(), me.account().unwrap_or_default().to_owned());
        report.identity.insert("arn".into(), me.arn().unwrap_or_default().to_owned());

        report.warnings.extend(warnings);
        Ok(report)
    }
}
