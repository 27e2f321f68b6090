package dev.cloudconn.sdk.credentials;

import dev.cloudconn.sdk.CloudConn;
import dev.cloudconn.sdk.CloudConnException;
import dev.cloudconn.sdk.IssuedCredentials;
import java.util.function.Supplier;

/**
 * Credential providers for the official cloud SDKs, over cloudconn's IssueCredentials: one line
 * gives an S3 client, an Azure pipeline or a Google client credentials that keep working across
 * expiry.
 *
 * <pre>{@code
 * S3Client s3 = S3Client.builder().credentialsProvider(CloudCredentials.aws(cloudconn, "prod_aws", CredentialOptions.of("storage", "billing-api/prd"))).build();
 * TokenCredential azure = CloudCredentials.azure(cloudconn, "prod_azure", CredentialOptions.of("functions", "billing-api/prd"));
 * OAuth2Credentials google = CloudCredentials.gcp(cloudconn, "prod_gcp", CredentialOptions.of("storage", "billing-api/prd"));
 * Supplier<String> mongo = CloudCredentials.atlas(cloudconn, "prod_atlas", "cluster0.ab1cd.mongodb.net", CredentialOptions.of("database", "billing-api/prd"));
 * Supplier<String> aura = CloudCredentials.aura(cloudconn, "prod_aura", CredentialOptions.of("database", "billing-api/prd"));
 * }</pre>
 *
 * <p>Each provider holds one credential and asks for a new one once 70–75 % of what it received
 * has passed (see {@link CredentialHolder}); concurrent callers share one call; an expired
 * credential is never served. Nothing is sent until first use; bad arguments fail here, as
 * INVALID_ARGUMENT naming the field. The cloud SDKs are optional dependencies of this SDK: the
 * application brings the one whose provider it uses (software.amazon.awssdk:auth, com.azure:azure-core,
 * com.google.auth:google-auth-library-oauth2-http).
 */
public final class CloudCredentials {
  private CloudCredentials() {}

  /** An AWS SDK v2 credentials provider: session credentials with their expiration. */
  public static CloudConnAwsCredentialsProvider aws(CloudConn client, String tag, CredentialOptions options) {
    return new CloudConnAwsCredentialsProvider(holder(client, tag, options, "aws", "aws credentials"));
  }

  /** An Azure TokenCredential for the resource of the connection scope (its token's audience). */
  public static CloudConnAzureCredential azure(CloudConn client, String tag, CredentialOptions options) {
    return new CloudConnAzureCredential(holder(client, tag, options, "azure", "an azure token"));
  }

  /** Google credentials (an OAuth2Credentials) with the connection scope's OAuth scope. */
  public static CloudConnGoogleCredentials gcp(CloudConn client, String tag, CredentialOptions options) {
    return new CloudConnGoogleCredentials(holder(client, tag, options, "gcp", "a gcp token"));
  }

  /**
   * A MongoDB connection string ({@code mongodb+srv://user:password@host/?authSource=admin}) with
   * the temporary database user, for the cluster {@code host} (e.g. "cluster0.ab1cd.mongodb.net").
   */
  public static AtlasConnectionString atlas(CloudConn client, String tag, String host, CredentialOptions options) {
    if (host == null || host.isBlank()) {
      throw CloudConnException.invalidArgument("host", "must be the cluster's host name, e.g. \"cluster0.ab1cd.mongodb.net\"");
    }
    if (!host.matches("[A-Za-z0-9.:\\[\\]-]+")) {
      throw CloudConnException.invalidArgument("host", "must be a host name (and port), not a URL: " + host);
    }
    return new AtlasConnectionString(holder(client, tag, options, "mongodb_atlas", "an atlas database user"), host);
  }

  /** A Neo4j Aura API bearer token. */
  public static AuraToken aura(CloudConn client, String tag, CredentialOptions options) {
    return new AuraToken(holder(client, tag, options, "neo4j_aura", "an aura token"));
  }

  private static CredentialHolder holder(CloudConn client, String tag, CredentialOptions options, String provider, String what) {
    if (client == null) {
      throw CloudConnException.invalidArgument("client", "must be a CloudConn client");
    }
    if (tag == null || tag.isEmpty()) {
      throw CloudConnException.invalidArgument("tag", "must name the connection, e.g. \"prod_aws\"");
    }
    if (options == null) {
      throw CloudConnException.invalidArgument("options", "must give the scope and consumer: CredentialOptions.of(scope, consumer)");
    }
    options.check();
    Supplier<IssuedCredentials> issue = () -> client.cloudService().issueCredentials(tag, options.input());
    return new CredentialHolder(provider, describe(what, tag, options), issue, options.clock());
  }

  static String describe(String what, String tag, CredentialOptions options) {
    return what + " of " + tag + " (scope " + options.scope() + ", consumer " + options.consumer() + ")";
  }
}
