//! Every way the CLI can end, mapped to one exit code in one place, and the
//! one function that prints an error. Scripts branch on these codes; the
//! table is also printed by `--help` ([`EXIT_CODES`]) and cli/README.md.

use std::process::ExitCode;

use tonic::Code;
use tonic_types::StatusExt;

/// The table `--help` prints. Keep it in step with [`Failure::code`].
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  unexpected error (INTERNAL, UNKNOWN, a local I/O failure)
  2  usage error (bad flags, a secret given with --field, no terminal to prompt on,
     no address or workspace configured)
  3  not found (NOT_FOUND)
  4  request refused (INVALID_ARGUMENT, FAILED_PRECONDITION, ALREADY_EXISTS,
     ABORTED etag mismatch, OUT_OF_RANGE): fix the input
  5  not allowed (UNAUTHENTICATED, PERMISSION_DENIED): fix the token
  6  validation failed: the provider refused the credentials (code, message and hint printed)
  7  try again later (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, server unreachable)
  8  validation not finished: still running when --timeout passed, or superseded";

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The command line (or the local configuration) is wrong. The message
    /// never repeats a value the user typed: it may have been a secret.
    Usage(String),
    /// The server answered with an error status.
    Status(tonic::Status),
    /// The server could not be reached at all.
    Unreachable { addr: String, cause: String },
    /// The validation ended FAILED; its details were already printed.
    ValidationFailed,
    /// The validation had no outcome in time (or was overtaken); what is
    /// known was already printed.
    ValidationUnfinished,
    /// Anything else: local I/O, a malformed answer.
    Other(String),
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    pub fn code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Status(status) => code_for(status.code()),
            Self::Unreachable { .. } => 7,
            Self::ValidationFailed => 6,
            Self::ValidationUnfinished => 8,
            Self::Other(_) => 1,
        }
    }
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Self {
        Self::Status(status)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self::Other(e.to_string())
    }
}

fn code_for(code: Code) -> u8 {
    match code {
        Code::Ok => 0,
        Code::NotFound => 3,
        Code::InvalidArgument | Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted | Code::OutOfRange => 4,
        Code::Unauthenticated | Code::PermissionDenied => 5,
        Code::Unavailable | Code::ResourceExhausted | Code::DeadlineExceeded | Code::Cancelled => 7,
        Code::Internal | Code::Unknown | Code::DataLoss | Code::Unimplemented => 1,
    }
}

/// Prints `failure` to stderr for a person and returns its exit code.
/// Server errors show the message, the ErrorInfo reason and each field
/// violation: never a debug dump of the status (it carries raw details).
pub fn report(failure: Failure) -> ExitCode {
    let code = failure.code();
    match &failure {
        Failure::Usage(message) => {
            eprintln!("error: {message}");
            eprintln!("(run with --help for usage)");
        }
        Failure::Status(status) => {
            let details = status.get_error_details();
            let message = if status.message().is_empty() { "the server refused the request" } else { status.message() };
            eprintln!("error: {message}");
            // The reason adds nothing when it only repeats the code.
            let reason = details
                .error_info()
                .map(|info| info.reason.as_str())
                .filter(|r| !r.is_empty() && *r != code_name(status.code()));
            eprintln!(
                "  code: {}{}",
                code_name(status.code()),
                reason.map(|r| format!(", reason: {r}")).unwrap_or_default()
            );
            if let Some(bad) = details.bad_request() {
                for violation in &bad.field_violations {
                    eprintln!("  field {}: {}", violation.field, violation.description);
                }
            }
            if let Some(help) = next_step(status.code()) {
                eprintln!("  {help}");
            }
        }
        Failure::Unreachable { addr, cause } => {
            eprintln!("error: cannot reach the cloudconn server at {addr}: {cause}");
            eprintln!("  is it running? (`cloudconn-server --dev`, or set --addr / CLOUDCONN_ADDR)");
        }
        // Printed by the command with the validation's details.
        Failure::ValidationFailed | Failure::ValidationUnfinished => {}
        Failure::Other(message) => eprintln!("error: {message}"),
    }
    ExitCode::from(code)
}

/// What a person should try next, for the codes where it is not obvious.
fn next_step(code: Code) -> Option<&'static str> {
    match code {
        Code::Unauthenticated => Some("check the token (--token / CLOUDCONN_TOKEN)"),
        Code::PermissionDenied => Some("the token lacks a scope or this workspace (--workspace / CLOUDCONN_WORKSPACE)"),
        Code::Unavailable | Code::ResourceExhausted => Some("nothing was changed; try again shortly"),
        _ => None,
    }
}

/// The gRPC code as its canonical upper-case name (`NOT_FOUND`).
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grpc_code_has_the_documented_exit_code() {
        let cases = [
            (Code::NotFound, 3),
            (Code::InvalidArgument, 4),
            (Code::FailedPrecondition, 4),
            (Code::AlreadyExists, 4),
            (Code::Aborted, 4),
            (Code::Unauthenticated, 5),
            (Code::PermissionDenied, 5),
            (Code::Unavailable, 7),
            (Code::ResourceExhausted, 7),
            (Code::Internal, 1),
        ];
        for (code, exit) in cases {
            assert_eq!(Failure::Status(tonic::Status::new(code, "m")).code(), exit, "{code:?}");
            assert!(EXIT_CODES.contains(&format!("  {exit}  ")), "--help documents {exit}");
        }
        assert_eq!(Failure::usage("x").code(), 2);
        assert_eq!(Failure::ValidationFailed.code(), 6);
        assert_eq!(Failure::ValidationUnfinished.code(), 8);
    }
}
