//! The `CLOUDCONN_OIDC_*` section: cloudconn as an OpenID Connect issuer
//! (docs/keyless.md). Read by both binaries: the server publishes the
//! issuer's documents, the worker signs the tokens.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Clone, Deserialize)]
pub struct OidcConfig {
    /// `CLOUDCONN_OIDC_ISSUER`: the `iss` of every token and where the
    /// clouds fetch the discovery document; unset turns keyless kinds off.
    #[serde(default)]
    pub oidc_issuer: Option<String>,
    /// `CLOUDCONN_OIDC_AWS_AUDIENCE`: the `aud` of tokens for AWS (what the
    /// customer's IAM OIDC provider lists as its client id).
    #[serde(default = "default_aws_audience")]
    pub oidc_aws_audience: String,
    /// `CLOUDCONN_OIDC_TRANSIT_MOUNT`, `CLOUDCONN_OIDC_KEY`: the Vault transit
    /// key that signs (an RSA key; the private half never leaves Vault).
    #[serde(default = "default_transit_mount")]
    pub oidc_transit_mount: String,
    #[serde(default = "default_key")]
    pub oidc_key: String,
    /// `CLOUDCONN_OIDC_JWKS_MAX_AGE_MS`: how long verifiers may cache the
    /// JWKS; it also sets the rotation schedule (`oidc::keys::Schedule`).
    #[serde(default = "default_jwks_max_age_ms")]
    pub oidc_jwks_max_age_ms: u64,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            oidc_issuer: None,
            oidc_aws_audience: default_aws_audience(),
            oidc_transit_mount: default_transit_mount(),
            oidc_key: default_key(),
            oidc_jwks_max_age_ms: default_jwks_max_age_ms(),
        }
    }
}

fn default_aws_audience() -> String {
    "sts.amazonaws.com".into()
}
fn default_transit_mount() -> String {
    "transit".into()
}
fn default_key() -> String {
    "cloudconn-oidc".into()
}
fn default_jwks_max_age_ms() -> u64 {
    3_600_000
}

/// The longest JWKS cache period accepted: a day. Rotation waits that long
/// before a new key signs.
const MAX_JWKS_MAX_AGE_MS: u64 = 86_400_000;

impl OidcConfig {
    pub fn jwks_max_age(&self) -> Duration {
        Duration::from_millis(self.oidc_jwks_max_age_ms)
    }

    /// Checks what can be checked without connecting. `dev` also accepts
    /// `http://` on a loopback address: only the provider sandbox, on the
    /// same machine, can fetch a laptop's documents.
    pub fn validate(&self, dev: bool) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if let Some(issuer) = &self.oidc_issuer {
            let Ok(url) = url::Url::parse(issuer) else {
                return invalid(format!("CLOUDCONN_OIDC_ISSUER ({issuer:?}) is not a URL"));
            };
            let loopback_http = url.scheme() == "http" && super::is_loopback(&url);
            if url.scheme() != "https" && !(dev && loopback_http) {
                return invalid(format!(
                    "CLOUDCONN_OIDC_ISSUER must be an https:// URL (the clouds fetch its keys over TLS); got {issuer:?}"
                ));
            }
            // The `iss` claim must equal the configured string byte for byte
            // at every cloud, and the documents live under it.
            if issuer.ends_with('/') || url.query().is_some() || url.fragment().is_some() || url.username() != "" {
                return invalid(format!(
                    "CLOUDCONN_OIDC_ISSUER must have no trailing slash, query, fragment or user; got {issuer:?}"
                ));
            }
        }
        if self.oidc_aws_audience.is_empty() || self.oidc_aws_audience.len() > 255 {
            return invalid("CLOUDCONN_OIDC_AWS_AUDIENCE must be 1–255 characters".into());
        }
        for (name, value) in
            [("CLOUDCONN_OIDC_TRANSIT_MOUNT", &self.oidc_transit_mount), ("CLOUDCONN_OIDC_KEY", &self.oidc_key)]
        {
            if !super::is_vault_path(value) {
                return invalid(format!("{name} must be path segments of [A-Za-z0-9._-]"));
            }
        }
        if !(1_000..=MAX_JWKS_MAX_AGE_MS).contains(&self.oidc_jwks_max_age_ms) {
            return invalid(format!(
                "CLOUDCONN_OIDC_JWKS_MAX_AGE_MS must be between 1000 and {MAX_JWKS_MAX_AGE_MS}; got {}",
                self.oidc_jwks_max_age_ms
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_issuer(issuer: &str) -> OidcConfig {
        OidcConfig { oidc_issuer: Some(issuer.into()), ..Default::default() }
    }

    #[test]
    fn the_issuer_is_https_without_a_trailing_slash() {
        assert!(with_issuer("https://cloudconn.example.com").validate(false).is_ok());
        assert!(with_issuer("https://example.com/tenants/a").validate(false).is_ok());
        for bad in ["http://cloudconn.example.com", "https://cloudconn.example.com/", "https://x.com?a=b", "nope"] {
            let err = with_issuer(bad).validate(false).unwrap_err().to_string();
            assert!(err.contains("CLOUDCONN_OIDC_ISSUER"), "{bad}: {err}");
        }
        assert!(with_issuer("http://127.0.0.1:50051").validate(true).is_ok());
        assert!(with_issuer("http://127.0.0.1:50051").validate(false).is_err());
        assert!(with_issuer("http://cloudconn.example.com").validate(true).is_err());
    }

    #[test]
    fn the_cache_period_is_bounded() {
        let config = OidcConfig { oidc_jwks_max_age_ms: 10, ..Default::default() };
        assert!(config.validate(false).unwrap_err().to_string().contains("CLOUDCONN_OIDC_JWKS_MAX_AGE_MS"));
        assert!(OidcConfig::default().validate(false).is_ok());
    }
}
