//! Step 2 of the flow, server → queue: the transactional outbox.
//!
//! - [`events`]: what a lifecycle change writes to the outbox (in its
//!   transaction): public events and validation jobs.
//! - [`cloudevents`]: the public event envelope.
//! - [`broker`]: where the relay publishes (RabbitMQ, or in process in `--dev`).
//! - [`relay`]: claims unsent rows, publishes with confirms, marks them sent.

pub mod broker;
pub mod cloudevents;
pub mod events;
pub mod prune;
pub mod relay;
