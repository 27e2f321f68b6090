package dev.cloudconn.sdk.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.api.client.http.GenericUrl;
import com.google.api.client.http.HttpRequestFactory;
import com.google.api.client.http.HttpResponse;
import com.google.api.client.http.HttpResponseException;
import com.google.api.client.http.javanet.NetHttpTransport;
import com.google.auth.RequestMetadataCallback;
import com.google.auth.http.HttpCredentialsAdapter;
import com.google.gson.JsonObject;
import dev.cloudconn.sdk.CloudConn;
import dev.cloudconn.sdk.CloudConnException;
import dev.cloudconn.sdk.IssueInput;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The Google credentials in Google's HTTP client (HttpCredentialsAdapter) against the --dev sandbox. */
class GoogleCredentialsTest {
  @Test
  @DisplayName("gcp: GET /storage/v1/b through HttpCredentialsAdapter; tokeninfo shows the storage OAuth scope")
  void buckets() throws IOException {
    String sandbox = Fixture.env("CLOUDCONN_TEST_SANDBOX_GCP");
    try (CloudConn cc = Fixture.client("gcp-storage")) {
      Fixture.active(cc, "gcp", "prod_gcp", List.of("storage"));
      CloudConnGoogleCredentials credentials = CloudCredentials.gcp(cc, "prod_gcp", CredentialOptions.of("storage", "billing-api/prd"));
      HttpRequestFactory http = new NetHttpTransport().createRequestFactory(new HttpCredentialsAdapter(credentials));
      HttpResponse r = http.buildGetRequest(new GenericUrl(sandbox + "/storage/v1/b?project=acme-prod-123")).execute();
      assertEquals("storage#buckets", Fixture.GSON.fromJson(r.parseAsString(), JsonObject.class).get("kind").getAsString());

      String token = credentials.getAccessToken().getTokenValue();
      HttpResponse info = new NetHttpTransport().createRequestFactory()
          .buildGetRequest(new GenericUrl(sandbox + "/tokeninfo?access_token=" + token)).execute();
      String scope = Fixture.GSON.fromJson(info.parseAsString(), JsonObject.class).get("scope").getAsString();
      assertEquals("https://www.googleapis.com/auth/devstorage.full_control", scope);
      assertEquals(List.of("https://www.googleapis.com/auth/devstorage.full_control"), credentials.getAccessToken().getScopes());
      Instant expires = cc.cloudService().issueCredentials("prod_gcp", new IssueInput("storage", "billing-api/prd", null)).expireTime();
      assertEquals(expires, credentials.getAccessToken().getExpirationTime().toInstant(), "the true expiry");

      // The sandbox refuses a token it did not issue: the request above carried ours.
      HttpResponseException e = assertThrows(HttpResponseException.class, () -> new NetHttpTransport().createRequestFactory()
          .buildGetRequest(new GenericUrl(sandbox + "/storage/v1/b?project=acme-prod-123")).setHeaders(
              new com.google.api.client.http.HttpHeaders().setAuthorization("Bearer forged")).execute());
      assertEquals(401, e.getStatusCode());
    }
  }

  @Test
  @DisplayName("gcp: Google's cache follows the provider's refresh point, and a refusal is an IOException caused by CloudConnException")
  void refreshAndRefusal() throws IOException {
    Fixture.TestClock clock = new Fixture.TestClock();
    AtomicInteger calls = new AtomicInteger();
    try (CloudConn cc = Fixture.client("gcp-refresh")) {
      Fixture.active(cc, "gcp", "prod_gcp", List.of("storage"));
      CredentialOptions options = CredentialOptions.of("storage", "billing-api/prd");
      CloudConnGoogleCredentials credentials = new CloudConnGoogleCredentials(new CredentialHolder("gcp", "a gcp token", () -> {
        calls.incrementAndGet();
        return cc.cloudService().issueCredentials("prod_gcp", options.input());
      }, clock));
      Instant received = clock.now();
      Map<String, List<String>> first = credentials.getRequestMetadata(null);
      Instant expires = credentials.getAccessToken().getExpirationTime().toInstant();
      Duration lifetime = Duration.between(received, expires);
      clock.set(received.plus(lifetime.multipliedBy(69).dividedBy(100)));
      assertEquals(first, credentials.getRequestMetadata(null));
      assertEquals(1, calls.get(), "Google's cache and the provider: no call before the refresh point");
      clock.set(received.plus(lifetime.multipliedBy(76).dividedBy(100)));
      credentials.getRequestMetadata(null);
      assertEquals(2, calls.get(), "past it, a request makes Google's credentials refresh");

      // The asynchronous path (gRPC-based Google clients) refreshes on the executor it is given.
      clock.set(received.plus(lifetime.multipliedBy(95).dividedBy(100)));
      CompletableFuture<Map<String, List<String>>> async = new CompletableFuture<>();
      AtomicInteger ranOnExecutor = new AtomicInteger();
      credentials.getRequestMetadata(null, r -> {
        ranOnExecutor.incrementAndGet();
        r.run();
      }, new RequestMetadataCallback() {
        @Override
        public void onSuccess(Map<String, List<String>> metadata) {
          async.complete(metadata);
        }

        @Override
        public void onFailure(Throwable e) {
          async.completeExceptionally(e);
        }
      });
      assertTrue(async.join().get("Authorization").get(0).startsWith("Bearer "), "a bearer header");
      assertEquals(3, calls.get(), "the asynchronous path refreshed too");
      assertEquals(1, ranOnExecutor.get(), "on the executor");

      // Past the refresh point of the third token (received at 95 %, so 98.5–98.75 %), 36 s before expiry for 1 h.
      cc.cloudService().deleteConnection("prod_gcp");
      clock.set(received.plus(lifetime.multipliedBy(99).dividedBy(100)));
      IOException e = assertThrows(IOException.class, () -> credentials.getRequestMetadata(null));
      CloudConnException cause = (CloudConnException) e.getCause();
      assertEquals("CONNECTION_NOT_FOUND", cause.reason(), String.valueOf(e));
    }
  }
}
