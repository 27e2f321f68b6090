//! The OpenTelemetry tracer provider: OTLP export when configured.
//!
//! The standard variables configure it, as in every OpenTelemetry SDK:
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
//! turns export on, over OTLP/gRPC (tonic is already in the build, so no
//! second HTTP stack); `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`
//! name the process. Without an endpoint the provider has no exporter:
//! spans still get trace ids, so context still propagates and log lines
//! of one validation share a trace id, but nothing is sent anywhere.

use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};

const ENDPOINT_VARS: [&str; 2] = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"];

/// The provider for `service` (the default `service.name`), exporting over
/// OTLP when an endpoint variable is set. Must run inside the tokio runtime:
/// the exporter's channel spawns its connection task there.
pub fn from_env(service: &'static str) -> anyhow::Result<SdkTracerProvider> {
    from_vars(service, |name| std::env::var(name).ok())
}

/// [`from_env`] with the variables passed in (tests, no `set_var`).
pub fn from_vars(service: &'static str, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<SdkTracerProvider> {
    let resource = Resource::builder().with_service_name(service).build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let Some(endpoint) = ENDPOINT_VARS.iter().find_map(|name| var(name).filter(|v| !v.is_empty())) else {
        return Ok(builder.build());
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().with_endpoint(endpoint).build()?;
    Ok(builder.with_batch_exporter(exporter).build())
}
