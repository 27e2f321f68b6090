package dev.cloudconn.sdk;

import java.util.List;

/**
 * createConnection's input: the seed's {@code { provider, name, scopes }}, plus optional
 * display name, description and idempotency key ("" = not given).
 *
 * @param provider "aws", "gcp", "azure", "mongodb_atlas" or "neo4j_aura"
 * @param name the tag: {@code ^[a-z][a-z0-9_]{1,62}$}, unique in the workspace, fixed forever
 * @param requestId idempotency key: a retry with the same key returns the first call's connection
 */
public record CreateConnectionInput(
    String provider, String name, List<String> scopes, String displayName, String description, String requestId) {

  public static CreateConnectionInput of(String provider, String name, List<String> scopes) {
    return new CreateConnectionInput(provider, name, scopes, "", "", "");
  }

  public CreateConnectionInput withDisplayName(String v) {
    return new CreateConnectionInput(provider, name, scopes, v, description, requestId);
  }

  public CreateConnectionInput withDescription(String v) {
    return new CreateConnectionInput(provider, name, scopes, displayName, v, requestId);
  }

  public CreateConnectionInput withRequestId(String v) {
    return new CreateConnectionInput(provider, name, scopes, displayName, description, v);
  }
}
