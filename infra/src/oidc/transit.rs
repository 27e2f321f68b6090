//! The signing key in Vault's transit engine: an RSA key whose private half
//! never leaves Vault. Tokens are signed by `transit/sign`; the JWKS is built
//! from the public keys `transit/keys/<name>` lists per version.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{KeyVersion, SigningKeys};
use crate::{secrets::SecretStoreError, vault::VaultStore};

pub struct TransitKeys {
    pub vault: Arc<VaultStore>,
    pub mount: String,
    pub name: String,
}

#[async_trait::async_trait]
impl SigningKeys for TransitKeys {
    async fn versions(&self) -> Result<Vec<KeyVersion>, SecretStoreError> {
        let listed = self.vault.transit_public_keys(&self.mount, &self.name).await?;
        listed
            .into_iter()
            .map(|(version, created, public_pem)| {
                let created = DateTime::parse_from_rfc3339(&created)
                    .map_err(|_| SecretStoreError::Other(format!("transit key version {version}: creation time")))?
                    .with_timezone(&Utc);
                Ok(KeyVersion { version, created, public_pem })
            })
            .collect()
    }

    async fn sign(&self, version: u64, input: &[u8]) -> Result<Vec<u8>, SecretStoreError> {
        self.vault.transit_sign(&self.mount, &self.name, version, input).await
    }
}

/// The issuer `config` describes, signing with its transit key through
/// `vault`; `None` when `CLOUDCONN_OIDC_ISSUER` is unset.
pub fn issuer(config: &crate::config::OidcConfig, vault: Arc<VaultStore>) -> Option<Arc<super::Issuer>> {
    let keys = TransitKeys { vault, mount: config.oidc_transit_mount.clone(), name: config.oidc_key.clone() };
    super::Issuer::from_config(config, Arc::new(keys))
}
