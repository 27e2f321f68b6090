package dev.cloudconn.sdk;

import java.time.Instant;
import java.util.List;

/**
 * Short-lived credentials for one scope; exactly one of the provider fields is set, the others
 * are null. They hold secret values: their {@code toString()} leaves them out, but never log their
 * accessors.
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

  /**
   * AWS STS session credentials limited to the scope. {@link #toString()} leaves out the secret
   * access key and the session token (the access key id is an identifier, as AWS logs it).
   */
  public record Aws(
      String accessKeyId, String secretAccessKey, String sessionToken, String region, String assumedRoleArn) {
    @Override
    public String toString() {
      return "Aws[accessKeyId=" + accessKeyId + ", region=" + region + ", assumedRoleArn=" + assumedRoleArn + "]";
    }
  }

  /** An OAuth 2.0 bearer token (GCP, Azure, Neo4j Aura). {@link #toString()} leaves out the token. */
  public record AccessToken(String accessToken, String tokenType, List<String> scopes, String audience) {
    @Override
    public String toString() {
      return "AccessToken[tokenType=" + tokenType + ", scopes=" + scopes + ", audience=" + audience + "]";
    }
  }

  /** A temporary MongoDB Atlas database user. {@link #toString()} leaves out the password. */
  public record DatabaseUser(String username, String password, String database, List<String> roles) {
    @Override
    public String toString() {
      return "DatabaseUser[username=" + username + ", database=" + database + ", roles=" + roles + "]";
    }
  }
}
