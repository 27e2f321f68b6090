//! Keyless connections in the worker (docs/keyless.md): a revision whose
//! kind is keyless holds no secret; the worker signs a short-lived OpenID
//! Connect token naming the connection ([`cloudconn_infra::oidc`], the key
//! in Vault's transit engine) and the provider exchanges it for
//! credentials. The token is made right before the exchange, sent only to
//! the provider's token endpoint, and never logged.

use std::sync::Arc;

use cloudconn_infra::oidc::{Issuer, Subject};
use secrecy::{ExposeSecret, SecretString};

use crate::probe::{ErrorCode, ProbeFailure};

/// What a probe or minter needs to sign tokens for one connection.
#[derive(Clone)]
pub struct Keyless {
    /// `None`: this worker is not configured as an issuer.
    pub issuer: Option<Arc<Issuer>>,
    pub subject: Subject,
}

impl std::fmt::Debug for Keyless {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyless").field("sub", &self.subject.sub()).finish()
    }
}

impl Keyless {
    /// A signed token for `audience`.
    pub async fn token(&self, audience: &str) -> Result<SecretString, ProbeFailure> {
        let Some(issuer) = &self.issuer else {
            return Err(ProbeFailure::new(
                ErrorCode::ProviderUnavailable,
                "this cloudconn worker cannot sign OpenID Connect tokens (CLOUDCONN_OIDC_ISSUER is not set on it)",
                "Nothing is wrong with this connection: the cloudconn operators must configure the workers as the \
                 servers are (CLOUDCONN_OIDC_ISSUER and the transit key), then validate again.",
            ));
        };
        issuer.token(&self.subject, audience).await.map_err(|e| {
            tracing::warn!(error = %e, "keyless: signing a token failed");
            ProbeFailure::transient("the worker could not sign an OpenID Connect token (its key is in Vault)")
        })
    }

    /// The `aud` of tokens for AWS (`CLOUDCONN_OIDC_AWS_AUDIENCE`).
    pub fn aws_audience(&self) -> &str {
        self.issuer.as_deref().map(Issuer::aws_audience).unwrap_or("sts.amazonaws.com")
    }

    /// The issuer URL the customer's trust must name.
    pub fn issuer_url(&self) -> &str {
        self.issuer.as_deref().map(Issuer::issuer).unwrap_or_default()
    }

    pub fn sub(&self) -> String {
        self.subject.sub()
    }
}

/// The `kind` of a stored revision ("" for one saved before kinds existed:
/// the provider's default, which is never keyless).
pub fn kind(credentials: &cloudconn_infra::secrets::SecretFields) -> &str {
    credentials.get("kind").map(|k| k.expose_secret()).unwrap_or_default()
}

/// The keyless context of a request, or the failure when a keyless
/// revision reaches a code path without one (a version skew).
pub fn required(keyless: &Option<Keyless>) -> Result<&Keyless, ProbeFailure> {
    keyless.as_ref().ok_or_else(|| ProbeFailure::transient("keyless request without its signing context"))
}
