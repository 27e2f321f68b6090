//! What AWS's answers mean: transient or a refusal, and what a refused
//! `AssumeRole` tells the user to fix. Shared by the probe, its keyless
//! form (`aws_web.rs`) and minting.

use aws_sdk_sts::{
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
};

use crate::probe::{ErrorCode, ProbeFailure};

/// The worker has no AWS identity: final (retrying within the job cannot
/// help); validating again works once the operators give the workers one.
pub(super) fn no_identity() -> ProbeFailure {
    ProbeFailure::new(
        ErrorCode::ProviderUnavailable,
        "the cloudconn worker has no AWS identity of its own to assume the role with",
        "Nothing is wrong with this connection: the cloudconn operators must give the workers the platform's AWS \
         identity (the account the role trusts: AWS_* keys, a shared profile, web identity or an instance role), \
         then validate again.",
    )
}

/// What went wrong with one SDK call.
pub(crate) enum Failure {
    /// Throttled, 5xx, timed out, unreachable: retry.
    Transient(String),
    /// Refused, with the service's error code.
    Refused(String),
}

/// Throttling or a server error, by the error code or else by the status
/// (the classification `http.rs` gives every other provider): a 429 or 5xx
/// whose code the list does not know is still retried, never taken for a
/// refusal of the role.
pub(super) fn transient_answer(status: u16, code: &str) -> bool {
    let throttled =
        matches!(code, "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException");
    throttled
        || code.contains("ServiceUnavailable")
        || code == "InternalFailure"
        || code == "InternalError"
        || reqwest::StatusCode::from_u16(status).is_ok_and(crate::probe::http::is_transient)
}

pub(crate) fn classify<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Failure {
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = match service.err().code() {
                Some(code) => code.to_owned(),
                // An error body the SDK could not read (seen with moto's
                // XML answers to JSON-protocol services): the status still
                // says what happened.
                None if status == 403 => "AccessDenied".to_owned(),
                None if status >= 500 => "InternalError".to_owned(),
                None => format!("HTTP {status}"),
            };
            if transient_answer(status, &code) {
                Failure::Transient(format!("AWS answered {code}"))
            } else {
                Failure::Refused(code)
            }
        }
        SdkError::TimeoutError(_) => Failure::Transient("AWS did not answer in time".into()),
        SdkError::DispatchFailure(_) => Failure::Transient("could not reach AWS".into()),
        SdkError::ResponseError(_) => Failure::Transient("AWS sent an unreadable answer".into()),
        _ => Failure::Transient("the AWS request could not be built".into()),
    }
}

pub(crate) fn is_denied(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "AuthorizationError"
            | "AuthorizationErrorException"
    )
}

/// Our own identity was refused: an operator problem, not the customer's.
fn platform_identity(code: &str) -> ProbeFailure {
    ProbeFailure::new(
        ErrorCode::ProviderUnavailable,
        format!("AWS refused cloudconn's own credentials ({code})"),
        "Nothing is wrong with this connection: the cloudconn operators must fix the workers' AWS identity.",
    )
}

/// What a failed `AssumeRole` on the customer's role means (the probe's,
/// and minting's). AWS answers a trust policy that refuses cloudconn's
/// external id and a role that does not exist alike: AccessDenied.
pub(crate) fn assume_role_failure(failure: Failure, role_arn: &str, external_id: &str) -> ProbeFailure {
    match failure {
        Failure::Transient(m) => ProbeFailure::transient(m),
        Failure::Refused(code) if is_denied(&code) => ProbeFailure::new(
            ErrorCode::ExternalIdMismatch,
            format!("AWS refused to let cloudconn assume {role_arn}"),
            format!(
                "The role's trust policy must allow cloudconn's AWS account to call sts:AssumeRole with the condition \
                 \"StringEquals\": {{\"sts:ExternalId\": \"{external_id}\"}} — this connection's external id, exactly."
            ),
        ),
        Failure::Refused(code)
            if code.contains("ClientTokenId") || code.contains("Signature") || code.contains("ExpiredToken") =>
        {
            platform_identity(&code)
        }
        Failure::Refused(code) => ProbeFailure::new(
            ErrorCode::InvalidCredentials,
            format!("AWS refused the role ({code})"),
            "Check the role ARN: the role must exist and be assumable.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15: a 429 or 5xx is retried whatever code it carries, as for
    /// the other providers; 4xx refusals keep their meaning.
    #[test]
    fn throttling_and_server_errors_are_transient_whatever_their_code() {
        for (status, code) in [
            (400, "Throttling"),
            (503, "ServiceUnavailable"),
            (500, "InternalFailure"),
            (429, "HTTP 429"),
            (429, "SlowDown"),
            (502, "BadGateway"),
            (500, "InternalServerError"),
        ] {
            assert!(transient_answer(status, code), "{status} {code}");
        }
        for (status, code) in [(403, "AccessDenied"), (400, "ValidationError"), (404, "NoSuchEntity")] {
            assert!(!transient_answer(status, code), "{status} {code}");
        }
    }
}
