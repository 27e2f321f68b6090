//! sea-orm entities, one per table. The schema itself is in `store::migrations`.
//!
//! JSON-valued columns (scopes, credential views, validation details) are
//! `TEXT` holding JSON, so the same schema runs on PostgreSQL and SQLite. Each
//! is read by a method of its entity's `Model` and written by one function
//! beside it (`json_text` holds the format).

pub mod audit;
pub mod connection_consumers;
pub mod connections;
pub mod issue_hits;
mod json_text;
pub mod outbox;
pub mod secret_purges;
pub mod validations;
