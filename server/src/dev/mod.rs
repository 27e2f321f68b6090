//! `--dev` only: what stands in for the outside services in one process.
//! The binary refuses these without the flag (see `config`).
//!
//! The in-process counterparts of the broker, the minter and the results
//! consumer sit beside the production ones: `outbox::broker::InProcessBroker`,
//! `credentials::minter::InProcessMinter`, `results::in_process`.

pub mod auth;
pub mod files;
pub mod oidc_key;
pub mod sandbox;
pub mod secret_store;
