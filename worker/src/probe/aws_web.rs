//! AWS, keyless (kind `web_identity`): `AssumeRoleWithWebIdentity` with a
//! token cloudconn signed for the connection, instead of `AssumeRole` with
//! the platform's identity and an external id. The call is unsigned: the
//! token is the only credential, and no AWS identity of the worker's own
//! is needed.
//!
//! The confused-deputy check has a keyless form too: a second call with a
//! token for a random other connection (`sub`) of the same issuer and
//! audience. If AWS lets that in, the role's trust does not condition on
//! `sub`, so any cloudconn connection anywhere could assume it; the
//! validation fails as `EXTERNAL_ID_NOT_ENFORCED` does for the external id.

use aws_config::SdkConfig;
use aws_sdk_sts::error::ProvideErrorMetadata;

use super::{
    ErrorCode, ProbeFailure,
    aws::{Failure, classify},
};
use crate::keyless::Keyless;

/// The kind's name in a revision.
pub const KIND: &str = "web_identity";

/// The shortest session AssumeRoleWithWebIdentity allows.
const SESSION_SECONDS: i32 = 900;

/// The issuer without its scheme: how IAM names the provider and its
/// condition keys (`<host>:aud`, `<host>:sub`).
pub fn provider_host(keyless: &Keyless) -> String {
    let url = keyless.issuer_url();
    url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or(url).to_owned()
}

/// Assumes `role_arn` with a token for `keyless`'s connection, then checks
/// that a token for another connection is refused.
pub async fn assume_checked(
    base: &SdkConfig,
    keyless: &Keyless,
    role_arn: &str,
    session: &str,
) -> Result<(aws_sdk_sts::types::Credentials, Vec<String>), ProbeFailure> {
    let (creds, _) = assume(base, keyless, role_arn, session, None, SESSION_SECONDS).await?;
    let mut foreign = keyless.clone();
    foreign.subject.connection_id = format!("cloudconn-check-{}", uuid::Uuid::new_v4().simple());
    match assume(base, &foreign, role_arn, &format!("{session}-xcheck"), None, SESSION_SECONDS).await {
        Ok(_) => Err(ProbeFailure::new(
            ErrorCode::ExternalIdNotEnforced,
            format!(
                "the trust policy of {role_arn} lets any connection of cloudconn's issuer assume the role, not only \
                 this one, so anyone who knows the role ARN could link it through cloudconn"
            ),
            format!("{}, then validate again.", trust_condition(keyless)),
        )),
        Err(refused) if refused.code == ErrorCode::AccessDenied || refused.code == ErrorCode::InvalidCredentials => {
            Ok((creds, Vec::new()))
        }
        Err(other) => Err(other),
    }
}

/// What the trust policy must say, with this connection's values.
fn trust_condition(keyless: &Keyless) -> String {
    let host = provider_host(keyless);
    let aud = keyless.aws_audience();
    format!(
        "The role's trust policy must allow sts:AssumeRoleWithWebIdentity for the federated principal \
         arn:aws:iam::<account>:oidc-provider/{host} with the condition \"StringEquals\": {{\"{host}:aud\": \
         \"{aud}\", \"{host}:sub\": \"{}\"}} (this connection's subject, exactly)",
        keyless.sub()
    )
}

/// One `AssumeRoleWithWebIdentity`: the session credentials and the
/// assumed role's ARN, or what the refusal means.
pub async fn assume(
    base: &SdkConfig,
    keyless: &Keyless,
    role_arn: &str,
    session: &str,
    policy: Option<&str>,
    seconds: i32,
) -> Result<(aws_sdk_sts::types::Credentials, String), ProbeFailure> {
    match exchange(base, keyless, role_arn, session, policy, seconds).await? {
        Ok(assumed) => Ok(assumed),
        Err((refused, message)) => Err(failure(refused, &message, keyless, role_arn)),
    }
}

