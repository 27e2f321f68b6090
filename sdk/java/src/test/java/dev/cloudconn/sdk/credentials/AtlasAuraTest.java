package dev.cloudconn.sdk.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cloudconn.sdk.CloudConn;
import dev.cloudconn.sdk.IssueInput;
import dev.cloudconn.sdk.IssuedCredentials;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The Atlas connection string and the Aura token, from sandbox connections. */
class AtlasAuraTest {
  @Test
  @DisplayName("atlas: a mongodb+srv connection string with the temporary user, for the host named")
  void atlas() {
    try (CloudConn cc = Fixture.client("atlas")) {
      Fixture.active(cc, "mongodb_atlas", "prod_atlas", List.of("database"));
      AtlasConnectionString mongo = CloudCredentials.atlas(cc, "prod_atlas", "cluster0.ab1cd.mongodb.net",
          CredentialOptions.of("database", "billing-api/prd"));
      String uri = mongo.get();
      IssuedCredentials.DatabaseUser user = cc.cloudService()
          .issueCredentials("prod_atlas", new IssueInput("database", "billing-api/prd", null)).mongodbAtlas();
      URI parsed = URI.create(uri);
      assertEquals("mongodb+srv", parsed.getScheme());
      assertEquals("cluster0.ab1cd.mongodb.net", parsed.getHost());
      assertEquals("authSource=" + user.database(), parsed.getQuery());
      String[] info = parsed.getRawUserInfo().split(":", 2);
      assertEquals(user.username(), URLDecoder.decode(info[0], StandardCharsets.UTF_8));
      assertEquals(user.password(), URLDecoder.decode(info[1], StandardCharsets.UTF_8));
      assertTrue(!user.password().isEmpty());
    }
  }

  @Test
  @DisplayName("atlas: user names and passwords are percent-encoded, every reserved character")
  void encoding() {
    assertEquals("p%40ss%3Aw%2Frd%3F%23%5B%5D%25%20%2B~._-", AtlasConnectionString.encode("p@ss:w/rd?#[]% +~._-"));
    assertEquals("%C3%A9", AtlasConnectionString.encode("é"));
  }

  @Test
  @DisplayName("aura: the API bearer token")
  void aura() {
    try (CloudConn cc = Fixture.client("aura")) {
      Fixture.active(cc, "neo4j_aura", "prod_aura", List.of("database"));
      AuraToken token = CloudCredentials.aura(cc, "prod_aura", CredentialOptions.of("database", "billing-api/prd"));
      String issued = cc.cloudService()
          .issueCredentials("prod_aura", new IssueInput("database", "billing-api/prd", null)).neo4jAura().accessToken();
      assertEquals(issued, token.get());
      assertTrue(!issued.isEmpty());
    }
  }
}
