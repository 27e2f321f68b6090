//! The run step's signing keys for a test app: one pair for the server and
//! one for its workers, fresh per app, as an operator would make them.

use std::path::{Path, PathBuf};

use cloudconn_infra::amqp::signing::{MessageKeys, MessageSigner, PeerKeys};

#[derive(Debug, Clone)]
pub struct KeyPairs {
    pub server: MessageSigner,
    pub worker: MessageSigner,
}

/// The files a separate worker process (or a production-mode config
/// loaded from variables) reads.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    pub signing_key: PathBuf,
    pub peer_keys: PathBuf,
}

impl KeyPairs {
    pub fn generate() -> Self {
        Self { server: MessageSigner::generate(), worker: MessageSigner::generate() }
    }

    /// The server's: its key, and the workers' public key.
    pub fn server_keys(&self) -> MessageKeys {
        keys(&self.server, &self.worker)
    }

    /// A worker's: its key, and the server's public key.
    pub fn worker_keys(&self) -> MessageKeys {
        keys(&self.worker, &self.server)
    }

    pub fn write_server_files(&self, dir: &Path) -> KeyFiles {
        write(dir, "server", &self.server, &self.worker)
    }

    pub fn write_worker_files(&self, dir: &Path) -> KeyFiles {
        write(dir, "worker", &self.worker, &self.server)
    }
}

fn keys(own: &MessageSigner, peer: &MessageSigner) -> MessageKeys {
    MessageKeys { signer: own.clone(), peers: PeerKeys::from_pem(&peer.public_pem()).expect("a fresh public key") }
}

fn write(dir: &Path, role: &str, own: &MessageSigner, peer: &MessageSigner) -> KeyFiles {
    std::fs::create_dir_all(dir).expect("key dir");
    let files = KeyFiles {
        signing_key: dir.join(format!("{role}-signing.pem")),
        peer_keys: dir.join(format!("{role}-peers.pem")),
    };
    std::fs::write(&files.signing_key, own.to_pem()).expect("write signing key");
    std::fs::write(&files.peer_keys, peer.public_pem()).expect("write peer keys");
    files
}
