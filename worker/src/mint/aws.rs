//! AWS: `AssumeRole` on the customer's role, like the probe (same SDK
//! configuration, platform identity and endpoint), narrowed to the scope:
//! - `ExternalId`: the connection's (the trust policy's `sts:ExternalId`);
//! - `RoleSessionName`: `cc-<consumer>`, sanitised to what IAM allows, so
//!   CloudTrail and the assumed-role ARN name who uses the session;
//! - `Policy`: the scope's inline session policy (the run-time grant
//!   table's actions, Resource `*`): the session may do what both the
//!   role's policies and this one allow;
//! - `DurationSeconds`: the TTL within what `AssumeRole` takes
//!   ([`MIN_SECONDS`], [`MAX_SECONDS`]); a role whose `MaxSessionDuration`
//!   is shorter than a TTL over an hour gets an hour (every role allows one).

use aws_sdk_sts::operation::assume_role::AssumeRoleOutput;
use chrono::{DateTime, Utc};
use cloudconn_infra::{
    amqp::issue::{Minted, WireSecret},
    secrets::SecretFields,
};

use super::{Mint, MintRequest, MintedCredentials, field, grant, wrong_kind};
use crate::probe::{
    ErrorCode, ProbeFailure,
    aws::{AwsProbe, Failure, assume_role_failure, classify},
    aws_web,
};

/// `AssumeRole`'s shortest session.
pub const MIN_SECONDS: u64 = 900;
/// `AssumeRole`'s longest session (a role's `MaxSessionDuration` at most).
pub const MAX_SECONDS: u64 = 43_200;
/// What every role allows (the lowest `MaxSessionDuration`).
const ANY_ROLE_SECONDS: u64 = 3_600;
/// The region reported when the platform's configuration names none (STS
/// is global; the region only matters to sign with).
const DEFAULT_REGION: &str = "us-east-1";

pub struct AwsMinter {
    /// The probe's SDK configuration and platform identity.
    platform: AwsProbe,
}

impl AwsMinter {
    pub fn new(platform: AwsProbe) -> Self {
        Self { platform }
    }
}

/// `cc-<consumer>` as IAM takes a role session name: `[\w+=,.@-]`, 2 to 64
/// characters. Anything else (the consumer's `/`) becomes `-`; a longer
/// name is cut at 64.
pub fn session_name(consumer: &str) -> String {
    let mut name = String::from("cc-");
    name.extend(
        consumer
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-') { c } else { '-' }
            })
            .take(64 - name.len()),
    );
    name
}

/// The TTL as `DurationSeconds`.
pub fn duration_seconds(ttl: std::time::Duration) -> u64 {
    ttl.as_secs().clamp(MIN_SECONDS, MAX_SECONDS)
}

/// The role refused the duration (longer than its `MaxSessionDuration`).
fn duration_refused(failure: &Failure) -> bool {
    matches!(failure, Failure::Refused(code) if code == "ValidationError")
}

impl AwsMinter {
    async fn assume(
        &self,
        sts: &aws_sdk_sts::Client,
        role_arn: &str,
        session: &str,
        external_id: &str,
        policy: &str,
        seconds: u64,
    ) -> Result<AssumeRoleOutput, Failure> {
        sts.assume_role()
            .role_arn(role_arn)
            .role_session_name(session)
            .external_id(external_id)
            .policy(policy)
            .duration_seconds(i32::try_from(seconds).unwrap_or(ANY_ROLE_SECONDS as i32))
            .send()
            .await
            .map_err(|e| classify(&e))
    }
}

#[async_trait::async_trait]
impl Mint for AwsMinter {
    async fn mint(&self, request: &MintRequest, credentials: &SecretFields) -> Result<MintedCredentials, ProbeFailure> {
        let policy = grant(request)?.session_policy().ok_or_else(|| wrong_kind(request, "an AWS session"))?;
        let role_arn = field(credentials, "role_arn");
        if crate::keyless::kind(credentials) == aws_web::KIND {
            return self.mint_keyless(request, &role_arn, &policy).await;
        }
        let Some(external_id) = request.external_id.as_deref().filter(|id| !id.is_empty()) else {
            return Err(ProbeFailure::new(
                ErrorCode::MalformedCredentials,
                "the issue request carries no external id for the AWS connection",
                "This is a cloudconn fault, not the connection's: report it to the cloudconn operators.",
            ));
        };
        let session = session_name(&request.consumer);
        let base = self.platform.base().await;
        self.platform.check_identity(base).await?;
        let sts = aws_sdk_sts::Client::new(base);

        let seconds = duration_seconds(request.ttl);
        let assumed = match self.assume(&sts, &role_arn, &session, external_id, &policy, seconds).await {
            Err(failure) if seconds > ANY_ROLE_SECONDS && duration_refused(&failure) => {
                self.assume(&sts, &role_arn, &session, external_id, &policy, ANY_ROLE_SECONDS).await
            }
            other => other,
        }
        .map_err(|failure| assume_role_failure(failure, &role_arn, external_id))?;

        let Some(creds) = assumed.credentials() else {
            return Err(ProbeFailure::transient("AssumeRole returned no credentials"));
        };
        let assumed_role_arn = assumed.assumed_role_user().map(|u| u.arn().to_owned()).unwrap_or_default();
        minted(base, creds, assumed_role_arn)
    }
}

