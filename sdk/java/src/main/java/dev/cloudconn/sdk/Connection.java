package dev.cloudconn.sdk;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A workspace's link to one cloud provider account; never holds a secret value. {@code provider}
 * and {@code status} are the seed's words ("aws", "active"; "unspecified" for a value this SDK
 * does not know); times are null when unset.
 *
 * @param tag the seed's name: fixed forever
 * @param externalId AWS only: the sts:ExternalId the role's trust policy must require
 * @param lastValidation the most recent validation, null before the first
 * @param etag changes on every change; pass it to make a change conditional
 * @param consumers who was issued credentials in the last 30 days, most recent first
 * @param nextValidationTime when the server's schedule validates it again; empty unless it is
 *     "active" and the server's re-validation is on
 */
public record Connection(
    String workspace,
    String tag,
    String uid,
    String provider,
    String displayName,
    String description,
    List<String> scopes,
    String status,
    String externalId,
    CredentialsView credentials,
    Validation lastValidation,
    String etag,
    Instant createTime,
    Instant updateTime,
    List<Consumer> consumers,
    Instant lastUsedTime,
    Optional<Instant> nextValidationTime) {

  /**
   * What the server knows about the saved credentials, without secret values.
   *
   * @param fields non-secret values by the seed's snake_case names (role_arn, tenant_id, …)
   * @param secretFieldsSet names of the secret fields that hold a value, never the values
   * @param revision latest saved revision, 0 = none
   * @param activeRevision revision in use, 0 = none
   */
  public record CredentialsView(
      Map<String, String> fields, List<String> secretFieldsSet, long revision, long activeRevision,
      Instant updateTime) {}

  /** One component that was issued credentials. */
  public record Consumer(String consumer, Instant lastUsedTime) {}
}
