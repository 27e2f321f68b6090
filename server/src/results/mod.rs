//! Step 5 of the flow, queue → server.

pub mod consumer;
