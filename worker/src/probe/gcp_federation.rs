//! Google Cloud, keyless (kind `workload_identity`): workload identity
//! federation instead of a key file.
//!
//! 1. Sign a token for the connection addressed to the workload identity
//!    provider (`//iam.googleapis.com/<provider's resource name>`).
//! 2. Exchange it at Google's STS (RFC 8693 token exchange) for a federated
//!    access token.
//! 3. Impersonate the service account with it (IAM Credentials
//!    `generateAccessToken`) for the OAuth scope wanted.
//!
//! The service account's token is then used exactly like one from a key.
//! Refusals name what to fix: the provider's allowed audience (`aud`), its
//! attribute condition (`sub`), its issuer (`iss`), or the binding that lets
//! the federated identity impersonate the service account.

use chrono::{DateTime, Utc};
use reqwest::{Client, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{ErrorCode, ProbeFailure, http, oauth::IssuedToken};
use crate::keyless::Keyless;

const PROVIDER: &str = "Google Cloud";
/// The kind's name in a revision.
pub const KIND: &str = "workload_identity";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
/// What the federated token may do: only impersonate (Google requires
/// `cloud-platform` or `iam` for `generateAccessToken`).
const FEDERATED_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Where the exchange happens (`CLOUDCONN_GCP_STS_URL`,
/// `CLOUDCONN_GCP_IAM_CREDENTIALS_BASE`).
#[derive(Clone)]
pub struct Federation {
    pub sts_url: String,
    pub iam_credentials_base: String,
}

impl Federation {
    pub fn new(endpoints: &crate::config::Endpoints) -> Self {
        Self {
            sts_url: endpoints.gcp_sts_url.clone(),
            iam_credentials_base: endpoints.gcp_iam_credentials_base.clone(),
        }
    }
}

#[derive(Deserialize)]
struct StsToken {
    access_token: String,
}

#[derive(Deserialize, Default)]
struct StsError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Impersonated {
    access_token: String,
    #[serde(default)]
    expire_time: String,
}

/// The audience of the connection's token: the provider's full resource name.
pub fn audience(provider: &str) -> String {
    format!("//iam.googleapis.com/{provider}")
}

/// An access token of `email` for `scope`, through `provider`.
pub async fn access_token(
    client: &Client,
    federation: &Federation,
    keyless: &Keyless,
    provider: &str,
    email: &str,
    scope: &str,
) -> Result<IssuedToken, ProbeFailure> {
    let audience = audience(provider);
    let token = keyless.token(&audience).await?;
    let form = [
        ("grant_type", TOKEN_EXCHANGE),
        ("audience", audience.as_str()),
        ("scope", FEDERATED_SCOPE),
        ("requested_token_type", ACCESS_TOKEN),
        ("subject_token", token.expose_secret()),
        ("subject_token_type", JWT),
    ];
    let response = http::send(PROVIDER, client.post(&federation.sts_url).form(&form)).await?;
    drop(token);
    let federated: StsToken = match response.status() {
        StatusCode::OK => http::json(PROVIDER, response, "token").await?,
        status => {
            let refused = http::json::<StsError>(PROVIDER, response, "error").await.unwrap_or_default();
            return Err(sts_refusal(status, &refused, keyless, provider));
        }
    };

    let segment = email_segment(email)?;
    let url = http::url(
        PROVIDER,
        &federation.iam_credentials_base,
        &["v1", "projects", "-", "serviceAccounts", &format!("{segment}:generateAccessToken")],
    )?;
    let body = serde_json::json!({ "scope": [scope], "lifetime": "3600s" });
    let asked = Utc::now();
    let response = http::send(PROVIDER, client.post(url).bearer_auth(&federated.access_token).json(&body)).await?;
    match response.status() {
        StatusCode::OK => {
            let token: Impersonated = http::json(PROVIDER, response, "access token").await?;
            let expires_in = DateTime::parse_from_rfc3339(&token.expire_time)
                .ok()
                .and_then(|at| (at.with_timezone(&Utc) - asked).to_std().ok());
            Ok(IssuedToken {
                access_token: token.access_token.into(),
                expires_in,
                scopes: Some(vec![scope.to_owned()]),
            })
        }
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => Err(ProbeFailure::new(
            ErrorCode::AccessDenied,
            format!("the federated identity of this connection (sub) may not impersonate {email}"),
            format!(
                "Grant roles/iam.workloadIdentityUser on the service account {email} to \
                 principal://iam.googleapis.com/{}/subject/{} (this connection's subject), then validate again.",
                pool_of(provider),
                keyless.sub()
            ),
        )),
        s => Err(http::unexpected(PROVIDER, &format!("generateAccessToken answered {s}"))),
    }
}

/// Re-checks the saved email before it goes into the URL (the server
/// checked the catalogue's pattern): a service account's address and
/// nothing else, so it stays one path segment.
fn email_segment(email: &str) -> Result<&str, ProbeFailure> {
    let ok = email.len() <= 160
        && email.split_once('@').is_some_and(|(name, domain)| {
            !name.is_empty() && domain.ends_with(".gserviceaccount.com") && !domain.contains("..")
        })
        && email.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'@'));
    if ok {
        Ok(email)
    } else {
        Err(ProbeFailure::new(
            ErrorCode::MalformedCredentials,
            "the saved service_account_email is not a service account's address",
            "Save the credentials again with the service account's email (<name>@<project>.iam.gserviceaccount.com).",
        ))
    }
}

/// `projects/<n>/locations/global/workloadIdentityPools/<pool>` of a
/// provider's resource name.
fn pool_of(provider: &str) -> &str {
    provider.rsplit_once("/providers/").map_or(provider, |(pool, _)| pool)
}

fn sts_refusal(status: StatusCode, refused: &StsError, keyless: &Keyless, provider: &str) -> ProbeFailure {
    let described = format!("{} {}", refused.error, refused.error_description);
    let trust = format!(
        "The workload identity pool provider {provider} must be an OpenID Connect provider with issuer {}, \
         allowed audience {} (the default), and an attribute condition admitting assertion.sub == '{}'",
        keyless.issuer_url(),
        audience(provider),
        keyless.sub()
    );
    let (code, message) = if refused.error == "invalid_target" {
        (ErrorCode::ResourceNotFound, "the workload identity pool provider does not exist or is disabled".to_owned())
    } else if described.contains("attribute condition") {
        (ErrorCode::AccessDenied, "the provider's attribute condition refused this connection (sub)".to_owned())
    } else if described.contains("audience") {
        (ErrorCode::InvalidCredentials, "the provider does not accept the token's audience (aud)".to_owned())
    } else if described.contains("expired") {
        return ProbeFailure::transient("Google took cloudconn's token for expired (a clock apart?)");
    } else if described.contains("issuer") || described.contains("signature") {
        (ErrorCode::InvalidCredentials, "the provider could not verify cloudconn's token (iss)".to_owned())
    } else {
        (ErrorCode::InvalidCredentials, format!("Google's STS refused the token exchange ({status})"))
    };
    ProbeFailure::new(code, message, format!("{trust}; then validate again."))
}
