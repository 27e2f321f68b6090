//! Secret-store concerns of the server beyond single calls.

pub mod purge;
