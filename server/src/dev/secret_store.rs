//! A versioned secret store in files, encrypted with a key generated for the
//! data directory. For `--dev` only: it has no access control, no audit and
//! no replication, which is what Vault is for.
//!
//! Layout: `<dir>/secret.key` (32 random bytes, mode 0600) and
//! `<dir>/secrets/<workspace>/<uid>/<version>.bin`, each file
//! `nonce (24 bytes) || XChaCha20-Poly1305(JSON fields)`. The path and
//! version are the associated data, so a file copied to another path or
//! version fails to decrypt instead of being read as the wrong secret.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use async_trait::async_trait;
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
};
use cloudconn_infra::secrets::{SecretFields, SecretPath, SecretStore, SecretStoreError};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

pub struct DevSecretStore {
    root: PathBuf,
    cipher: XChaCha20Poly1305,
    /// Serialises writes so check-and-set is atomic within the process (a dev
    /// data directory belongs to one process).
    write_lock: Mutex<()>,
}

impl DevSecretStore {
    /// Opens the store in `dir`, generating the key on first use.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        super::files::private_dir(dir)?;
        std::fs::create_dir_all(dir.join("secrets"))?;
        let key_path = dir.join("secret.key");
        let key = if key_path.exists() {
            super::files::read_private(&key_path)?
        } else {
            let key = XChaCha20Poly1305::generate_key(&mut OsRng).to_vec();
            super::files::write_private(&key_path, &key)?;
            key
        };
        let cipher = XChaCha20Poly1305::new_from_slice(&key)
            .map_err(|_| anyhow::anyhow!("{} is not a 32-byte key", key_path.display()))?;
        Ok(Self { root: dir.join("secrets"), cipher, write_lock: Mutex::new(()) })
    }

    fn dir(&self, path: &SecretPath) -> PathBuf {
        self.root.join(&path.workspace).join(&path.uid)
    }

    fn aad(path: &SecretPath, version: u64) -> Vec<u8> {
        format!("{}/{}@{version}", path.workspace, path.uid).into_bytes()
    }

    async fn latest(&self, path: &SecretPath) -> Result<u64, SecretStoreError> {
        let mut entries = match tokio::fs::read_dir(self.dir(path)).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io(e)),
        };
        let mut latest = 0;
        while let Some(entry) = entries.next_entry().await.map_err(io)? {
            let name = entry.file_name();
            let version = name.to_str().and_then(|n| n.strip_suffix(".bin")).and_then(|n| n.parse::<u64>().ok());
            latest = latest.max(version.unwrap_or(0));
        }
        Ok(latest)
    }
}

fn io(e: std::io::Error) -> SecretStoreError {
    SecretStoreError::Other(format!("dev secret store: {e}"))
}

#[async_trait]
impl SecretStore for DevSecretStore {
    async fn write(&self, path: &SecretPath, fields: &SecretFields, expected: u64) -> Result<u64, SecretStoreError> {
        let _guard = self.write_lock.lock().await;
        if self.latest(path).await? != expected {
            return Err(SecretStoreError::VersionConflict);
        }
        let version = expected + 1;
        let plain: BTreeMap<&str, &str> = fields.iter().map(|(k, v)| (k.as_str(), v.expose_secret())).collect();
        let json = zeroizing_json(&plain)?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = Self::aad(path, version);
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg: &json, aad: &aad })
            .map_err(|_| SecretStoreError::Other("dev secret store: encryption failed".into()))?;
        let mut file = nonce.to_vec();
        file.extend_from_slice(&sealed);
        let dir = self.dir(path);
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        let target = dir.join(format!("{version}.bin"));
        let tmp = dir.join(format!("{version}.tmp"));
        tokio::fs::write(&tmp, &file).await.map_err(io)?;
        // Rename is atomic: a reader sees the whole version or none of it.
        tokio::fs::rename(&tmp, &target).await.map_err(io)?;
        Ok(version)
    }

    async fn read(&self, path: &SecretPath, version: u64) -> Result<SecretFields, SecretStoreError> {
        let file = match tokio::fs::read(self.dir(path).join(format!("{version}.bin"))).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SecretStoreError::NotFound),
            Err(e) => return Err(io(e)),
        };
        if file.len() < 24 {
            return Err(SecretStoreError::Other("dev secret store: truncated file".into()));
        }
        let (nonce, sealed) = file.split_at(24);
        let aad = Self::aad(path, version);
        let json =
            self.cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: &aad }).map_err(|_| {
                SecretStoreError::Other("dev secret store: cannot decrypt (wrong key or moved file)".into())
            })?;
        let plain: BTreeMap<String, String> = serde_json::from_slice(&json)
            .map_err(|_| SecretStoreError::Other("dev secret store: corrupt entry".into()))?;
        Ok(plain.into_iter().map(|(k, v)| (k, SecretString::from(v))).collect())
    }

    async fn current_version(&self, path: &SecretPath) -> Result<u64, SecretStoreError> {
        self.latest(path).await
    }

    async fn destroy(&self, path: &SecretPath) -> Result<(), SecretStoreError> {
        let _guard = self.write_lock.lock().await;
        match tokio::fs::remove_dir_all(self.dir(path)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        }
    }
}

fn zeroizing_json(plain: &BTreeMap<&str, &str>) -> Result<Vec<u8>, SecretStoreError> {
    serde_json::to_vec(plain).map_err(|_| SecretStoreError::Other("dev secret store: encode failed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: &str) -> SecretFields {
        [("client_secret".to_owned(), SecretString::from(v.to_owned()))].into_iter().collect()
    }

    #[tokio::test]
    async fn versions_cas_encryption_and_destroy() {
        let dir = std::env::temp_dir().join(format!("cc-dev-store-{}", uuid::Uuid::new_v4()));
        let store = DevSecretStore::open(&dir).unwrap();
        let path = SecretPath { workspace: "w".into(), uid: "u".into() };
        assert_eq!(store.current_version(&path).await.unwrap(), 0);
        assert_eq!(store.write(&path, &fields("canary-one"), 0).await.unwrap(), 1);
        assert!(matches!(store.write(&path, &fields("x"), 0).await, Err(SecretStoreError::VersionConflict)));
        assert_eq!(store.write(&path, &fields("canary-two"), 1).await.unwrap(), 2);
        assert_eq!(store.read(&path, 1).await.unwrap()["client_secret"].expose_secret(), "canary-one");

        // Nothing on disk holds the plaintext.
        for version in [1, 2] {
            let raw = std::fs::read(dir.join("secrets/w/u").join(format!("{version}.bin"))).unwrap();
            assert!(!raw.windows(6).any(|w| w == b"canary"));
        }
        // A file moved to another version does not decrypt as that version.
        std::fs::copy(dir.join("secrets/w/u/1.bin"), dir.join("secrets/w/u/2.bin")).unwrap();
        assert!(store.read(&path, 2).await.is_err());

        // The key survives a reopen.
        let reopened = DevSecretStore::open(&dir).unwrap();
        assert_eq!(reopened.read(&path, 1).await.unwrap()["client_secret"].expose_secret(), "canary-one");

        store.destroy(&path).await.unwrap();
        store.destroy(&path).await.unwrap();
        assert_eq!(store.current_version(&path).await.unwrap(), 0);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
