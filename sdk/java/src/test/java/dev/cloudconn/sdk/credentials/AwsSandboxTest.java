package dev.cloudconn.sdk.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cloudconn.sdk.CloudConn;
import dev.cloudconn.sdk.CloudConnException;
import dev.cloudconn.sdk.IssueInput;
import dev.cloudconn.sdk.IssuedCredentials;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** The AWS provider in the AWS SDK's S3 client, against the --dev sandbox's S3. */
class AwsSandboxTest {
  static S3Client s3(String endpoint, String region, AwsCredentialsProvider credentials) {
    return S3Client.builder()
        .httpClient(UrlConnectionHttpClient.create())
        .region(Region.of(region))
        .endpointOverride(URI.create(endpoint))
        .forcePathStyle(true)
        .credentialsProvider(credentials)
        .build();
  }

  @Test
  @DisplayName("aws: S3 ListBuckets with the provider's session, which the sandbox checks")
  void listBuckets() {
    String sandbox = Fixture.env("CLOUDCONN_TEST_SANDBOX_AWS");
    try (CloudConn cc = Fixture.client("aws-sandbox")) {
      Fixture.active(cc, "aws", "prod_aws", List.of("storage"));
      CredentialOptions options = CredentialOptions.of("storage", "billing-api/prd");
      CloudConnAwsCredentialsProvider provider = CloudCredentials.aws(cc, "prod_aws", options);
      try (S3Client s3 = s3(sandbox, provider.region(), provider)) {
        assertEquals(List.of(), s3.listBuckets().buckets(), "the sandbox's buckets");
      }
      AwsSessionCredentials resolved = provider.resolveCredentials();
      IssuedCredentials issued = cc.cloudService().issueCredentials("prod_aws", new IssueInput("storage", "billing-api/prd", null));
      assertEquals(issued.aws().accessKeyId(), resolved.accessKeyId(), "the issued session");
      assertEquals(issued.expireTime(), resolved.expirationTime().orElseThrow(), "the true expiration");

      // The sandbox refuses a session it did not issue: the call above proves the provider's.
      var forged = StaticCredentialsProvider.create(AwsSessionCredentials.create(resolved.accessKeyId(),
          resolved.secretAccessKey(), "not-the-session-token"));
      try (S3Client s3 = s3(sandbox, provider.region(), forged)) {
        S3Exception e = assertThrows(S3Exception.class, s3::listBuckets);
        assertEquals(403, e.statusCode(), "a forged session token");
      }

      // The lifetime asked for is the session's.
      Instant asked = Instant.now();
      Instant expires = CloudCredentials.aws(cc, "prod_aws", CredentialOptions.of("storage", "ttl-test").withTtl(Duration.ofMinutes(30)))
          .resolveCredentials().expirationTime().orElseThrow();
      assertTrue(expires.isAfter(asked.plus(Duration.ofMinutes(29))) && expires.isBefore(asked.plus(Duration.ofMinutes(31))),
          "30 minutes: " + expires);

      // A refusal reaches the S3 call's caller as the CloudConnException, with its reason.
      cc.cloudService().deleteConnection("prod_aws");
      try (S3Client s3 = s3(sandbox, "us-east-1", CloudCredentials.aws(cc, "prod_aws", options))) {
        CloudConnException e = assertThrows(CloudConnException.class, s3::listBuckets);
        assertEquals("CONNECTION_NOT_FOUND", e.reason());
      }
    }
  }

  @Test
  @DisplayName("aws: a session-policy scope the sandbox enforces: a database session cannot list buckets")
  void scopeBoundsTheSession() {
    String sandbox = Fixture.env("CLOUDCONN_TEST_SANDBOX_AWS");
    try (CloudConn cc = Fixture.client("aws-scope")) {
      Fixture.active(cc, "aws", "prod_aws", List.of("storage", "database"));
      CloudConnAwsCredentialsProvider provider = CloudCredentials.aws(cc, "prod_aws", CredentialOptions.of("database", "billing-api/prd"));
      try (S3Client s3 = s3(sandbox, provider.region(), provider)) {
        S3Exception e = assertThrows(S3Exception.class, s3::listBuckets);
        assertEquals(403, e.statusCode(), "s3 outside the database scope's session policy");
        assertTrue(e.awsErrorDetails().errorCode().equals("AccessDenied"), e.awsErrorDetails().errorCode());
      }
    }
  }
}
