//! The process-wide rustls crypto provider.
//!
//! vaultrs and sqlx are built with rustls but without a bundled provider (so a
//! cold build skips the aws-lc C library); rustls then needs one installed
//! before the first TLS handshake.

/// Installs `ring` as the rustls provider. Idempotent: a second call (tests
/// build many apps in one process) is a no-op. Called by whatever builds a
/// TLS-capable client (the Vault store, the probes' HTTP client) and by
/// `App::build`, so no entry point can forget it.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
