package dev.cloudconn.sdk;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One validation run of one credential revision. {@code state} is "queued", "running",
 * "succeeded", "failed" or "superseded"; times are null when not reached. {@code trigger} is what
 * started it: "manual" (validateConnection), "complete" (completeConnection with validate) or
 * "scheduled" (the server's re-validation schedule); "unspecified" for a value this SDK does not
 * know.
 *
 * @param error set when the state is "failed": why, and what to change
 * @param identity provider identity found: account_id, arn, project_number, …
 * @param warnings non-fatal findings (and, against --dev, the sandbox notice), e.g. a credential
 *     that expires soon
 */
public record Validation(
    String id,
    String state,
    long revision,
    int attempts,
    Instant createTime,
    Instant startTime,
    Instant endTime,
    Error error,
    List<ScopeCheck> scopeChecks,
    Map<String, String> identity,
    List<String> warnings,
    String trigger) {

  /**
   * Why a validation failed.
   *
   * @param code INVALID_CREDENTIALS, ACCESS_DENIED, RESOURCE_NOT_FOUND, …
   */
  public record Error(String code, String message, String hint, boolean retryable, List<String> missingPermissions) {}

  /** Whether a requested scope is usable with the validated credentials. */
  public record ScopeCheck(String scope, boolean granted, List<String> missingPermissions) {}
}
