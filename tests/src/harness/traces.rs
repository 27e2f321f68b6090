//! Collects every span the process finishes, as the OpenTelemetry SDK hands
//! them to an exporter: what an OTLP collector would receive. A test reads
//! them to check that one validation is one trace across server and worker.

use std::sync::{Arc, Mutex};

use opentelemetry_sdk::{
    error::OTelSdkResult,
    trace::{SpanData, SpanExporter},
};

#[derive(Debug, Clone, Default)]
pub struct Collector(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collector {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend(batch);
        Ok(())
    }
}

impl Collector {
    pub fn finished(&self) -> Vec<SpanData> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
