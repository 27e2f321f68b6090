//! Keyless connections against the stand-ins: tokens signed like
//! cloudconn's worker signs them, checked against a JWKS served like
//! cloudconn serves it, and every way each cloud refuses one.

mod aws;
mod azure;
mod gcp;
mod issuer;
mod sandbox;
mod verifier;

/// An HTTP client for the tests' own calls. reqwest is built without a
/// bundled TLS provider (the stack installs ring once at start); each test
/// runs in a process of its own under nextest, so each installs it.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
