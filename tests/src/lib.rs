//! cloudconn-tests: the harness the end-to-end tests (and later the
//! benchmark) use to boot the real server against real PostgreSQL and OpenBao.
//!
//! # Layout
//! - [`harness::env`]: where the test stack is (`deploy/stack.sh` exports it).
//! - [`harness::app`]: `TestApp::spawn()`: a fresh database, a unique Vault
//!   prefix, the server on port 0, a gRPC client.
//! - [`harness::chaos_proxy`]: a TCP proxy that can take a dependency down.
//! - [`harness::logs`]: captures the process's logs for canary searches.
//! - [`harness::fixtures`]: valid credentials for each provider.

pub mod bench;
/// The providers' protocol emulators (the `cloudconn-sandbox` crate, which
/// `--dev` also runs as its provider sandbox).
pub use cloudconn_sandbox as emulators;
pub mod harness;
