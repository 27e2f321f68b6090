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
//! - Trust comes from our configuration only: certificate verification is
//!   always on and the extra CAs are `CLOUDCONN_VAULT_CA_CERT`'s. vaultrs
//!   would otherwise read `VAULT_SKIP_VERIFY`, `VAULT_CACERT`, `VAULT_CAPATH`
//!   and `VAULT_CLIENT_CERT`/`KEY` from the process environment.
//! - With `CLOUDCONN_VAULT_TOKEN_FILE` (a Vault Agent sink), the token is
//!   re-read from the file when Vault refuses it (401/403; the call is then
//!   made once more with the new token) and before each renewal.

use std::{
    future::Future,
    path::{Path, PathBuf},
    time::Duration,
};

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;
use vaultrs::{
    api::kv2::requests::SetSecretRequestOptions,
    client::{Client, VaultClient, VaultClientSettingsBuilder},
    error::ClientError,
    kv2,
};

use crate::{
    config::VaultConfig,
    secrets::{SecretFields, SecretPath, SecretStore, SecretStoreError},
};

/// Runs one vaultrs call (`$call`, which uses `$client`) under the timeout;
/// if Vault refuses the token and the token file holds a new one, runs it
/// once more with that. (A macro: a closure returning a future that borrows
/// the lock guard cannot be typed.)
macro_rules! with_token_reload {
    ($store:expr, $client:ident => $call:expr) => {{
        let (first, used) = {
            let $client = $store.client.read().await;
            let used = $client.settings.token.clone();
            ($store.call($call).await, used)
        };
        match first {
            // Retry once with a newer token: re-read from the file here,
            // or already by a concurrent call (the health check, say).
            Err(SecretStoreError::Denied(_)) if $store.token_replaced_since(&used).await => {
                let $client = $store.client.read().await;
                $store.call($call).await
            }
            other => other,
        }
    }};
}

/// Vault KV v2 store. Cheap to share behind an `Arc`.
pub struct VaultStore {
    /// The client; its token is swapped by the renewal loop (a tokio lock:
    /// readers hold it across their request).
    client: RwLock<VaultClient>,
    /// AppRole credentials, when that is how we log in.
    approle: Option<(String, SecretString, SecretString)>,
    /// Where the token is re-read from, when it comes from a file.
    token_file: Option<PathBuf>,
    /// Lifetime of the current token, 0 = does not expire.
    lease: std::sync::Mutex<Duration>,
    /// Whether the first login (or token lookup) has succeeded.
    established: std::sync::atomic::AtomicBool,
    mount: String,
    prefix: String,
    /// Upper bound on one Vault call, network included.
    timeout: Duration,
}

impl VaultStore {
    /// Builds a client from validated configuration. Does not connect.
    pub fn new(config: &VaultConfig, timeout: Duration) -> Result<Self, SecretStoreError> {
        config.validate().map_err(|e| SecretStoreError::Other(e.to_string()))?;
        crate::tls::install_crypto_provider();
        let addr = config.vault_addr.as_deref().unwrap_or_default();
        // AppRole starts without a token; `connect` logs in.
        let token = match (&config.vault_token_file, &config.vault_token) {
            (Some(path), _) => read_token_file(path)?,
            (None, Some(token)) => token.expose_secret().to_owned(),
            (None, None) => String::new(),
        };
        let ca_certs = config.vault_ca_cert.iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
        // Every setting vaultrs would otherwise take from the environment is
        // set here (see the module doc).
        let settings = VaultClientSettingsBuilder::default()
            .address(addr)
            .token(token)
            .timeout(Some(timeout))
            .verify(true)
            .ca_certs(ca_certs)
            .identity(None)
            .build()
            .map_err(|e| SecretStoreError::Other(format!("vault client settings: {e}")))?;
        let client = VaultClient::new(settings).map_err(|e| SecretStoreError::Other(format!("vault client: {e}")))?;
        let approle = match (&config.vault_role_id, &config.vault_secret_id) {
            (Some(role), Some(secret)) => Some((config.vault_approle_mount.clone(), role.clone(), secret.clone())),
            _ => None,
        };
        Ok(Self {
            client: RwLock::new(client),
            approle,
            token_file: config.vault_token_file.clone(),
            lease: std::sync::Mutex::new(Duration::ZERO),
            established: std::sync::atomic::AtomicBool::new(false),
            mount: config.vault_mount.clone(),
            prefix: config.vault_prefix.clone(),
            timeout,
        })
    }

    /// Builds the store and logs in (AppRole) or looks the token up, so a
    /// wrong credential fails at start rather than on the first request.
    pub async fn connect(config: &VaultConfig, timeout: Duration) -> Result<Self, SecretStoreError> {
        let store = Self::new(config, timeout)?;
        store.establish().await?;
        Ok(store)
    }

