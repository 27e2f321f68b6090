//! `CLOUDCONN_AUTH_*`: how tokens are verified, and what production requires.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Authentication settings (`CLOUDCONN_AUTH_*`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthConfig {
    /// `CLOUDCONN_AUTH_HS256_SECRET`: shared secret for HS256 tokens (or
    /// `CLOUDCONN_AUTH_HS256_SECRET_FILE`: a file holding it).
    #[serde(default)]
    pub auth_hs256_secret: Option<SecretString>,
    /// `CLOUDCONN_AUTH_JWKS`: a JWKS file path or an https URL (RS256/ES256 keys).
    #[serde(default)]
    pub auth_jwks: Option<String>,
    /// `CLOUDCONN_AUTH_ISSUER`: required `iss`; required in production with a JWKS.
    #[serde(default)]
    pub auth_issuer: Option<String>,
    /// `CLOUDCONN_AUTH_AUDIENCE`: required `aud`; required in production.
    #[serde(default)]
    pub auth_audience: Option<String>,
    /// `CLOUDCONN_AUTH_DISABLED`: `true` serves without authentication. Only
    /// for a trusted network; logged loudly.
    #[serde(default)]
    pub auth_disabled: bool,
    /// `CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE`: `true` lets the unauthenticated
    /// caller of a server with authentication disabled issue cloud
    /// credentials too (IssueCredentials). Without it, disabling
    /// authentication opens the management API only: anyone who can reach
    /// the port must not be able to mint credentials for every connection
    /// by forgetting one switch.
    #[serde(default)]
    pub auth_disabled_allow_issue: bool,
}

impl AuthConfig {
    /// Production's checks; plaintext JWKS URLs are recorded in `found`
    /// (refused unless `policy` allows them).
    pub fn validate(
        &self,
        policy: &cloudconn_infra::config::TransportConfig,
        found: &mut cloudconn_infra::config::Findings,
    ) {
        match (&self.auth_hs256_secret, &self.auth_jwks, self.auth_disabled) {
            (Some(_), Some(_), _) => {
                found.problem("set one of CLOUDCONN_AUTH_HS256_SECRET and CLOUDCONN_AUTH_JWKS, not both")
            }
            (None, None, false) => found.problem(
                "authentication is not configured: set CLOUDCONN_AUTH_HS256_SECRET or CLOUDCONN_AUTH_JWKS \
                 (or CLOUDCONN_AUTH_DISABLED=true on a trusted network)",
            ),
            (Some(secret), None, _) if secret.expose_secret().len() < 32 => {
                found.problem("CLOUDCONN_AUTH_HS256_SECRET must be at least 32 bytes")
            }
            _ => {}
        }
        if self.auth_disabled_allow_issue && !self.auth_disabled {
            found.problem(
                "CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE=true needs CLOUDCONN_AUTH_DISABLED=true: with authentication on, \
                 the token's connections:use scope decides who may issue",
            );
        }
        if self.auth_disabled && self.auth_hs256_secret.is_none() && self.auth_jwks.is_none() {
            return;
        }
        // Without `aud`, any token the same key signed for another service
        // (same IdP, same shared secret) would do here.
        if self.auth_audience.is_none() {
            found.problem(
                "CLOUDCONN_AUTH_AUDIENCE is required: set it to the `aud` your tokens are issued for (e.g. cloudconn)",
            );
        }
        if let Some(jwks) = &self.auth_jwks {
            if self.auth_issuer.is_none() {
                found.problem(
                    "CLOUDCONN_AUTH_ISSUER is required with CLOUDCONN_AUTH_JWKS: set it to your issuer's `iss`",
                );
            }
            if jwks.contains("://") {
                match reqwest::Url::parse(jwks) {
                    Ok(url) if matches!(url.scheme(), "https" | "http") => {
                        found.transport(policy, "CLOUDCONN_AUTH_JWKS", jwks, "https", "http")
                    }
                    _ => found.problem("CLOUDCONN_AUTH_JWKS must be a file path or an https:// URL"),
                }
            }
        }
    }
}
