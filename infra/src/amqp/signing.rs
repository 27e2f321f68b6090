//! Signatures on the run step's messages (docs/security.md, "The run step
//! over RabbitMQ").
//!
//! A RabbitMQ login proves only that a client may use a queue, not who
//! wrote a message: anyone who can read `<p>.issue` (the worker's login, a
//! broker admin) sees every request's fields, and could once publish
//! requests of their own and be handed live cloud credentials, or answer
//! the server's requests with credentials of their choosing. So each side
//! signs what it sends with an Ed25519 key that is not part of any broker
//! login, and checks the other side's signature:
//!
//! - the server signs each issue request — its body (workspace, connection,
//!   revision, scope, consumer, lifetime, deadline), its reply address and
//!   its correlation id — and workers hold only the server's public keys;
//! - a worker signs each reply, bound to the request's correlation id, and
//!   the server holds only the workers' public keys.
//!
//! Each signature covers a context string naming what is signed, so a
//! signature on one kind of message can never pass as another.
//!
//! Keys are PEM files an operator makes with `openssl genpkey -algorithm
//! ed25519` (PKCS#8) and `openssl pkey -pubout` (SPKI). A public-key file may
//! hold several keys, so a key can be rotated without a flag day: add the
//! new public key beside the old one, roll the signer, then drop the old.

use std::path::Path;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use ed25519_dalek::{
    Signature, Signer as _, SigningKey, VerifyingKey,
    pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _},
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

/// The AMQP header carrying a message's signature (base64).
pub const SIGNATURE_HEADER: &str = "cloudconn-signature";
/// Public keys one file may hold: enough to rotate, few enough that trying
/// each stays cheap.
pub const MAX_PEER_KEYS: usize = 8;

/// A process's keys for the run step: its own private key and the other
/// side's public keys.
#[derive(Debug, Clone)]
pub struct MessageKeys {
    pub signer: MessageSigner,
    pub peers: PeerKeys,
}

/// What is signed. The context ends every ambiguity between message kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    IssueRequest,
    IssueReply,
}

impl Context {
    fn label(self) -> &'static [u8] {
        match self {
            Context::IssueRequest => b"cloudconn issue request v2",
            Context::IssueReply => b"cloudconn issue reply v2",
        }
    }
}

/// The bytes a signature covers: the context, then each part, each
/// prefixed with its length so no two different messages share them.
fn signed_bytes(context: Context, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + parts.iter().map(|p| p.len() + 8).sum::<usize>());
    out.extend_from_slice(context.label());
    for part in parts {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{var} {path}: {why}")]
    File { var: &'static str, path: String, why: String },
}

/// This process's private key. `Debug` never shows it.
#[derive(Clone)]
pub struct MessageSigner {
    key: SigningKey,
}

impl std::fmt::Debug for MessageSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MessageSigner([REDACTED])")
    }
}

impl MessageSigner {
    /// Reads a PKCS#8 PEM Ed25519 private key. `var` names the setting in
    /// errors (never the key).
    pub fn from_file(var: &'static str, path: &Path) -> Result<Self, KeyError> {
        let error = |why: String| KeyError::File { var, path: path.display().to_string(), why };
        let pem = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|_| {
            error("is not a PKCS#8 PEM Ed25519 private key (openssl genpkey -algorithm ed25519)".into())
        })?;
        Ok(Self { key })
    }

    /// A fresh key, for tests and for `deploy/keys` style tooling.
    pub fn generate() -> Self {
        Self { key: SigningKey::from_bytes(&rand::random::<[u8; 32]>()) }
    }

    /// The private key as PKCS#8 PEM (to write a key file).
    pub fn to_pem(&self) -> String {
        self.key.to_pkcs8_pem(Default::default()).map(|pem| pem.to_string()).unwrap_or_default()
    }

    /// The public half as SPKI PEM, for the other side's keys file.
    pub fn public_pem(&self) -> String {
        self.key.verifying_key().to_public_key_pem(Default::default()).unwrap_or_default()
    }

    /// The signature over `parts` in `context`, base64.
    pub fn sign(&self, context: Context, parts: &[&[u8]]) -> String {
        STANDARD.encode(self.key.sign(&signed_bytes(context, parts)).to_bytes())
    }
}

/// The other side's public keys: a signature by any of them is accepted.
#[derive(Debug, Clone)]
pub struct PeerKeys {
    keys: Vec<VerifyingKey>,
}

