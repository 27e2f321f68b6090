//! Captures everything the process logs, so tests can assert a canary secret
//! never reached a log line, and every span it finishes (see `traces`).
//! nextest runs each test in its own process, so the buffer holds one
//! test's logs and spans.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData};
use tracing_subscriber::fmt::MakeWriter;

use super::traces::Collector;

static BUFFER: OnceLock<(Arc<Mutex<Vec<u8>>>, Collector, SdkTracerProvider)> = OnceLock::new();

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the capturing subscriber once per process. Everything at
/// `debug` and above is kept, dependencies included: a secret logged by a
/// library at debug would leak in production with `RUST_LOG=debug`.
pub fn init() {
    BUFFER.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let spans = Collector::default();
        // The simple processor exports each span as it ends: no batching
        // delay for a test to wait out.
        let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
        let _ = cloudconn_infra::telemetry::init(
            cloudconn_infra::telemetry::LogFormat::Json,
            "debug",
            Capture(buffer.clone()),
            &provider,
        );
        (buffer, spans, provider)
    });
}

/// Everything logged so far.
pub fn captured() -> String {
    BUFFER
        .get()
        .map(|(b, _, _)| String::from_utf8_lossy(&b.lock().unwrap_or_else(|e| e.into_inner())).into_owned())
        .unwrap_or_default()
}

/// Every span finished so far.
pub fn finished_spans() -> Vec<SpanData> {
    BUFFER.get().map(|(_, spans, _)| spans.finished()).unwrap_or_default()
}
