//! cloudconn's validation worker: consumes validation jobs, reads the exact
//! credential revision from Vault (read-only), probes the provider and
//! publishes the outcome. It has no database access.
//!
//! # Layout
//! - [`config`]: `WorkerConfig` (concurrency, provider endpoints).
//!
//! Job consumption and the provider probes arrive with the validation
//! pipeline; until then the binary checks its configuration and Vault access,
//! then waits for shutdown.

pub mod config;
