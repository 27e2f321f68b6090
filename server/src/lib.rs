//! cloudconn's server: the gRPC API over connection state in PostgreSQL (or
//! SQLite) and credential values in Vault.
//!
//! # Layout
//! - [`config`], [`startup`]: configuration, building and running the app.
//! - [`api`]: the gRPC surface (step 1: caller → server).
//! - [`lifecycle`]: one module per use case (create, complete, update, …).
//! - [`credentials`]: the run step (IssueCredentials): the credential
//!   cache, the request/reply to the workers, the usage records.
//! - [`domain`]: rules without I/O: names, providers, credentials, etags.
//! - [`store`]: sea-orm entities, migrations, one function per state change.
//! - [`secrets`]: the purge retrier for deleted connections' secrets.
//! - [`dev`]: what `--dev` uses instead of outside services.
//! - [`error`]: `AppError` and its one mapping to a gRPC status.
//! - [`quota`]: per-workspace rate limits and caps on the expensive calls.

pub mod api;
pub mod auth;
pub mod config;
pub mod credentials;
pub mod dev;
pub mod domain;
pub mod error;
pub mod lifecycle;
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
