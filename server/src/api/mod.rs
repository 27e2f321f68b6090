//! Step 1 of the flow, caller → server: the gRPC surface.
//!
//! - [`service`]: one thin function per RPC.
//! - [`admission`]: how much work callers can make the server hold at once.
//! - [`convert`]: proto ↔ domain, collecting every field violation.
//! - [`page_token`]: opaque list cursors bound to workspace and filters.
//! - [`methods`]: the paths served, so caller-chosen paths never become labels.
//! - [`metrics`]: every call counted and timed, by method.
//! - [`web`]: gRPC-Web for browsers, with CORS for the configured origins.
//! - [`http1`]: HTTP/1.1 bodies: nothing read before admission, a budget
//!   for those being read, early answers that close cleanly.

pub mod admission;
pub mod answer;
pub mod convert;
pub mod http1;
pub mod limits;
pub mod methods;
pub mod metrics;
pub mod page_token;
pub mod service;
pub mod trace;
pub mod web;
