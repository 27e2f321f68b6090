//! `--dev` only: what stands in for the outside services in one process.
//! The binary refuses these without the flag (see `config`).

pub mod auth;
pub mod files;
pub mod minting;
pub mod pipeline;
pub mod sandbox;
pub mod secret_store;
