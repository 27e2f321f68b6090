//! sea-orm entities, one per table. The schema itself is in `store::migrations`.
//!
//! JSON-valued columns (scopes, credential views, validation details) are
//! `TEXT` holding JSON, so the same schema runs on PostgreSQL and SQLite.

pub mod audit;
pub mod connection_consumers;
pub mod connections;
pub mod outbox;
pub mod secret_purges;
pub mod validations;
