package dev.cloudconn.sdk.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.azure.core.credential.TokenRequestContext;
import dev.cloudconn.sdk.CloudConn;
import dev.cloudconn.sdk.CloudConnException;
import dev.cloudconn.sdk.IssueInput;
import dev.cloudconn.sdk.IssuedCredentials;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The secrets a provider holds (the issued values themselves, as canaries) appear in none of its
 * toString, its JSON (Gson, reflecting on fields), the SDK's log at every level, or its errors.
 */
class CanaryTest {
  @Test
  @DisplayName("canaries: no secret in toString, JSON, logs or errors of any provider")
  void noSecretAnywhere() throws IOException {
    Logger log = Logger.getLogger("dev.cloudconn.sdk.credentials");
    StringBuilder logged = new StringBuilder();
    Handler capture = new Handler() {
      private final SimpleFormatter format = new SimpleFormatter();

      @Override
      public void publish(LogRecord r) {
        logged.append(format.format(r));
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Level before = log.getLevel();
    log.setLevel(Level.ALL);
    log.addHandler(capture);
    try (CloudConn cc = Fixture.client("canary")) {
      Fixture.active(cc, "aws", "c_aws", List.of("storage"));
      Fixture.active(cc, "azure", "c_azure", List.of("functions"));
      Fixture.active(cc, "gcp", "c_gcp", List.of("storage"));
      Fixture.active(cc, "mongodb_atlas", "c_atlas", List.of("database"));
      Fixture.active(cc, "neo4j_aura", "c_aura", List.of("database"));
      CredentialOptions storage = CredentialOptions.of("storage", "canary");
      CredentialOptions database = CredentialOptions.of("database", "canary");
      var aws = CloudCredentials.aws(cc, "c_aws", storage);
      var azure = CloudCredentials.azure(cc, "c_azure", CredentialOptions.of("functions", "canary"));
      var gcp = CloudCredentials.gcp(cc, "c_gcp", storage);
      var atlas = CloudCredentials.atlas(cc, "c_atlas", "cluster0.ab1cd.mongodb.net", database);
      var aura = CloudCredentials.aura(cc, "c_aura", database);
      aws.resolveCredentials();
      azure.getTokenSync(new TokenRequestContext().addScopes("https://management.azure.com/.default"));
      gcp.getRequestMetadata(null);
      atlas.get();
      aura.get();

      // The same (cached) values the providers hold.
      List<String> secrets = new ArrayList<>();
      IssuedCredentials.Aws a = issue(cc, "c_aws", "storage").aws();
      secrets.add(a.secretAccessKey());
      secrets.add(a.sessionToken());
      secrets.add(issue(cc, "c_azure", "functions").azure().accessToken());
      secrets.add(issue(cc, "c_gcp", "storage").gcp().accessToken());
      secrets.add(issue(cc, "c_atlas", "database").mongodbAtlas().password());
      secrets.add(issue(cc, "c_aura", "database").neo4jAura().accessToken());
      assertEquals(aws.resolveCredentials().secretAccessKey(), a.secretAccessKey(), "the canaries are the held values");
      assertTrue(atlas.get().contains(AtlasConnectionString.encode(secrets.get(4))), "the canaries are the held values");

      // A refusal's message, with credentials held before it.
      var refusing = CloudCredentials.azure(cc, "c_azure", CredentialOptions.of("functions", "canary"));
      CloudConnException refused = assertThrows(CloudConnException.class,
          () -> refusing.getTokenSync(new TokenRequestContext().addScopes("https://storage.azure.com/.default")));

      List<Object> objects = List.of(aws, azure, gcp, atlas, aura, aws.resolveCredentials(), issue(cc, "c_aws", "storage"),
          issue(cc, "c_gcp", "storage"), issue(cc, "c_atlas", "database"), storage.withTtl(Duration.ofMinutes(20)));
      for (Object o : objects) {
        clean("toString of " + o.getClass().getSimpleName(), o.toString(), secrets);
      }
      // Google's own OAuth2Credentials keeps the token in a field of its own (as every Google
      // credential does), so its JSON is not ours to keep clean; the others' is.
      for (Object o : List.of(aws, azure, atlas, aura)) {
        clean("JSON of " + o.getClass().getSimpleName(), Fixture.GSON.toJson(o), secrets);
      }
      clean("an error", refused.getMessage() + refused, secrets);
      assertFalse(logged.length() == 0, "the refreshes were logged");
      clean("the log", logged.toString(), secrets);
    } finally {
      log.removeHandler(capture);
      log.setLevel(before);
    }
  }

  private static IssuedCredentials issue(CloudConn cc, String tag, String scope) {
    return cc.cloudService().issueCredentials(tag, new IssueInput(scope, "canary", null));
  }

  private static void clean(String what, String text, List<String> secrets) {
    for (String s : secrets) {
      assertTrue(s != null && s.length() >= 8, "a canary worth looking for");
      assertFalse(text.contains(s), what + " holds a secret: " + text.replace(s, "<SECRET>"));
    }
  }
}
