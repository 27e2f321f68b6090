//! cloudconn's server: the gRPC API over connection state in PostgreSQL (or
//! SQLite) and credential values in Vault.
//!
//! # Layout
//! In layers, lowest first; a module imports only its own layer and those
//! below (docs/architecture.md, "What may import what"; checked by
//! `tests/module_graph.rs`).
//! - [`domain`]: rules without I/O: names, providers, credentials, etags.
//! - [`error`]: `AppError`, the reasons a caller is refused, and the one
//!   mapping to a gRPC status.
//! - [`auth`], [`quota`], [`store`]: the caller; per-workspace rate limits,
//!   caps and per-caller shares; sea-orm entities, migrations, one function
//!   per state change.
//! - [`view`], [`ops`], [`outbox`], [`secrets`], [`dev`]: rows as proto
//!   messages; health and metrics; the transactional outbox; the purge
//!   retrier for deleted connections' secrets; what `--dev` uses instead of
//!   outside services.
//! - [`lifecycle`], [`credentials`], [`setup`], [`results`], [`watch`]: the
//!   use cases (create, complete, update, …; the run step; the setup kit;
//!   recording validation results; live events).
//! - [`api`], [`workbench`], [`oidc`]: the gRPC surface (step 1: caller →
//!   server); the Workbench's files; the OpenID Connect issuer's documents.
//! - [`config`], [`startup`]: configuration, building and running the app.

pub mod api;
pub mod auth;
pub mod config;
pub mod credentials;
pub mod dev;
pub mod domain;
pub mod error;
pub mod lifecycle;
pub mod oidc;
pub mod ops;
pub mod outbox;
pub mod quota;
pub mod results;
pub mod secrets;
pub mod setup;
pub mod startup;
pub mod store;
pub mod view;
pub mod watch;
pub mod workbench;
