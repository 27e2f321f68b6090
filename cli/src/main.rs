//! `cloudconn`: the command-line client of cloudconn's ConnectionService.
//!
//! # Layout
//! - [`args`]: the grammar (clap); [`config`]: address, token, workspace.
//! - [`client`]: the gRPC channel with the bearer token.
//! - [`commands`]: one function per command; [`secrets`]: credential input.
//! - [`output`]: tables and proto3 JSON; [`exit`]: exit codes and errors.

mod args;
mod client;
mod commands;
mod config;
mod exit;
mod output;
mod secrets;

use std::{io::IsTerminal, process::ExitCode};

use clap::{CommandFactory, Parser};

use crate::{
    args::{Cli, Command, CredentialsFormat, OutputChoice, OutputFormat},
    exit::Failure,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        // Into a buffer first: clap_complete panics on a write error, and
        // `| head` closes the pipe early.
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "cloudconn", &mut script);
        output::out!("{}", String::from_utf8_lossy(&script).trim_end());
        return ExitCode::SUCCESS;
    }
    // One thread: the CLI makes one call at a time.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return exit::report(Failure::Other(format!("starting the runtime: {e}"))),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => exit::report(failure),
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let format = output_format(cli.global.output);
    let config = config::Config::resolve(&cli.global)?;
    let mut client = client::Client::connect(&config).await?;
    match cli.command {
        Command::Providers => commands::providers(&mut client, format).await,
        Command::Connections(command) => commands::connections(&mut client, command, format).await,
        Command::Setup { tag, out, kind } => {
            commands::setup::run(&mut client, tag, kind.unwrap_or_default(), out.as_deref(), format).await
        }
        Command::Credentials(args::CredentialsCommand::Issue { tag, scope, consumer, ttl, format: deprecated }) => {
            let format = match deprecated {
                None => format,
                Some(old) => {
                    // Hidden and deprecated: -o is the one output flag.
                    let (instead, format) = match old {
                        CredentialsFormat::Json => ("use -o json", OutputFormat::Json),
                        CredentialsFormat::Env => ("leave it out (export lines are the default)", OutputFormat::Text),
                    };
                    eprintln!("warning: --format is deprecated and will be removed: {instead}");
                    format
                }
            };
            commands::credentials::issue(&mut client, tag, scope, consumer, ttl, format).await
        }
        Command::Completions { .. } => Ok(()),
    }
}

/// `-o json` → JSON. Otherwise text, laid out as asked (`-o table`,
/// `-o plain`) or, by default, aligned for a terminal and plain for a pipe
/// or a file.
fn output_format(choice: Option<OutputChoice>) -> OutputFormat {
    let layout = match choice {
        Some(OutputChoice::Json) => return OutputFormat::Json,
        Some(OutputChoice::Table) => output::Layout::Aligned,
        Some(OutputChoice::Plain) => output::Layout::Plain,
        None if std::io::stdout().is_terminal() => output::Layout::Aligned,
        None => output::Layout::Plain,
    };
    output::set_layout(layout);
    OutputFormat::Text
}
