//! The `CLOUDCONN_AMQP_*` section: jobs, results and public events.

use secrecy::SecretString;
use serde::Deserialize;

use super::{ConfigError, Findings, TransportConfig};
use crate::amqp::signing::{MessageKeys, MessageSigner, PeerKeys};

/// RabbitMQ: jobs, results and public events.
#[derive(Debug, Clone, Deserialize)]
pub struct AmqpConfig {
    /// `CLOUDCONN_AMQP_URL`, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    #[serde(default)]
    pub amqp_url: Option<SecretString>,
    /// `CLOUDCONN_AMQP_PREFIX`: prefix of every exchange and queue, default `cloudconn`.
    #[serde(default = "default_amqp_prefix")]
    pub amqp_prefix: String,
    /// `CLOUDCONN_AMQP_CA_CERT`: PEM CA bundle that signs the broker's
    /// certificate for `amqps://`, trusted besides the public web roots.
    #[serde(default)]
    pub amqp_ca_cert: Option<std::path::PathBuf>,
    /// `CLOUDCONN_AMQP_SIGNING_KEY_FILE`: this process's Ed25519 private key
    /// (PKCS#8 PEM), signing what it sends on the run step: issue requests
    /// (server) or replies (worker).
    #[serde(default)]
    pub amqp_signing_key_file: Option<std::path::PathBuf>,
    /// `CLOUDCONN_AMQP_PEER_KEYS_FILE`: the other side's Ed25519 public keys
    /// (SPKI PEM, one or more): the server's for a worker, the workers' for
    /// a server.
    #[serde(default)]
    pub amqp_peer_keys_file: Option<std::path::PathBuf>,
    /// What those two files hold, once [`AmqpConfig::read_keys`] has read them.
    #[serde(skip)]
    pub keys: Option<MessageKeys>,
}

fn default_amqp_prefix() -> String {
    "cloudconn".into()
}

impl Default for AmqpConfig {
    fn default() -> Self {
        Self {
            amqp_url: None,
            amqp_prefix: default_amqp_prefix(),
            amqp_ca_cert: None,
            amqp_signing_key_file: None,
            amqp_peer_keys_file: None,
            keys: None,
        }
    }
}

impl AmqpConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.amqp_url.is_none() {
            return Err(ConfigError::Invalid("CLOUDCONN_AMQP_URL is required".into()));
        }
        let ok = !self.amqp_prefix.is_empty()
            && self.amqp_prefix.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(ConfigError::Invalid("CLOUDCONN_AMQP_PREFIX must be [A-Za-z0-9._-]+".into()));
        }
        if self.keys.is_none() {
            return Err(ConfigError::Invalid(
                "CLOUDCONN_AMQP_SIGNING_KEY_FILE and CLOUDCONN_AMQP_PEER_KEYS_FILE are required: \
                 issue requests and replies are signed (docs/security.md)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Reads the two key files, when set. Call once while loading.
    pub fn read_keys(&mut self) -> Result<(), ConfigError> {
        let invalid = |e: crate::amqp::signing::KeyError| ConfigError::Invalid(e.to_string());
        match (&self.amqp_signing_key_file, &self.amqp_peer_keys_file) {
            (None, None) => Ok(()),
            (Some(signing), Some(peers)) => {
                let signer = MessageSigner::from_file("CLOUDCONN_AMQP_SIGNING_KEY_FILE", signing).map_err(invalid)?;
                let peers = PeerKeys::from_file("CLOUDCONN_AMQP_PEER_KEYS_FILE", peers).map_err(invalid)?;
                self.keys = Some(MessageKeys { signer, peers });
                Ok(())
            }
            _ => Err(ConfigError::Invalid(
                "CLOUDCONN_AMQP_SIGNING_KEY_FILE and CLOUDCONN_AMQP_PEER_KEYS_FILE go together".into(),
            )),
        }
    }

    /// What production adds to [`AmqpConfig::validate`]: `amqps://` unless
    /// the broker is on this machine or plaintext is allowed.
    pub fn validate_transport(&self, policy: &TransportConfig, found: &mut Findings) {
        use secrecy::ExposeSecret;
        if let Some(url) = &self.amqp_url {
            found.transport(policy, "CLOUDCONN_AMQP_URL", url.expose_secret(), "amqps", "amqp");
        }
    }

    pub fn topology(&self) -> crate::amqp::topology::Topology {
        crate::amqp::topology::Topology::new(&self.amqp_prefix)
    }

    /// Reads `CLOUDCONN_AMQP_CA_CERT`, if set, and trusts it for every
    /// `amqps://` connection this process opens. Call once at start.
    pub fn install_trust(&self) -> Result<(), ConfigError> {
        let Some(path) = &self.amqp_ca_cert else { return Ok(()) };
        let pem = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Invalid(format!("CLOUDCONN_AMQP_CA_CERT {}: {e}", path.display())))?;
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(ConfigError::Invalid(format!(
                "CLOUDCONN_AMQP_CA_CERT {} holds no PEM certificate",
                path.display()
            )));
        }
        crate::amqp::trust_ca(pem);
        Ok(())
    }
}
