//! One span per RPC, continuing the caller's trace.
//!
//! A caller that sends W3C `traceparent` metadata gets its validation (the
//! outbox row, the job, the worker's provider calls, the result) recorded
//! under its own trace id; a caller that sends none starts a trace here.

use cloudconn_infra::telemetry::propagation;
use tonic::codegen::http;

/// For `Server::trace_fn`: tonic runs each request's handler in this span.
pub fn rpc_span(request: &http::Request<()>) -> tracing::Span {
    // Never the raw path: the caller chooses it (see `methods`).
    let method = super::methods::served(request.uri().path());
    let span = tracing::info_span!("grpc", otel.name = %method, otel.kind = "server", rpc.method = %method);
    let traceparent = request.headers().get("traceparent").and_then(|v| v.to_str().ok());
    propagation::set_parent(&span, traceparent);
    span
}
