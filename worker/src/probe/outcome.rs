//! The worker's one mapping from probe results to the `Outcome` it reports:
//! the scope rule, and how exhausted retries end.

use cloudconn_infra::amqp::messages::{Outcome, ProbeError};

use super::{ErrorCode, ProbeFailure, ProbeReport};

/// A success whose scope checks found missing permissions is a failure:
/// a connection promises its scopes.
pub fn from_report(report: ProbeReport) -> Outcome {
    let missing: Vec<String> =
        report.scope_checks.iter().filter(|c| !c.granted).flat_map(|c| c.missing_permissions.iter().cloned()).collect();
    let denied: Vec<&str> = report.scope_checks.iter().filter(|c| !c.granted).map(|c| c.scope.as_str()).collect();
    if denied.is_empty() {
        return Outcome::Succeeded {
            identity: report.identity,
            scope_checks: report.scope_checks,
            warnings: report.warnings,
        };
    }
    Outcome::Failed {
        error: ProbeError {
            code: ErrorCode::AccessDenied.as_str().to_owned(),
            message: format!("the credentials work but lack permissions for: {}", denied.join(", ")),
            hint: "Grant the missing permissions to the identity, or remove those scopes from the connection.".into(),
            retryable: false,
            missing_permissions: missing,
        },
        scope_checks: report.scope_checks,
        warnings: report.warnings,
    }
}

pub fn from_failure(mut failure: ProbeFailure) -> Outcome {
    let scope_checks = std::mem::take(&mut failure.scope_checks);
    Outcome::Failed { error: probe_error(failure), scope_checks, warnings: Vec::new() }
}

/// The error a failure reports, on the results queue and in an issue
/// reply alike (its scope checks, if any, are not part of it).
pub fn probe_error(failure: ProbeFailure) -> ProbeError {
    ProbeError {
        code: failure.code.as_str().to_owned(),
        message: failure.message,
        hint: failure.hint,
        retryable: failure.retryable,
        missing_permissions: failure.missing_permissions,
    }
}

/// Every attempt failed transiently: TIMEOUT if each one timed out,
/// otherwise PROVIDER_UNAVAILABLE. Still `retryable`: a later validation
/// may succeed without any change.
pub fn exhausted(attempts: u32, all_timed_out: bool, last: ProbeFailure) -> Outcome {
    let (code, message) = if all_timed_out {
        (ErrorCode::Timeout, format!("the provider did not answer in time ({attempts} attempts)"))
    } else {
        (
            ErrorCode::ProviderUnavailable,
            format!("the provider was unavailable ({attempts} attempts; last: {})", last.message),
        )
    };
    from_failure(ProbeFailure {
        code,
        message,
        hint: "Nothing is known to be wrong with the credentials; validate again later.".into(),
        retryable: true,
        missing_permissions: Vec::new(),
        scope_checks: Vec::new(),
        retry_after: None,
    })
}

#[cfg(test)]
mod tests {
    use cloudconn_infra::amqp::messages::ScopeCheck;

    use super::*;

    #[test]
    fn a_missing_scope_fails_with_access_denied() {
        let report = ProbeReport {
            scope_checks: vec![
                ScopeCheck { scope: "storage".into(), granted: true, missing_permissions: vec![] },
                ScopeCheck {
                    scope: "database".into(),
                    granted: false,
                    missing_permissions: vec!["rds:DescribeDBInstances".into()],
                },
            ],
            ..Default::default()
        };
        let Outcome::Failed { error, scope_checks, .. } = from_report(report) else { panic!("must fail") };
        assert_eq!(error.code, "ACCESS_DENIED");
        assert_eq!(error.missing_permissions, ["rds:DescribeDBInstances"]);
        assert!(error.message.contains("database"));
        assert_eq!(scope_checks.len(), 2);
    }

    #[test]
    fn exhausted_retries() {
        let last = ProbeFailure::transient("503");
        let Outcome::Failed { error, .. } = exhausted(3, true, last.clone()) else { panic!() };
        assert_eq!((error.code.as_str(), error.retryable), ("TIMEOUT", true));
        let Outcome::Failed { error, .. } = exhausted(3, false, last) else { panic!() };
        assert_eq!(error.code, "PROVIDER_UNAVAILABLE");
    }
}
