//! `cloudconn-worker [--config FILE]`: loads the configuration, starts
//! logging, and consumes validation jobs until SIGINT/SIGTERM.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context;
use cloudconn_infra::{
    telemetry::{self, LogFormat},
    vault::VaultStore,
};
use cloudconn_worker::{Worker, config::WorkerConfig, probe::Probes};

const USAGE: &str = "usage: cloudconn-worker [--config FILE] [--help] [--version]

  Consumes validation jobs from RabbitMQ, probes the providers, publishes
  the results.
  --config FILE  TOML file with the same keys as the CLOUDCONN_* variables
                 (lower case, without the prefix); variables win.";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cloudconn_infra::telemetry::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => file = Some(PathBuf::from(args.next().context("--config needs a file")?)),
            "-h" | "--help" => {
                print!("{}", cloudconn_infra::variables::help(USAGE, cloudconn_infra::variables::Reader::Worker));
                return Ok(());
            }
            "-V" | "--version" => {
                println!("cloudconn-worker {}", env!("CARGO_PKG_VERSION"));
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let traces = telemetry::traces::from_env("cloudconn-worker")?;
    telemetry::init(LogFormat::Json, telemetry::DEFAULT_FILTER, std::io::stdout, &traces)?;
    cloudconn_infra::tls::install_crypto_provider();
    let config = WorkerConfig::load(file.as_deref())?;
    config.validate()?;
    let vault = Arc::new(VaultStore::connect(&config.vault, config.timeouts.dependency_timeout()).await?);
    let shutdown = cloudconn_infra::shutdown::on_signal();
    tokio::spawn(vault.clone().run_renewal(shutdown.clone()));
    tracing::info!(concurrency = config.worker_concurrency, "cloudconn-worker starting");
    // Keyless connections' tokens, signed by the transit key in Vault.
    let issuer = cloudconn_infra::oidc::transit::issuer(&config.oidc, vault.clone());
    let probes = Probes::production(&config).keyless(issuer.clone());
    let endpoint = match &config.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding CLOUDCONN_METRICS_LISTEN {addr}"))?,
        ),
        None => None,
    };
    let minters = cloudconn_worker::mint::Minters::production(&config).keyless(issuer);
    let mut worker = Worker::new(config, vault.clone(), probes, minters);
    if let Some(listener) = endpoint {
        worker = worker.with_endpoint(listener, Some(vault));
    }
    let ran = worker.run(shutdown).await;
    // Export what the batch still holds before the process goes.
    let _ = traces.shutdown();
    ran
}
