//! The one place logging and tracing are set up.
//!
//! The sink is a parameter (as in zero2prod's `get_subscriber`): binaries log
//! to stdout, tests capture into a buffer they search for canary secrets.
//! Spans take `skip_all`, and nothing here formats request bodies, so a
//! secret can only reach a log or a span by someone writing it there
//! explicitly.
//!
//! Every span is also an OpenTelemetry span ([`traces`]): that is what lets
//! a validation carry one W3C trace context across the gRPC call, the outbox
//! row, RabbitMQ, the worker, the provider's HTTP calls and the result
//! ([`propagation`]). The spans leave the process only when an OTLP
//! endpoint is configured.

pub mod propagation;
pub mod traces;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line: production, for log shippers.
    Json,
    /// Human-readable lines: `--dev` and local runs.
    Pretty,
}

/// Default filter when `RUST_LOG` is unset. Dependencies stay at `warn`
/// because some (HTTP clients) are chatty at `info`.
///
/// `aws_config` only at `error`: it warns at each step of the credential
/// chain it tries (on a machine without AWS credentials, a page of IMDS
/// warnings per validation); the AWS probe says in one line when the
/// worker has no identity.
pub const DEFAULT_FILTER: &str =
    "warn,cloudconn_server=info,cloudconn_worker=info,cloudconn_infra=info,aws_config=error";

/// Installs the global subscriber: log lines to `sink` (`RUST_LOG`
/// overrides `default_filter`) and spans to `traces` (see
/// [`traces::from_env`]). Returns an error if a subscriber is already
/// installed, which tests (one process, many apps) ignore.
pub fn init<W>(format: LogFormat, default_filter: &str, sink: W, traces: &SdkTracerProvider) -> anyhow::Result<()>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let otel = tracing_opentelemetry::layer().with_tracer(traces.tracer("cloudconn"));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    match format {
        LogFormat::Json => registry.with(tracing_subscriber::fmt::layer().json().with_writer(sink)).try_init()?,
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer().with_writer(sink)).try_init()?,
    }
    Ok(())
}

/// How a binary ends: a failed start is one line on stderr (`error: …`,
/// the causes joined by `: `), the whole chain and backtrace only when
/// `RUST_BACKTRACE` asks for them. Exit code 1 on failure.
pub fn exit_code(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
                eprintln!("Error: {e:?}");
            } else {
                eprintln!("error: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
