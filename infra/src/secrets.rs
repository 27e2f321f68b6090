//! The interface to versioned credential storage.
//!
//! A connection's credential values live at one path; each save creates a new
//! version, and the version number is the connection's credential revision.
//! Production uses Vault KV v2 ([`crate::vault`]); `--dev` uses an encrypted
//! file store in the server crate. Values are [`SecretString`]s from the moment
//! they are read until they are written, so they never reach a `Debug` output.

use std::collections::BTreeMap;

use secrecy::SecretString;

/// Field name → value of one credential revision (secret and non-secret fields).
pub type SecretFields = BTreeMap<String, SecretString>;

/// Where one connection's credentials live: `<prefix>/<workspace>/<uid>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretPath {
    pub workspace: String,
    /// The connection's server-assigned UUID: a recreated tag gets a new path.
    pub uid: String,
}

/// Why a secret store call failed. No variant carries request data, so a
/// `Display` of it is safe to log.
#[derive(Debug, thiserror::Error)]
pub enum SecretStoreError {
    /// The store is down, slow past the timeout, or answered 5xx: retryable.
    #[error("secret store unavailable: {0}")]
    Unavailable(String),
    /// Check-and-set lost: the stored version is not the one the caller expected.
    #[error("secret store version conflict")]
    VersionConflict,
    /// No such path or version (or the version was destroyed).
    #[error("secret not found")]
    NotFound,
    /// The store refused our identity (Vault 401/403): the token expired or
    /// was revoked, or the policy does not allow the call. Not retryable by
    /// waiting alone; a new token is needed (see `VaultConfig::vault_token_file`).
    #[error("secret store refused our credentials: {0}")]
    Denied(String),
    /// Anything else (malformed response).
    #[error("secret store error: {0}")]
    Other(String),
}

/// Versioned credential storage with check-and-set writes.
#[async_trait::async_trait]
pub trait SecretStore: Send + Sync + 'static {
    /// Writes a new version if the current version is `expected_version`
    /// (0 = the path must not exist yet). Returns the new version.
    async fn write(
        &self,
        path: &SecretPath,
        fields: &SecretFields,
        expected_version: u64,
    ) -> Result<u64, SecretStoreError>;

    /// Reads one version.
    async fn read(&self, path: &SecretPath, version: u64) -> Result<SecretFields, SecretStoreError>;

    /// The latest version at `path`, 0 if nothing was ever written.
    async fn current_version(&self, path: &SecretPath) -> Result<u64, SecretStoreError>;

    /// Destroys every version and the metadata. Destroying a path that does not
    /// exist succeeds, so purges can be retried.
    async fn destroy(&self, path: &SecretPath) -> Result<(), SecretStoreError>;
}