/// A role session as the run step hands it out.
fn minted(
    base: &aws_config::SdkConfig,
    creds: &aws_sdk_sts::types::Credentials,
    assumed_role_arn: String,
) -> Result<MintedCredentials, ProbeFailure> {
    let expiration = creds.expiration();
    let expire_time = DateTime::<Utc>::from_timestamp(expiration.secs(), expiration.subsec_nanos())
        .ok_or_else(|| ProbeFailure::transient("AWS returned an unreadable expiration"))?;
    let region = base.region().map_or(DEFAULT_REGION.to_owned(), |r| r.to_string());
    Ok(MintedCredentials {
        expire_time,
        credentials: Minted::AwsSession {
            access_key_id: creds.access_key_id().to_owned(),
            secret_access_key: WireSecret::new(creds.secret_access_key()),
            session_token: WireSecret::new(creds.session_token()),
            region,
            assumed_role_arn,
        },
    })
}

impl AwsMinter {
    /// Keyless: `AssumeRoleWithWebIdentity` with the same session name,
    /// session policy and duration rules as `AssumeRole`.
    async fn mint_keyless(
        &self,
        request: &MintRequest,
        role_arn: &str,
        policy: &str,
    ) -> Result<MintedCredentials, ProbeFailure> {
        let keyless = crate::keyless::required(&request.keyless)?;
        let base = self.platform.base().await;
        let session = session_name(&request.consumer);
        let seconds = duration_seconds(request.ttl);
        let secs = |s: u64| i32::try_from(s).unwrap_or(ANY_ROLE_SECONDS as i32);
        let (creds, assumed_role_arn) =
            match aws_web::exchange(base, keyless, role_arn, &session, Some(policy), secs(seconds)).await? {
                // The same retry as `AssumeRole`'s, on the same refusal.
                Err((refused, _)) if seconds > ANY_ROLE_SECONDS && duration_refused(&refused) => {
                    aws_web::assume(base, keyless, role_arn, &session, Some(policy), secs(ANY_ROLE_SECONDS)).await?
                }
                Err((refused, message)) => return Err(aws_web::failure(refused, &message, keyless, role_arn)),
                Ok(assumed) => assumed,
            };
        minted(base, &creds, assumed_role_arn)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn session_names_keep_what_iam_allows_and_replace_the_rest() {
        assert_eq!(session_name("billing-api/prd"), "cc-billing-api-prd");
        assert_eq!(session_name("a_b+c=d,e.f@g-h"), "cc-a_b+c=d,e.f@g-h");
        assert_eq!(session_name("dé jà:vu*"), "cc-d--j--vu-");
        assert_eq!(session_name(""), "cc-");
        let long = session_name(&"x".repeat(64));
        assert_eq!((long.len(), &long[..4]), (64, "cc-x"));
        // What IAM accepts: ^[\w+=,.@-]{2,64}$.
        for consumer in ["billing-api/prd", "ü/ß\u{0}\n", &"é".repeat(70), "a@b.c"] {
            let name = session_name(consumer);
            assert!((2..=64).contains(&name.len()), "{name}");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)), "{name}");
        }
    }

    #[test]
    fn the_duration_is_the_ttl_within_what_assume_role_takes() {
        assert_eq!(duration_seconds(Duration::from_secs(0)), 900);
        assert_eq!(duration_seconds(Duration::from_secs(60)), 900);
        assert_eq!(duration_seconds(Duration::from_secs(1800)), 1800);
        assert_eq!(duration_seconds(Duration::from_secs(3600)), 3600);
        assert_eq!(duration_seconds(Duration::from_secs(7 * 86_400)), 43_200);
    }

    /// The policy `AssumeRole` receives for each scope: the run-time grant
    /// table's actions, on every resource, and nothing else.
    #[test]
    fn each_scope_sends_its_session_policy() {
        let request = |scope: &str| MintRequest {
            provider: "aws".into(),
            scope: scope.into(),
            consumer: "c".into(),
            ttl: Duration::from_secs(900),
            external_id: None,
            connection_id: String::new(),
            revision: 1,
            keyless: None,
        };
        let policy = |scope: &str| -> serde_json::Value {
            serde_json::from_str(&grant(&request(scope)).unwrap().session_policy().unwrap()).unwrap()
        };
        let statement = |actions: serde_json::Value| serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]});
        assert_eq!(policy("storage"), statement(serde_json::json!(["s3:*"])));
        assert_eq!(policy("database"), statement(serde_json::json!(["rds:*", "rds-db:connect", "dynamodb:*"])));
        assert_eq!(policy("messaging"), statement(serde_json::json!(["sqs:*", "sns:*"])));
        assert_eq!(policy("functions"), statement(serde_json::json!(["lambda:*"])));
        assert_eq!(grant(&request("nope")).unwrap_err().code, ErrorCode::AccessDenied);
    }
}
