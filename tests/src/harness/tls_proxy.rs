//! A TLS front for a plain TCP service (OpenBao in the test stack): it
//! serves a certificate for `localhost` from a test CA and forwards the
//! decrypted bytes, so a test can talk `https://` to Vault.

use std::{net::SocketAddr, sync::Arc};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

use super::tls::TlsMaterial;

/// The running front; it stops when the test's runtime ends.
pub struct TlsProxy {
    pub addr: SocketAddr,
}

impl TlsProxy {
    /// Listens on 127.0.0.1 with `material.server` and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr, material: &TlsMaterial) -> Self {
        crate::harness::logs::init();
        cloudconn_infra::tls::install_crypto_provider();
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(material.server.cert.as_bytes()).collect::<Result<_, _>>().expect("cert");
        let key = PrivateKeyDer::from_pem_slice(material.server.key.as_bytes()).expect("key");
        let config = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(certs, key).expect("tls");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind tls proxy");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that does not trust us fails the handshake: fine.
                    let Ok(mut tls) = acceptor.accept(socket).await else { return };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        Self { addr }
    }
}
