//! One validation is one trace: the caller's W3C trace context goes through
//! the gRPC call, the outbox row, RabbitMQ, the worker, the provider's HTTP
//! calls and the result back to the server, and on to the events.

use std::{collections::HashMap, time::Duration};

use cloudconn_proto::v1::{self as pb, Neo4jAuraCredentials, complete_connection_request::Credentials};
use cloudconn_tests::{
    emulators::{self, neo4j_aura},
    harness::{app::TestApp, logs},
};
use cloudconn_worker::config::Endpoints;
use opentelemetry::trace::{SpanId, TraceId};

use crate::helpers::*;

/// The spans a validation must leave, each in the caller's trace.
const HOPS: [&str; 5] = [
    "/cloudconn.v1.ConnectionService/ValidateConnection",
    "outbox publish",
    "validation job",
    "provider request",
    "validation result",
];

#[tokio::test]
async fn a_validation_is_one_trace_from_the_caller_to_the_provider_and_back() {
    let aura = emulators::serve(neo4j_aura::router(neo4j_aura::Aura::new(HashMap::from([(
        "aura-client".to_owned(),
        neo4j_aura::Client { secret: "aura-secret".into(), tenant: "tenant-1".into(), can_list_instances: true },
    )]))))
    .await;
    let endpoints = Endpoints { aura_base: aura.url(), ..Endpoints::default() };
    let app = TestApp::builder().with_real_probes(endpoints).spawn().await;
    let mut events = app.subscribe_events("acme.connection.activated").await;

    create(&app, "acme", "graph", pb::Provider::Neo4jAura).await;
    let credentials = Credentials::Neo4jAura(Neo4jAuraCredentials {
        aura_client_id: "aura-client".into(),
        aura_client_secret: "aura-secret".into(),
    });
    complete(&app, "acme", "graph", credentials).await.unwrap();

    // The caller's own span, as its tracing library would send it.
    let trace = TraceId::from_bytes(rand::random());
    let caller_span = SpanId::from_bytes(rand::random());
    let mut request = tonic::Request::new(pb::ValidateConnectionRequest {
        workspace: "acme".into(),
        tag: "graph".into(),
        wait: Some(prost_types::Duration { seconds: 20, nanos: 0 }),
    });
    request.metadata_mut().insert("traceparent", format!("00-{trace}-{caller_span}-01").parse().unwrap());
    let done = app.client.clone().validate_connection(request).await.unwrap().into_inner();
    assert_eq!(done.validation.unwrap().state(), pb::ValidationState::Succeeded);

    // The activation event continues the trace for subscribers.
    let activated = events.next(Duration::from_secs(10)).await;
    let event_trace = activated.traceparent.expect("the event carries a traceparent");
    assert_eq!(event_trace.split('-').nth(1), Some(trace.to_string().as_str()), "{event_trace}");

    // The provider saw the same trace on every call (token, tenants, instances).
    let seen = aura.traceparents.lock().unwrap().clone();
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(seen.iter().all(|tp| tp.contains(&trace.to_string())), "{seen:?}");

    // A span is exported when it ends; the last ones (the result's) end
    // just after the answer, so give them a moment.
    let mut in_trace = Vec::new();
    for _ in 0..50 {
        in_trace = logs::finished_spans().into_iter().filter(|s| s.span_context.trace_id() == trace).collect();
        if HOPS.iter().all(|hop| in_trace.iter().any(|s| s.name == *hop)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for hop in HOPS {
        assert!(in_trace.iter().any(|s| s.name == hop), "no {hop:?} span in the trace; it has {:?}", names(&in_trace));
    }
    // The server's span is the caller's child, and the hops chain: each
    // one's parent is a span of this trace.
    let rpc = in_trace.iter().find(|s| s.name == HOPS[0]).unwrap();
    assert_eq!(rpc.parent_span_id, caller_span);
    let ids: Vec<SpanId> = in_trace.iter().map(|s| s.span_context.span_id()).collect();
    for s in in_trace.iter().filter(|s| HOPS[1..].contains(&s.name.as_ref())) {
        assert!(ids.contains(&s.parent_span_id), "{:?} hangs off a span outside the trace", s.name);
    }
    app.finish().await;
}

fn names(spans: &[opentelemetry_sdk::trace::SpanData]) -> Vec<String> {
    spans.iter().map(|s| s.name.to_string()).collect()
}
