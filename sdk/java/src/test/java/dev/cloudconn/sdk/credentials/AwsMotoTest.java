package dev.cloudconn.sdk.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cloudconn.sdk.CloudConn;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Bucket;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The AWS provider against moto with IAM enforced (scripts/test.sh's moto fixture): moto checks
 * every request's SigV4 signature against the session it issued to cloudconn, and the role's
 * policies, so only the provider's true session gets in.
 */
class AwsMotoTest {
  @Test
  @DisplayName("aws: CreateBucket, PutObject, ListBuckets, GetObject through moto with IAM enforced")
  void roundTrip() {
    String endpoint = Fixture.env("CLOUDCONN_TEST_MOTO_ENDPOINT");
    try (CloudConn cc = CloudConn.builder().address(Fixture.env("CLOUDCONN_TEST_MOTO_ADDRESS"))
        .token(Fixture.env("CLOUDCONN_TEST_MOTO_TOKEN")).workspace(Fixture.env("CLOUDCONN_TEST_MOTO_WORKSPACE")).build()) {
      String tag = Fixture.env("CLOUDCONN_TEST_MOTO_TAG");
      CloudConnAwsCredentialsProvider provider = CloudCredentials.aws(cc, tag, CredentialOptions.of("storage", "java-sdk-test"));
      String bucket = "java-sdk-" + ProcessHandle.current().pid();
      String body = "through the provider's session " + bucket;
      try (S3Client s3 = AwsSandboxTest.s3(endpoint, "us-east-1", provider)) {
        s3.createBucket(b -> b.bucket(bucket));
        s3.putObject(p -> p.bucket(bucket).key("hello.txt"), RequestBody.fromString(body));
        assertTrue(s3.listBuckets().buckets().stream().map(Bucket::name).anyMatch(bucket::equals), "the bucket is listed");
        assertEquals(body, s3.getObjectAsBytes(g -> g.bucket(bucket).key("hello.txt")).asUtf8String(), "the body round-trips");
      }

      // moto checks the signature: the same key and token with a wrong secret are refused.
      AwsSessionCredentials real = provider.resolveCredentials();
      var wrongSecret = StaticCredentialsProvider.create(
          AwsSessionCredentials.create(real.accessKeyId(), "not" + real.secretAccessKey(), real.sessionToken()));
      try (S3Client s3 = AwsSandboxTest.s3(endpoint, "us-east-1", wrongSecret)) {
        S3Exception e = assertThrows(S3Exception.class, () -> s3.getObjectAsBytes(g -> g.bucket(bucket).key("hello.txt")));
        assertEquals(403, e.statusCode(), e.awsErrorDetails().errorCode());
        assertEquals("SignatureDoesNotMatch", e.awsErrorDetails().errorCode());
      }
    }
  }
}
