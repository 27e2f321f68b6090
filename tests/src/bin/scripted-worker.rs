//! The real worker with the scripted probe, as its own process, for the
//! crash tests (a test kills it with SIGKILL). Test code only: the product
//! binary, `cloudconn-worker`, never registers a scripted probe.

use std::sync::Arc;

use cloudconn_infra::vault::VaultStore;
use cloudconn_tests::harness::scripted_probe::ScriptedProbe;
use cloudconn_worker::{Worker, config::WorkerConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let traces = cloudconn_infra::telemetry::traces::from_vars("scripted-worker", |_| None)?;
    cloudconn_infra::telemetry::init(cloudconn_infra::telemetry::LogFormat::Json, "warn", std::io::stderr, &traces)?;
    cloudconn_infra::tls::install_crypto_provider();
    let config = WorkerConfig::load(None)?;
    config.validate()?;
    let vault = VaultStore::connect(&config.vault, config.timeouts.dependency_timeout()).await?;
    let (_, probes) = ScriptedProbe::everywhere();
    let minters = cloudconn_worker::mint::Minters::production(&config);
    Worker::new(config, Arc::new(vault), probes, minters).run(cloudconn_infra::shutdown::on_signal()).await
}
