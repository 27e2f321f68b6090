//! Step 5 of the flow, queue → server: validation results recorded.
//!
//! - [`consumer`]: results from the workers over RabbitMQ (production).
//! - [`in_process`]: `--dev`, jobs run by the worker's code in process and
//!   their results recorded directly.
//! - [`deadline`]: validations no result reached in time end as failed.

pub mod consumer;
pub mod deadline;
pub mod in_process;
