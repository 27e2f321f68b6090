//! `--dev`'s OpenID Connect signing key: an RSA key made at first start and
//! kept in the dev secret store (encrypted like every stored credential),
//! where production keeps it in Vault's transit engine. One version, never
//! rotated: rotation is Vault's job.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use cloudconn_infra::{
    oidc::{KeyVersion, SigningKeys},
    secrets::{SecretFields, SecretPath, SecretStore, SecretStoreError},
};
use jsonwebtoken::{Algorithm, EncodingKey};
use rsa::{
    RsaPrivateKey,
    pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;

/// Where the key is kept: not a workspace name (those start with a letter
/// or digit), so no connection's path can be it.
fn path() -> SecretPath {
    SecretPath { workspace: "_cloudconn".into(), uid: "oidc-signing-key".into() }
}

struct Loaded {
    version: KeyVersion,
    signing: EncodingKey,
}

pub struct DevKeys {
    store: Arc<dyn SecretStore>,
    loaded: OnceCell<Loaded>,
}

impl DevKeys {
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Self { store, loaded: OnceCell::new() }
    }

    async fn loaded(&self) -> Result<&Loaded, SecretStoreError> {
        self.loaded.get_or_try_init(|| self.load_or_create()).await
    }

    async fn load_or_create(&self) -> Result<Loaded, SecretStoreError> {
        let other = |what: &str| SecretStoreError::Other(format!("dev OIDC key: {what}"));
        let fields = match self.store.current_version(&path()).await? {
            0 => {
                // Made off the runtime's threads: a 2048-bit key takes a
                // moment even optimised.
                let key = tokio::task::spawn_blocking(|| RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048))
                    .await
                    .map_err(|_| other("key generation stopped"))?
                    .map_err(|_| other("key generation failed"))?;
                let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|_| other("encoding"))?;
                let mut fields = SecretFields::new();
                fields.insert("private_key_pem".into(), SecretString::from(pem.as_str().to_owned()));
                fields.insert("created".into(), SecretString::from(Utc::now().to_rfc3339()));
                self.store.write(&path(), &fields, 0).await?;
                fields
            }
            version => self.store.read(&path(), version).await?,
        };
        let pem = fields.get("private_key_pem").ok_or_else(|| other("no private key"))?.expose_secret().to_owned();
        let created = fields
            .get("created")
            .and_then(|c| DateTime::parse_from_rfc3339(c.expose_secret()).ok())
            .ok_or_else(|| other("no creation time"))?
            .with_timezone(&Utc);
        let key =
            <RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&pem).map_err(|_| other("not RSA"))?;
        let public_pem =
            key.to_public_key().to_public_key_pem(LineEnding::LF).map_err(|_| other("public key encoding"))?;
        let signing = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| other("not a signing key"))?;
        Ok(Loaded { version: KeyVersion { version: 1, created, public_pem }, signing })
    }
}

#[async_trait::async_trait]
impl SigningKeys for DevKeys {
    async fn versions(&self) -> Result<Vec<KeyVersion>, SecretStoreError> {
        Ok(vec![self.loaded().await?.version.clone()])
    }

    async fn sign(&self, version: u64, input: &[u8]) -> Result<Vec<u8>, SecretStoreError> {
        let loaded = self.loaded().await?;
        if version != loaded.version.version {
            return Err(SecretStoreError::NotFound);
        }
        let signature = jsonwebtoken::crypto::sign(input, &loaded.signing, Algorithm::RS256)
            .map_err(|_| SecretStoreError::Other("dev OIDC key: signing failed".into()))?;
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| SecretStoreError::Other("dev OIDC key: signature encoding".into()))
    }
}
