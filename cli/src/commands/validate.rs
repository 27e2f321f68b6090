//! `validate`: start a validation, then wait for its outcome with a
//! spinner on a terminal. Also the waiting half of `complete --validate`.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use cloudconn_proto::v1::{self as pb, ValidationState};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{args::OutputFormat, client::Client, exit::Failure, output};

/// First pause between polls; doubles up to [`MAX_POLL`]. Sandbox and
/// cached outcomes land within a few hundred milliseconds.
const FIRST_POLL: Duration = Duration::from_millis(150);
const MAX_POLL: Duration = Duration::from_secs(1);

pub async fn run(client: &mut Client, tag: &str, wait: Option<Duration>, format: OutputFormat) -> Result<(), Failure> {
    // wait = 0: the server answers as soon as the validation is queued (or
    // with the one already queued or running for this revision). Waiting
    // here by polling, rather than in one long call, shows live state.
    let request =
        pb::ValidateConnectionRequest { workspace: client.workspace.clone(), tag: tag.to_owned(), wait: None };
    let started = client.grpc.validate_connection(request).await?.into_inner();
    match wait {
        None => {
            print(&started, format)?;
            if format == OutputFormat::Text {
                eprintln!("validation queued; `cloudconn connections validate {tag}` waits for its outcome");
            }
            Ok(())
        }
        Some(timeout) => {
            let validation = started.validation.ok_or_else(|| Failure::Other("no validation in the answer".into()))?;
            let connection = started.connection.unwrap_or_default();
            let outcome = wait_for(client, tag, validation, connection, timeout).await?;
            finish(tag, &outcome, timeout, format)
        }
    }
}

/// The outcome of a wait: the last state seen, and whether a newer
/// validation overtook ours (then ours ended SUPERSEDED, changing nothing).
pub struct Outcome {
    pub response: pb::ValidateConnectionResponse,
    pub overtaken: bool,
}

/// Polls `GetConnection` until `validation` is terminal, overtaken, or
/// `timeout` has passed.
pub async fn wait_for(
    client: &mut Client,
    tag: &str,
    mut validation: pb::Validation,
    mut connection: pb::Connection,
    timeout: Duration,
) -> Result<Outcome, Failure> {
    let start = Instant::now();
    let spinner = spinner();
    let mut pause = FIRST_POLL;
    let mut overtaken = false;
    while !is_terminal(validation.state()) && start.elapsed() < timeout {
        spinner.set_message(format!(
            "validating {tag}: {} ({}s)",
            output::state_word(validation.state()),
            start.elapsed().as_secs()
        ));
        tokio::time::sleep(pause.min(timeout.saturating_sub(start.elapsed()))).await;
        pause = (pause * 2).min(MAX_POLL);
        let request = pb::GetConnectionRequest { workspace: client.workspace.clone(), tag: tag.to_owned() };
        connection = client.grpc.get_connection(request).await?.into_inner();
        match &connection.last_validation {
            Some(latest) if latest.id == validation.id => validation = latest.clone(),
            _ => {
                overtaken = true;
                break;
            }
        }
    }
    spinner.finish_and_clear();
    let response = pb::ValidateConnectionResponse { validation: Some(validation), connection: Some(connection) };
    Ok(Outcome { response, overtaken })
}

/// Prints the outcome and turns it into the exit code: success, the
/// validation failed (code, message and hint on stderr too), or unfinished.
pub fn finish(tag: &str, outcome: &Outcome, timeout: Duration, format: OutputFormat) -> Result<(), Failure> {
    print(&outcome.response, format)?;
    let validation = outcome.response.validation.clone().unwrap_or_default();
    if outcome.overtaken {
        eprintln!(
            "error: validation {} was overtaken by a newer one (new credentials or another validate); \
             `cloudconn connections get {tag}` shows the latest",
            validation.id
        );
        return Err(Failure::ValidationUnfinished);
    }
    match validation.state() {
        ValidationState::Succeeded => Ok(()),
        ValidationState::Failed => {
            let error = validation.error.unwrap_or_default();
            eprintln!("error: validation failed: {}: {}", error.code, error.message);
            if !error.hint.is_empty() {
                eprintln!("  hint: {}", error.hint);
            }
            Err(Failure::ValidationFailed)
        }
        ValidationState::Superseded => {
            eprintln!("error: validation {} was superseded and changed nothing", validation.id);
            Err(Failure::ValidationUnfinished)
        }
        state => {
            eprintln!(
                "error: validation still {} after {}s; run `cloudconn connections validate {tag}` again to keep \
                 waiting (it picks up the same validation)",
                output::state_word(state),
                timeout.as_secs()
            );
            Err(Failure::ValidationUnfinished)
        }
    }
}

fn print(response: &pb::ValidateConnectionResponse, format: OutputFormat) -> Result<(), Failure> {
    match format {
        OutputFormat::Json => output::print_json(response, "cloudconn.v1.ValidateConnectionResponse"),
        OutputFormat::Text => {
            if let Some(v) = &response.validation {
                output::validation_view(v);
            }
            if let Some(c) = &response.connection {
                output::connection_status(c);
            }
            Ok(())
        }
    }
}

fn is_terminal(state: ValidationState) -> bool {
    matches!(state, ValidationState::Succeeded | ValidationState::Failed | ValidationState::Superseded)
}

/// A spinner on stderr when it is a terminal; hidden otherwise, so pipes
/// and CI logs get no control characters.
fn spinner() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        spinner.set_style(style);
    }
    spinner.enable_steady_tick(Duration::from_millis(100));
    spinner
}
