//! W3C trace context (https://www.w3.org/TR/trace-context/) across hops.
//!
//! The context travels as a `traceparent` string: in gRPC metadata from
//! the caller, in the outbox row (so a relay on another replica, minutes
//! later, still continues the caller's trace), in AMQP headers to the
//! worker and back, and in the worker's HTTP calls to the provider. Each
//! receiving hop makes its span a child of what it received.

use opentelemetry::{
    Context,
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::TraceContextExt,
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::amqp::trace_context::{is_valid, new_traceparent};

const TRACEPARENT: &str = "traceparent";

struct One(Option<String>);

impl Injector for One {
    fn set(&mut self, key: &str, value: String) {
        if key == TRACEPARENT {
            self.0 = Some(value);
        }
    }
}

impl Extractor for One {
    fn get(&self, key: &str) -> Option<&str> {
        (key == TRACEPARENT).then_some(self.0.as_deref()).flatten()
    }
    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

/// The `traceparent` of `span`, if it belongs to a trace.
pub fn traceparent_of(span: &Span) -> Option<String> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = One(None);
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.0.filter(|tp| is_valid(tp))
}

/// The current span's `traceparent`, or a new trace when there is none
/// (a change made outside any request, e.g. by a background task).
pub fn current_traceparent() -> String {
    traceparent_of(&Span::current()).unwrap_or_else(new_traceparent)
}

/// Makes `span` a child of the context in `traceparent` (ignored when
/// absent or malformed: the span then starts a trace of its own).
pub fn set_parent(span: &Span, traceparent: Option<&str>) {
    let Some(tp) = traceparent.filter(|tp| is_valid(tp)) else { return };
    let cx = TraceContextPropagator::new().extract_with_context(&Context::new(), &One(Some(tp.to_owned())));
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}
