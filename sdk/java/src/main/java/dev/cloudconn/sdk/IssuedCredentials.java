package dev.cloudconn.sdk;

import java.time.Instant;
import java.util.List;

/**
 * Short-lived credentials for one scope; exactly one of the provider fields is set, the others
 * are null. They hold secret values: never log them.
 *
 * @param revision the active revision they came from
 */
public record IssuedCredentials(
    String tag,
    String provider,
    String scope,
    long revision,
    Instant expireTime,
    Aws aws,
    AccessToken gcp,
    AccessToken azure,
    DatabaseUser mongodbAtlas,
    AccessToken neo4jAura) {

  /** AWS STS session credentials limited to the scope. */
  public record Aws(
      String accessKeyId, String secretAccessKey, String sessionToken, String region, String assumedRoleArn) {}

  /** An OAuth 2.0 bearer token (GCP, Azure, Neo4j Aura). */
  public record AccessToken(String accessToken, String tokenType, List<String> scopes, String audience) {}

  /** A temporary MongoDB Atlas database user. */
  public record DatabaseUser(String username, String password, String database, List<String> roles) {}
}
