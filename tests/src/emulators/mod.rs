//! Provider emulators for the probe tests. They implement the documented
//! protocol faithfully and check the real cryptography (HTTP Digest
//! responses, client secrets, JWT signatures), so a probe that passes here
//! speaks the provider's protocol, not a lenient imitation of it.

pub mod azure;
pub mod gcp;
pub mod mongodb_atlas;
pub mod neo4j_aura;

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;

/// Serves `router` on a free loopback port until the token is cancelled.
pub async fn serve(router: axum::Router) -> (SocketAddr, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind emulator");
    let addr = listener.local_addr().expect("addr");
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).with_graceful_shutdown(async move { token.cancelled().await }).await;
    });
    (addr, stop)
}

/// A random token or nonce.
pub fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
