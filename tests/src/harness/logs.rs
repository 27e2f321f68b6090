//! Captures everything the process logs, so tests can assert a canary secret
//! never reached a log line. nextest runs each test in its own process, so
//! the buffer holds one test's logs.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use tracing_subscriber::fmt::MakeWriter;

static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

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
        let _ = cloudconn_infra::telemetry::init(
            cloudconn_infra::telemetry::LogFormat::Json,
            "debug",
            Capture(buffer.clone()),
        );
        buffer
    });
}

/// Everything logged so far.
pub fn captured() -> String {
    BUFFER
        .get()
        .map(|b| String::from_utf8_lossy(&b.lock().unwrap_or_else(|e| e.into_inner())).into_owned())
        .unwrap_or_default()
}
