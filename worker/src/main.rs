//! `cloudconn-worker [--config FILE]`.

use std::path::PathBuf;

use anyhow::Context;
use cloudconn_infra::{
    telemetry::{self, LogFormat},
    vault::VaultStore,
};
use cloudconn_worker::config::WorkerConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => file = Some(PathBuf::from(args.next().context("--config needs a file")?)),
            other => anyhow::bail!("unknown argument {other:?}; usage: cloudconn-worker [--config FILE]"),
        }
    }
    telemetry::init(LogFormat::Json, telemetry::DEFAULT_FILTER, std::io::stdout)?;
    cloudconn_infra::tls::install_crypto_provider();
    let config = WorkerConfig::load(file.as_deref())?;
    config.validate()?;
    let _vault = VaultStore::new(&config.vault, config.timeouts.dependency_timeout())?;
    tracing::warn!(
        concurrency = config.worker_concurrency,
        "cloudconn-worker started; job consumption is not implemented yet (validation pipeline), waiting for shutdown"
    );
    cloudconn_infra::shutdown::on_signal().cancelled().await;
    Ok(())
}
