//! Step 1 of the flow, caller → server: the gRPC surface.
//!
//! - [`service`]: one thin function per RPC.
//! - [`convert`]: proto ↔ domain, collecting every field violation.
//! - [`page_token`]: opaque list cursors bound to workspace and filters.

pub mod convert;
pub mod limits;
pub mod page_token;
pub mod service;
pub mod trace;
