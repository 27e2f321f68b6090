//! Step 5 of the flow, queue → server.

pub mod consumer;
pub mod deadline;
