package dev.cloudconn.sdk.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenRequestContext;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpPipelineBuilder;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.core.http.policy.BearerTokenAuthenticationPolicy;
import com.azure.core.http.policy.HttpPipelinePolicy;
import com.google.gson.JsonObject;
import dev.cloudconn.sdk.CloudConn;
import dev.cloudconn.sdk.CloudConnException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The Azure TokenCredential in Azure's own pipeline (BearerTokenAuthenticationPolicy, Netty)
 * against the --dev sandbox's Resource Manager.
 *
 * <p>Azure's Java BearerTokenAuthenticationPolicy refuses any URL that is not https and has no
 * switch to allow http (unlike Go's InsecureAllowCredentialWithHTTP or JS's
 * allowInsecureConnection); the sandbox speaks plain http. So the test's pipeline shows the
 * policy an https URL and a policy after it sends the request as http: the policy itself, its
 * token cache and our credential run unchanged.
 */
class AzureCredentialTest {
  private static final String SUBSCRIPTION = "66666666-7777-8888-9999-000000000000";
  private static final String ARM = "https://management.azure.com/.default";

  private static HttpPipeline pipeline(CloudConnAzureCredential credential, String scope) {
    HttpPipelinePolicy asHttps = (ctx, next) -> {
      ctx.getHttpRequest().setUrl(scheme(ctx.getHttpRequest().getUrl(), "https"));
      return next.process();
    };
    HttpPipelinePolicy asHttp = (ctx, next) -> {
      ctx.getHttpRequest().setUrl(scheme(ctx.getHttpRequest().getUrl(), "http"));
      return next.process();
    };
    return new HttpPipelineBuilder()
        .httpClient(new NettyAsyncHttpClientBuilder().build())
        .policies(asHttps, new BearerTokenAuthenticationPolicy(credential, scope), asHttp)
        .build();
  }

  private static URL scheme(URL url, String scheme) {
    try {
      return new URL(scheme + url.toString().substring(url.getProtocol().length()));
    } catch (MalformedURLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String audience(String jwt) {
    String payload = new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8);
    return Fixture.GSON.fromJson(payload, JsonObject.class).get("aud").getAsString();
  }

  @Test
  @DisplayName("azure: GET /subscriptions/{id} through Azure's pipeline with the functions scope's token")
  void resourceManager() {
    String sandbox = Fixture.env("CLOUDCONN_TEST_SANDBOX_AZURE");
    try (CloudConn cc = Fixture.client("azure-arm")) {
      Fixture.active(cc, "azure", "prod_azure", List.of("functions", "storage"));
      CloudConnAzureCredential credential = CloudCredentials.azure(cc, "prod_azure", CredentialOptions.of("functions", "billing-api/prd"));
      HttpPipeline pipeline = pipeline(credential, ARM);
      String url = sandbox + "/subscriptions/" + SUBSCRIPTION + "?api-version=2022-12-01";
      try (HttpResponse r = pipeline.sendSync(new HttpRequest(HttpMethod.GET, url), com.azure.core.util.Context.NONE)) {
        String body = r.getBodyAsBinaryData().toString();
        assertEquals(200, r.getStatusCode(), body);
        assertEquals(SUBSCRIPTION, Fixture.GSON.fromJson(body, JsonObject.class).get("subscriptionId").getAsString());
      }
      AccessToken token = credential.getTokenSync(new TokenRequestContext().addScopes(ARM));
      assertEquals("https://management.azure.com", audience(token.getToken()), "the token's audience");
      assertTrue(token.getRefreshAt().isBefore(token.getExpiresAt()), "refreshAt before the expiry");

      // The sandbox's ARM refuses a storage token: our pipeline really sent the management one.
      try (HttpResponse r = new HttpPipelineBuilder().httpClient(new NettyAsyncHttpClientBuilder().build()).build()
          .sendSync(new HttpRequest(HttpMethod.GET, url).setHeader(com.azure.core.http.HttpHeaderName.AUTHORIZATION, "Bearer forged"),
              com.azure.core.util.Context.NONE)) {
        assertEquals(401, r.getStatusCode(), "a token the sandbox did not issue");
      }
    }
  }

  @Test
  @DisplayName("azure: a storage-scope connection refuses a management token, naming both")
  void scopeMismatch() {
    String sandbox = Fixture.env("CLOUDCONN_TEST_SANDBOX_AZURE");
    try (CloudConn cc = Fixture.client("azure-mismatch")) {
      Fixture.active(cc, "azure", "prod_azure", List.of("storage"));
      CloudConnAzureCredential credential = CloudCredentials.azure(cc, "prod_azure", CredentialOptions.of("storage", "billing-api/prd"));
      CloudConnException e = assertThrows(CloudConnException.class,
          () -> credential.getTokenSync(new TokenRequestContext().addScopes(ARM)));
      assertEquals("INVALID_ARGUMENT", e.code());
      assertEquals("AUDIENCE_MISMATCH", e.reason());
      assertTrue(e.getMessage().contains("https://storage.azure.com") && e.getMessage().contains(ARM), e.getMessage());
      // Through the pipeline, the request is not sent.
      String url = sandbox + "/subscriptions/" + SUBSCRIPTION + "?api-version=2022-12-01";
      RuntimeException sent = assertThrows(RuntimeException.class,
          () -> pipeline(credential, ARM).sendSync(new HttpRequest(HttpMethod.GET, url), com.azure.core.util.Context.NONE));
      assertTrue(String.valueOf(sent.getMessage()).contains("https://storage.azure.com"), String.valueOf(sent));
      // Its own resource is given.
      AccessToken storage = credential.getToken(new TokenRequestContext().addScopes("https://storage.azure.com/.default")).block();
      assertEquals("https://storage.azure.com", audience(storage.getToken()));
    }
  }
}