/// [`assume`], with AWS's refusal as it came (its class and message), for
/// a caller that reacts to one (minting retries a duration the role
/// refused). The outer error is the token's: it could not be signed.
pub(crate) async fn exchange(
    base: &SdkConfig,
    keyless: &Keyless,
    role_arn: &str,
    session: &str,
    policy: Option<&str>,
    seconds: i32,
) -> Result<Result<(aws_sdk_sts::types::Credentials, String), (Failure, String)>, ProbeFailure> {
    let token = keyless.token(keyless.aws_audience()).await?;
    let sts = aws_sdk_sts::Client::new(base);
    let answer = sts
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name(session)
        .web_identity_token(secrecy::ExposeSecret::expose_secret(&token))
        .set_policy(policy.map(str::to_owned))
        .duration_seconds(seconds)
        .send()
        .await;
    drop(token);
    let out = match answer {
        Ok(out) => out,
        Err(e) => return Ok(Err((classify(&e), e.message().unwrap_or_default().to_owned()))),
    };
    let creds = out.credentials().cloned().ok_or_else(|| ProbeFailure::transient("AWS returned no credentials"))?;
    Ok(Ok((creds, out.assumed_role_user().map(|u| u.arn().to_owned()).unwrap_or_default())))
}

/// What a refused exchange means, naming the claim or the trust to fix.
/// AWS words every refusal of the token itself `InvalidIdentityToken`
/// (its message says which check), and a trust policy that does not match
/// the token `AccessDenied`.
pub(crate) fn failure(failure: Failure, message: &str, keyless: &Keyless, role_arn: &str) -> ProbeFailure {
    let host = provider_host(keyless);
    let issuer = keyless.issuer_url();
    match failure {
        Failure::Transient(m) => ProbeFailure::transient(m),
        Failure::Refused(code) if code == "IDPCommunicationError" => {
            ProbeFailure::transient(format!("AWS could not fetch cloudconn's keys from {issuer}"))
        }
        Failure::Refused(code) if code == "ExpiredTokenException" => {
            ProbeFailure::transient("AWS took cloudconn's token for expired (a clock apart?)")
        }
        Failure::Refused(code) if code == "InvalidIdentityToken" && message.contains("OpenIDConnect provider") => {
            ProbeFailure::new(
                ErrorCode::InvalidCredentials,
                format!("the AWS account of {role_arn} has no OpenID Connect provider for cloudconn's issuer (iss)"),
                format!(
                    "Create an IAM OpenID Connect identity provider with the URL {issuer} and the audience {} in the \
                     role's account (see the setup kit), then validate again.",
                    keyless.aws_audience()
                ),
            )
        }
        Failure::Refused(code) if code == "InvalidIdentityToken" && message.contains("audience") => ProbeFailure::new(
            ErrorCode::InvalidCredentials,
            "AWS refused the audience (aud) of cloudconn's token",
            format!(
                "Add {} to the audiences (client IDs) of the OpenID Connect provider {host}, then validate again.",
                keyless.aws_audience()
            ),
        ),
        Failure::Refused(code) if code == "InvalidIdentityToken" => ProbeFailure::new(
            ErrorCode::InvalidCredentials,
            "AWS could not verify cloudconn's token against the issuer's keys (iss)",
            format!(
                "AWS fetches them from {issuer}/.well-known/jwks.json: the OpenID Connect provider {host} must be \
                 that issuer, reachable from AWS. Then validate again."
            ),
        ),
        Failure::Refused(code) if super::aws::is_denied(&code) => ProbeFailure::new(
            ErrorCode::AccessDenied,
            format!("AWS refused to let this connection (sub) assume {role_arn}"),
            format!("{}, then validate again.", trust_condition(keyless)),
        ),
        Failure::Refused(code) => ProbeFailure::new(
            ErrorCode::InvalidCredentials,
            format!("AWS refused the role ({code})"),
            "Check the role ARN: the role must exist and trust cloudconn's OpenID Connect provider.",
        ),
    }
}
