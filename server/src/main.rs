//! `cloudconn-server [--dev] [--config FILE]`: parses arguments, loads the
//! configuration, starts logging, and runs the app until SIGINT/SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use cloudconn_infra::telemetry::{self, LogFormat};
use cloudconn_server::{
    config::{Mode, Providers, ServerConfig},
    startup::App,
};

const USAGE: &str =
    "usage: cloudconn-server [--dev [--dev-database]] [--providers sandbox|real] [--config FILE] [--help] [--version]

  --dev          one process, no outside services: SQLite, encrypted file
                 secret store in CLOUDCONN_DEV_DATA_DIR (default .cloudconn-dev).
                 For trying cloudconn, never for production. Refuses to start
                 when CLOUDCONN_DATABASE_URL is set, unless --dev-database.
  --dev-database with --dev: use CLOUDCONN_DATABASE_URL instead of the dev
                 SQLite file (the dev server then validates, relays and marks
                 connections active in that database).
  --providers P  what --dev validations reach: sandbox (default: in-process
                 stand-ins for the five providers, steered by the credential
                 values in docs/providers.md) or real (the clouds, at the
                 CLOUDCONN_* endpoints). Production refuses sandbox.
  --config FILE  TOML file with the same keys as the CLOUDCONN_* variables
                 (lower case, without the prefix); variables win.";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cloudconn_infra::telemetry::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let mut mode = Mode::Production;
    let mut file = None;
    let mut providers = None;
    let mut dev_database = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dev" => mode = Mode::Dev,
            "--dev-database" => dev_database = true,
            "--config" => file = Some(PathBuf::from(args.next().context(USAGE)?)),
            "--providers" => {
                let value = args.next().context(USAGE)?;
                providers = Some(value.parse().map_err(|e: String| anyhow::anyhow!("{e}\n{USAGE}"))?);
            }
            "-h" | "--help" => {
                print!("{}", cloudconn_infra::variables::help(USAGE, cloudconn_infra::variables::Reader::Server));
                return Ok(());
            }
            "-V" | "--version" => {
                println!("cloudconn-server {}", env!("CARGO_PKG_VERSION"));
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }

    let format = if mode == Mode::Dev { LogFormat::Pretty } else { LogFormat::Json };
    let traces = telemetry::traces::from_env("cloudconn-server")?;
    telemetry::init(format, telemetry::DEFAULT_FILTER, std::io::stdout, &traces)?;

    let mut config = ServerConfig::load(file.as_deref())?;
    config.providers = providers;
    config.dev_database = dev_database;
    let listener = tokio::net::TcpListener::bind(config.listen_addr()?)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let app = App::build(&config, mode, listener).await?;
    if mode == Mode::Dev {
        tracing::warn!("dev mode: file secret store, sandbox by default; never use it for real credentials");
        println!("cloudconn dev server listening on {} (data in {})", app.local_addr(), config.dev_data_dir.display());
        println!("database: {}", config.database_in_use(mode));
        match config.providers(mode) {
            Providers::Sandbox => println!(
                "validations reach the provider sandbox, not the real clouds (--providers real to reach them); \
                 docs/providers.md lists the sandbox's credential values"
            ),
            Providers::Real => println!("validations reach the real providers (--providers real)"),
        }
        if let Some(token) = &app.dev_token {
            println!(
                "dev token (every workspace; connections:read, connections:write and connections:use, so it also \
                 mints cloud credentials; send as `authorization: Bearer <token>`):\n{token}"
            );
            if config.workbench {
                // In the fragment: the browser never sends it to a server.
                let addr = app.local_addr();
                let host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
                println!("Workbench: http://{host}:{}/#token={token}", addr.port());
            }
        }
    }
    let shutdown = cloudconn_infra::shutdown::on_signal();
    let ran = app.run(shutdown).await;
    // Export what the batch still holds before the process goes.
    let _ = traces.shutdown();
    ran
}
