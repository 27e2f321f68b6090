//! The `CLOUDCONN_VAULT_*` section: where credential values live.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::{ConfigError, Findings, TransportConfig};

/// Vault / OpenBao: where credential values live (KV v2).
#[derive(Debug, Clone, Deserialize)]
pub struct VaultConfig {
    /// `CLOUDCONN_VAULT_ADDR`: base URL, e.g. `http://127.0.0.1:8200`.
    #[serde(default)]
    pub vault_addr: Option<String>,
    /// `CLOUDCONN_VAULT_TOKEN`: token with the server (read-write under the
    /// prefix) or worker (read-only) policy.
    #[serde(default)]
    pub vault_token: Option<SecretString>,
    /// `CLOUDCONN_VAULT_ROLE_ID`, `CLOUDCONN_VAULT_SECRET_ID`: AppRole login
    /// instead of a token (the token it yields is renewed, and the login
    /// repeated when renewal is refused).
    #[serde(default)]
    pub vault_role_id: Option<SecretString>,
    #[serde(default)]
    pub vault_secret_id: Option<SecretString>,
    /// `CLOUDCONN_VAULT_APPROLE_MOUNT`: where AppRole is mounted, default `approle`.
    #[serde(default = "default_approle_mount")]
    pub vault_approle_mount: String,
    /// `CLOUDCONN_VAULT_MOUNT`: KV v2 mount, default `secret`.
    #[serde(default = "default_vault_mount")]
    pub vault_mount: String,
    /// `CLOUDCONN_VAULT_PREFIX`: path prefix under the mount, default `cloudconn`.
    #[serde(default = "default_vault_prefix")]
    pub vault_prefix: String,
    /// `CLOUDCONN_VAULT_TOKEN_FILE`: a file holding the token (a Vault Agent
    /// sink), instead of `CLOUDCONN_VAULT_TOKEN`. Read at start, and again
    /// whenever Vault refuses the token (401/403) and before each renewal,
    /// so a token the Agent replaced is picked up without a restart.
    #[serde(default)]
    pub vault_token_file: Option<PathBuf>,
    /// `CLOUDCONN_VAULT_CA_CERT`: PEM bundle of the CAs that may sign the
    /// Vault server's certificate (added to the system roots). The only
    /// source of extra trust: `VAULT_CACERT`, `VAULT_CAPATH` and
    /// `VAULT_CLIENT_CERT`/`KEY` are ignored.
    #[serde(default)]
    pub vault_ca_cert: Option<PathBuf>,
    /// Which of [`AMBIENT_VAULT_TLS_VARS`] the environment set (see
    /// [`Source::vault`]); validation refuses `VAULT_SKIP_VERIFY`.
    #[serde(skip)]
    pub ambient_tls_env: Vec<String>,
}

impl Default for VaultConfig {
    fn default() -> Self {
        Self {
            vault_addr: None,
            vault_token: None,
            vault_role_id: None,
            vault_secret_id: None,
            vault_approle_mount: default_approle_mount(),
            vault_mount: default_vault_mount(),
            vault_prefix: default_vault_prefix(),
            vault_token_file: None,
            vault_ca_cert: None,
            ambient_tls_env: Vec::new(),
        }
    }
}

fn default_approle_mount() -> String {
    "approle".into()
}
fn default_vault_mount() -> String {
    "secret".into()
}
fn default_vault_prefix() -> String {
    "cloudconn".into()
}

impl VaultConfig {
    /// Checks what can be checked without connecting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let addr = self
            .vault_addr
            .as_deref()
            .ok_or_else(|| ConfigError::Invalid("CLOUDCONN_VAULT_ADDR is required".into()))?;
        let url = url::Url::parse(addr)
            .map_err(|e| ConfigError::Invalid(format!("CLOUDCONN_VAULT_ADDR is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid("CLOUDCONN_VAULT_ADDR must be http:// or https://".into()));
        }
        if self.vault_token.is_some() && self.vault_token_file.is_some() {
            return Err(ConfigError::Invalid(
                "set one of CLOUDCONN_VAULT_TOKEN and CLOUDCONN_VAULT_TOKEN_FILE, not both".into(),
            ));
        }
        let token = self.vault_token.is_some() || self.vault_token_file.is_some();
        match (token, &self.vault_role_id, &self.vault_secret_id) {
            (true, None, None) | (false, Some(_), Some(_)) => {}
            (true, _, _) => {
                return Err(ConfigError::Invalid(
                    "set CLOUDCONN_VAULT_TOKEN (or CLOUDCONN_VAULT_TOKEN_FILE) or CLOUDCONN_VAULT_ROLE_ID + \
                     CLOUDCONN_VAULT_SECRET_ID, not both"
                        .into(),
                ));
            }
            _ => {
                return Err(ConfigError::Invalid(
                    "CLOUDCONN_VAULT_TOKEN or CLOUDCONN_VAULT_TOKEN_FILE (or CLOUDCONN_VAULT_ROLE_ID + \
                     CLOUDCONN_VAULT_SECRET_ID) is required"
                        .into(),
                ));
            }
        }
        if let Some(path) = &self.vault_ca_cert {
            match std::fs::read_to_string(path) {
                Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {}
                Ok(_) => {
                    return Err(ConfigError::Invalid(format!(
                        "CLOUDCONN_VAULT_CA_CERT ({}) holds no PEM certificate",
                        path.display()
                    )));
                }
                Err(e) => {
                    return Err(ConfigError::Invalid(format!("CLOUDCONN_VAULT_CA_CERT ({}): {e}", path.display())));
                }
            }
        }
        for (name, value) in
            [("CLOUDCONN_VAULT_MOUNT", &self.vault_mount), ("CLOUDCONN_VAULT_PREFIX", &self.vault_prefix)]
        {
            if !super::is_vault_path(value) {
                return Err(ConfigError::Invalid(format!("{name} must be path segments of [A-Za-z0-9._-]")));
            }
        }
        Ok(())
    }

    /// What production adds to [`VaultConfig::validate`]: TLS to Vault
    /// (unless loopback or allowed), and no ambient `VAULT_SKIP_VERIFY`.
    pub fn validate_transport(&self, policy: &TransportConfig, found: &mut Findings) {
        if let Some(addr) = &self.vault_addr {
            found.transport(policy, "CLOUDCONN_VAULT_ADDR", addr, "https", "http");
        }
        if self.ambient_tls_env.iter().any(|v| v == "VAULT_SKIP_VERIFY") {
            found.problem(
                "VAULT_SKIP_VERIFY is set in the environment: cloudconn always verifies Vault's certificate and \
                 refuses to start while it is set; unset it (for a private CA, set CLOUDCONN_VAULT_CA_CERT)",
            );
        }
        for ignored in self.ambient_tls_env.iter().filter(|v| *v != "VAULT_SKIP_VERIFY") {
            tracing::warn!(variable = %ignored, "{ignored} is set but ignored: Vault trust comes only from CLOUDCONN_VAULT_CA_CERT");
        }
    }
}
