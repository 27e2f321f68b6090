//! [`SecretStore`] on Vault / OpenBao KV v2, through vaultrs.
//!
//! - Path: `<mount>/data/<prefix>/<workspace>/<uid>`; the KV version is the
//!   credential revision.
//! - Writes use check-and-set (`options.cas`): `cas = 0` creates, `cas = N`
//!   only succeeds if the current version is N. Two servers racing on one
//!   connection cannot both win.
//! - Destroy is a metadata delete, which removes every version for good.
//! - Every call runs under the dependency timeout, so a hung Vault gives a
//!   prompt `Unavailable` instead of a stuck RPC.

use std::{future::Future, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use vaultrs::{
    api::kv2::requests::SetSecretRequestOptions,
    client::{VaultClient, VaultClientSettingsBuilder},
    error::ClientError,
    kv2,
};

use crate::{
    config::VaultConfig,
    secrets::{SecretFields, SecretPath, SecretStore, SecretStoreError},
};

/// Vault KV v2 store. Cheap to share behind an `Arc`.
pub struct VaultStore {
    client: VaultClient,
    mount: String,
    prefix: String,
    /// Upper bound on one Vault call, network included.
    timeout: Duration,
}

impl VaultStore {
    /// Builds a client from validated configuration. Does not connect.
    pub fn new(config: &VaultConfig, timeout: Duration) -> Result<Self, SecretStoreError> {
        config.validate().map_err(|e| SecretStoreError::Other(e.to_string()))?;
        let addr = config.vault_addr.as_deref().unwrap_or_default();
        let token = config.vault_token.as_ref().map(|t| t.expose_secret().to_owned()).unwrap_or_default();
        let settings = VaultClientSettingsBuilder::default()
            .address(addr)
            .token(token)
            .timeout(Some(timeout))
            .build()
            .map_err(|e| SecretStoreError::Other(format!("vault client settings: {e}")))?;
        let client = VaultClient::new(settings).map_err(|e| SecretStoreError::Other(format!("vault client: {e}")))?;
        Ok(Self { client, mount: config.vault_mount.clone(), prefix: config.vault_prefix.clone(), timeout })
    }

    fn key(&self, path: &SecretPath) -> String {
        format!("{}/{}/{}", self.prefix, path.workspace, path.uid)
    }

    /// Runs one vaultrs call under the timeout and classifies its error.
    async fn call<T>(&self, fut: impl Future<Output = Result<T, ClientError>>) -> Result<T, SecretStoreError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => Err(SecretStoreError::Unavailable(format!("no answer within {:?}", self.timeout))),
            Ok(result) => result.map_err(classify),
        }
    }
}

/// Maps a vaultrs error to what the caller can act on. Vault's error strings
/// describe the request, never its data, but we keep only codes to be sure.
fn classify(err: ClientError) -> SecretStoreError {
    match err {
        ClientError::APIError { code: 404, .. } => SecretStoreError::NotFound,
        ClientError::APIError { code: 400, errors } if errors.iter().any(|e| e.contains("check-and-set")) => {
            SecretStoreError::VersionConflict
        }
        ClientError::APIError { code, .. } if code >= 500 || code == 429 => {
            // 503 is also what a sealed Vault answers.
            SecretStoreError::Unavailable(format!("vault answered {code}"))
        }
        ClientError::APIError { code, .. } => SecretStoreError::Other(format!("vault answered {code}")),
        // vaultrs turns HTTP error answers into `APIError`; what is left here
        // failed before an answer arrived (refused, reset, TLS, timeout).
        ClientError::RestClientError { .. } => SecretStoreError::Unavailable("cannot reach vault".into()),
        // Empty data on a read means the version was deleted or destroyed.
        ClientError::ResponseDataEmptyError | ClientError::ResponseEmptyError => SecretStoreError::NotFound,
        other => SecretStoreError::Other(format!("vault: {other}")),
    }
}

#[async_trait::async_trait]
impl SecretStore for VaultStore {
    async fn write(
        &self,
        path: &SecretPath,
        fields: &SecretFields,
        expected_version: u64,
    ) -> Result<u64, SecretStoreError> {
        let cas = u32::try_from(expected_version)
            .map_err(|_| SecretStoreError::Other("revision out of range for vault".into()))?;
        // The plain map exists only for the duration of this call.
        let plain: std::collections::BTreeMap<&str, &str> =
            fields.iter().map(|(k, v)| (k.as_str(), v.expose_secret())).collect();
        let meta = self
            .call(kv2::set_with_options(
                &self.client,
                &self.mount,
                &self.key(path),
                &plain,
                SetSecretRequestOptions { cas },
            ))
            .await?;
        Ok(meta.version)
    }

    async fn read(&self, path: &SecretPath, version: u64) -> Result<SecretFields, SecretStoreError> {
        let plain: std::collections::BTreeMap<String, String> =
            self.call(kv2::read_version(&self.client, &self.mount, &self.key(path), version)).await?;
        Ok(plain.into_iter().map(|(k, v)| (k, SecretString::from(v))).collect())
    }

    async fn current_version(&self, path: &SecretPath) -> Result<u64, SecretStoreError> {
        match self.call(kv2::read_metadata(&self.client, &self.mount, &self.key(path))).await {
            Ok(meta) => Ok(meta.current_version),
            Err(SecretStoreError::NotFound) => Ok(0),
            Err(e) => Err(e),
        }
    }

    async fn destroy(&self, path: &SecretPath) -> Result<(), SecretStoreError> {
        match self.call(kv2::delete_metadata(&self.client, &self.mount, &self.key(path))).await {
            Ok(()) | Err(SecretStoreError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
