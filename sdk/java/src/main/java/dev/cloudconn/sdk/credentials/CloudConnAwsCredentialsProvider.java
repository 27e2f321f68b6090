package dev.cloudconn.sdk.credentials;

import dev.cloudconn.sdk.IssuedCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;

/**
 * An AWS SDK v2 {@link AwsCredentialsProvider} over IssueCredentials: STS session credentials of
 * the connection scope, with their true {@code expirationTime}. Made by {@link CloudCredentials#aws}.
 * Failures are {@link dev.cloudconn.sdk.CloudConnException}s (the AWS SDK passes them on).
 */
public final class CloudConnAwsCredentialsProvider implements AwsCredentialsProvider {
  private final transient CredentialHolder holder;
  private final String description;

  CloudConnAwsCredentialsProvider(CredentialHolder holder) {
    this.holder = holder;
    this.description = holder.description();
  }

  @Override
  public AwsSessionCredentials resolveCredentials() {
    IssuedCredentials c = holder.get();
    IssuedCredentials.Aws aws = c.aws();
    return AwsSessionCredentials.builder()
        .accessKeyId(aws.accessKeyId())
        .secretAccessKey(aws.secretAccessKey())
        .sessionToken(aws.sessionToken())
        .expirationTime(c.expireTime())
        .providerName("CloudConn")
        .build();
  }

  /** The region the connection's credentials are for (fetches them on first use). */
  public String region() {
    return holder.get().aws().region();
  }

  @Override
  public String toString() {
    return "CloudConnAwsCredentialsProvider[" + description + "]";
  }
}