    /// Logs in (AppRole) or looks the token up, learning its lifetime. A
    /// server started while Vault is unreachable calls this again from the
    /// renewal loop until it succeeds.
    pub async fn establish(&self) -> Result<(), SecretStoreError> {
        if self.approle.is_some() {
            self.login().await?;
        } else {
            let info = with_token_reload!(self, client => vaultrs::token::lookup_self(&*client))?;
            *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = Duration::from_secs(info.ttl);
        }
        self.established.store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Retries [`VaultStore::establish`] with back-off (1 s doubling to
    /// 30 s) until it succeeds or `shutdown`; `false` on shutdown.
    async fn establish_eventually(&self, shutdown: &CancellationToken) -> bool {
        let mut wait = Duration::from_secs(1);
        loop {
            match self.establish().await {
                Ok(()) => {
                    tracing::info!("vault reached; credentials can be saved and read");
                    return true;
                }
                Err(e) => tracing::warn!(error = %e, ?wait, "vault still unreachable or refusing; trying again"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return false,
                _ = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    }

    /// Whether Vault answers and our token is accepted (health checks).
    pub async fn ping(&self) -> Result<(), SecretStoreError> {
        with_token_reload!(self, client => vaultrs::token::lookup_self(&*client)).map(|_| ())
    }

    /// After `used` was refused: re-reads the token file, and says whether
    /// the token in use now is another one (from the file, read here or by
    /// a concurrent call), worth one more try.
    async fn token_replaced_since(&self, used: &str) -> bool {
        self.reload_token().await;
        self.client.read().await.settings.token != used
    }

    /// Re-reads the token file; `true` if it held a token other than the
    /// one in use, which is then used from now on.
    async fn reload_token(&self) -> bool {
        let Some(path) = &self.token_file else { return false };
        let path = path.clone();
        let read = match tokio::task::spawn_blocking(move || read_token_file(&path)).await {
            Ok(read) => read,
            Err(_) => return false,
        };
        let token = match read {
            Ok(token) => token,
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-read the vault token file; keeping the current token");
                return false;
            }
        };
        let mut client = self.client.write().await;
        if client.settings.token == token {
            return false;
        }
        client.set_token(&token);
        drop(client);
        tracing::info!("vault token re-read from CLOUDCONN_VAULT_TOKEN_FILE");
        true
    }

    async fn login(&self) -> Result<(), SecretStoreError> {
        let Some((mount, role, secret)) = &self.approle else { return Ok(()) };
        let info = {
            let client = self.client.read().await;
            self.call(vaultrs::auth::approle::login(&*client, mount, role.expose_secret(), secret.expose_secret()))
                .await?
        };
        self.client.write().await.set_token(&info.client_token);
        *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = Duration::from_secs(info.lease_duration);
        tracing::info!(lease_secs = info.lease_duration, "logged in to vault with approle");
        Ok(())
    }

    /// Keeps the token alive until `shutdown`: renews it at two thirds of its
    /// lease, and logs in again (AppRole) when renewal is refused or the
    /// token is past its maximum lifetime. Does nothing for a token that
    /// does not expire (a dev root token).
    pub async fn run_renewal(self: std::sync::Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        if !self.established.load(std::sync::atomic::Ordering::Acquire) && !self.establish_eventually(&shutdown).await {
            return Ok(());
        }
        loop {
            let lease = *self.lease.lock().unwrap_or_else(|e| e.into_inner());
            if lease.is_zero() && self.approle.is_none() && self.token_file.is_none() {
                return Ok(());
            }
            let wait =
                if lease.is_zero() { Duration::from_secs(60) } else { (lease * 2 / 3).max(Duration::from_millis(500)) };
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(wait) => {}
            }
            // A Vault Agent may have replaced the token since we read it:
            // then learn the new one's lifetime instead of renewing the old.
            if self.reload_token().await {
                let looked_up = {
                    let client = self.client.read().await;
                    self.call(vaultrs::token::lookup_self(&*client)).await
                };
                match looked_up {
                    Ok(info) => *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = Duration::from_secs(info.ttl),
                    Err(e) => tracing::warn!(error = %e, "cannot look up the re-read vault token"),
                }
                continue;
            }
            if lease.is_zero() && self.approle.is_none() {
                // A token file holding a token that does not expire: nothing
                // to renew, only the file to watch.
                continue;
            }
            let renewed = {
                let client = self.client.read().await;
                self.call(vaultrs::token::renew_self(&*client, None)).await
            };
            match renewed {
                // A renewal can be granted less time than asked (max TTL):
                // when it comes back short, log in afresh next time.
                Ok(info) if info.lease_duration * 3 >= lease.as_secs() * 2 || self.approle.is_none() => {
                    *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = Duration::from_secs(info.lease_duration);
                }
                other => {
                    if let Err(e) = &other {
                        tracing::warn!(error = %e, "vault token renewal refused");
                    }
                    if let Err(e) = self.login().await {
                        tracing::warn!(error = %e, "vault re-login failed; retrying");
                        *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = Duration::from_secs(3);
                    }
                }
            }
        }
    }

    /// Every version of transit key `name` with its creation time and
    /// public key (PEM); only asymmetric keys have them.
    pub async fn transit_public_keys(
        &self,
        mount: &str,
        name: &str,
    ) -> Result<Vec<(u64, String, String)>, SecretStoreError> {
        let key = with_token_reload!(self, client => vaultrs::transit::key::read(&*client, mount, name))?;
        let vaultrs::api::transit::responses::ReadKeyData::Asymmetric(versions) = key.keys else {
            return Err(SecretStoreError::Other(format!("transit key {name} is not an asymmetric key")));
        };
        let mut out = Vec::with_capacity(versions.len());
        for (version, entry) in versions {
            let version = version.parse().map_err(|_| SecretStoreError::Other("transit key version".into()))?;
            out.push((version, entry.creation_time, entry.public_key));
        }
        Ok(out)
    }

    /// An RSASSA-PKCS1-v1_5 SHA-256 signature of `input` by version
    /// `version` of transit key `name`, as raw bytes.
    pub async fn transit_sign(
        &self,
        mount: &str,
        name: &str,
        version: u64,
        input: &[u8],
    ) -> Result<Vec<u8>, SecretStoreError> {
        use base64::Engine as _;
        use vaultrs::api::transit::{HashAlgorithm, SignatureAlgorithm, requests::SignDataRequest};
        let encoded = base64::engine::general_purpose::STANDARD.encode(input);
        let encoded = encoded.as_str();
        let signed = with_token_reload!(self, client => async {
            let mut options = SignDataRequest::builder();
            options
                .key_version(version)
                .hash_algorithm(HashAlgorithm::Sha2_256)
                .signature_algorithm(SignatureAlgorithm::Pkcs1v15);
            vaultrs::transit::data::sign(&*client, mount, name, encoded, Some(&mut options)).await
        })?;
        // `vault:v<version>:<base64 signature>`.
        let raw = signed.signature.rsplit(':').next().unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|_| SecretStoreError::Other("transit returned a signature that is not base64".into()))
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

/// The token in a token file, without the trailing newline; errors name
/// the variable.
fn read_token_file(path: &Path) -> Result<String, SecretStoreError> {
    crate::config::read_secret_file(path)
        .map(|t| t.trim().to_owned())
        .map_err(|e| SecretStoreError::Other(format!("CLOUDCONN_VAULT_TOKEN_FILE ({}): {e}", path.display())))
}

/// Maps a vaultrs error to what the caller can act on. Vault's error strings
/// describe the request, never its data, but we keep only codes to be sure.
fn classify(err: ClientError) -> SecretStoreError {
    match err {
        ClientError::APIError { code: 404, .. } => SecretStoreError::NotFound,
        ClientError::APIError { code: 400, errors } if errors.iter().any(|e| e.contains("check-and-set")) => {
            SecretStoreError::VersionConflict
        }
        ClientError::APIError { code: code @ (401 | 403), .. } => {
            SecretStoreError::Denied(format!("vault answered {code}"))
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
        let key = self.key(path);
        let meta = with_token_reload!(self, client => kv2::set_with_options(
            &*client,
            &self.mount,
            &key,
            &plain,
            SetSecretRequestOptions { cas },
        ))?;
        Ok(meta.version)
    }

    async fn read(&self, path: &SecretPath, version: u64) -> Result<SecretFields, SecretStoreError> {
        let key = self.key(path);
        let plain: std::collections::BTreeMap<String, String> =
            with_token_reload!(self, client => kv2::read_version(&*client, &self.mount, &key, version))?;
        Ok(plain.into_iter().map(|(k, v)| (k, SecretString::from(v))).collect())
    }

    async fn current_version(&self, path: &SecretPath) -> Result<u64, SecretStoreError> {
        let key = self.key(path);
        match with_token_reload!(self, client => kv2::read_metadata(&*client, &self.mount, &key)) {
            Ok(meta) => Ok(meta.current_version),
            Err(SecretStoreError::NotFound) => Ok(0),
            Err(e) => Err(e),
        }
    }

    async fn destroy(&self, path: &SecretPath) -> Result<(), SecretStoreError> {
        let key = self.key(path);
        match with_token_reload!(self, client => kv2::delete_metadata(&*client, &self.mount, &key)) {
            Ok(()) | Err(SecretStoreError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