impl PeerKeys {
    /// Reads one or more SPKI PEM Ed25519 public keys from one file.
    pub fn from_file(var: &'static str, path: &Path) -> Result<Self, KeyError> {
        let error = |why: String| KeyError::File { var, path: path.display().to_string(), why };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        Self::from_pem(&text).map_err(error)
    }

    pub fn from_pem(text: &str) -> Result<Self, String> {
        const END: &str = "-----END PUBLIC KEY-----";
        let mut keys = Vec::new();
        for block in text.split_inclusive(END).filter(|b| b.contains(END)) {
            let key = VerifyingKey::from_public_key_pem(block.trim())
                .map_err(|_| "holds a block that is not an SPKI PEM Ed25519 public key (openssl pkey -pubout)")?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err("holds no PEM public key".into());
        }
        if keys.len() > MAX_PEER_KEYS {
            return Err(format!("holds {} keys; at most {MAX_PEER_KEYS}", keys.len()));
        }
        Ok(Self { keys })
    }

    /// Whether `signature` (base64) is one of these keys' over `parts`.
    pub fn verify(&self, context: Context, parts: &[&[u8]], signature: &str) -> bool {
        let Ok(bytes) = STANDARD.decode(signature) else { return false };
        let Ok(signature) = Signature::from_slice(&bytes) else { return false };
        let message = signed_bytes(context, parts);
        // verify_strict: no malleable or small-order signatures.
        self.keys.iter().any(|key| key.verify_strict(&message, &signature).is_ok())
    }
}

/// Headers carrying `signature`.
pub fn signature_headers(signature: String) -> FieldTable {
    let mut headers = FieldTable::default();
    headers.insert(ShortString::from(SIGNATURE_HEADER), AMQPValue::LongString(LongString::from(signature)));
    headers
}

/// The signature a delivery's headers carry, if any.
pub fn signature_of(headers: Option<&FieldTable>) -> Option<String> {
    match headers?.inner().get(SIGNATURE_HEADER)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_context_parts_and_keys() {
        let signer = MessageSigner::generate();
        let other = MessageSigner::generate();
        let keys = PeerKeys::from_pem(&format!("{}\n{}", other.public_pem(), signer.public_pem())).unwrap();
        let signature = signer.sign(Context::IssueRequest, &[b"reply", b"corr", b"{}"]);
        assert!(keys.verify(Context::IssueRequest, &[b"reply", b"corr", b"{}"], &signature));
        assert!(!keys.verify(Context::IssueReply, &[b"reply", b"corr", b"{}"], &signature));
        assert!(!keys.verify(Context::IssueRequest, &[b"reply", b"corr", b"{ }"], &signature));
        // Moving bytes between parts changes what is signed.
        assert!(!keys.verify(Context::IssueRequest, &[b"repl", b"ycorr", b"{}"], &signature));
        let only_other = PeerKeys::from_pem(&other.public_pem()).unwrap();
        assert!(!only_other.verify(Context::IssueRequest, &[b"reply", b"corr", b"{}"], &signature));
        assert!(!keys.verify(Context::IssueRequest, &[b"reply", b"corr", b"{}"], "not base64!"));
    }

    /// Keys as `deploy/keys/make-message-keys.sh` makes them with openssl
    /// (test keys, never used anywhere else): a private key and a peer file
    /// holding two public keys, the first of them its own.
    #[test]
    fn openssl_made_keys_load_and_sign() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/amqp/testdata");
        let signer = MessageSigner::from_file("KEY", &dir.join("openssl-ed25519-key.pem")).unwrap();
        let peers = PeerKeys::from_file("PEERS", &dir.join("openssl-ed25519-public.pem")).unwrap();
        assert_eq!(peers.keys.len(), 2);
        assert!(peers.verify(Context::IssueReply, &[b"x"], &signer.sign(Context::IssueReply, &[b"x"])));
        let missing = MessageSigner::from_file("CLOUDCONN_AMQP_SIGNING_KEY_FILE", &dir.join("nope.pem")).unwrap_err();
        assert!(missing.to_string().starts_with("CLOUDCONN_AMQP_SIGNING_KEY_FILE"), "{missing}");
    }

    #[test]
    fn key_files_are_pem_and_never_debug_printed() {
        let signer = MessageSigner::generate();
        assert!(signer.to_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(format!("{signer:?}"), "MessageSigner([REDACTED])");
        assert!(PeerKeys::from_pem("").is_err());
        assert!(PeerKeys::from_pem(&signer.to_pem()).is_err());
        let many: String = (0..=MAX_PEER_KEYS).map(|_| MessageSigner::generate().public_pem()).collect();
        assert!(PeerKeys::from_pem(&many).unwrap_err().contains("at most"));
    }
}
