package dev.cloudconn.sdk.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cloudconn.sdk.CloudConn;
import dev.cloudconn.sdk.CloudConnException;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad arguments fail when a provider is made, as INVALID_ARGUMENT naming the field; nothing is sent. */
class ArgumentsTest {
  private static void refused(String field, Executable make) {
    CloudConnException e = assertThrows(CloudConnException.class, make);
    assertEquals("INVALID_ARGUMENT", e.code());
    assertEquals(field, e.fieldViolations().get(0).field(), e.getMessage());
  }

  @Test
  @DisplayName("arguments: empty tag, missing scope or consumer, negative ttl, atlas without host")
  void refusedAtConstruction() {
    // No server behind it: a provider that sent anything would fail differently.
    try (CloudConn cc = CloudConn.builder().address("http://127.0.0.1:1").token("t").workspace("w").build()) {
      CredentialOptions ok = CredentialOptions.of("storage", "billing-api/prd");
      refused("tag", () -> CloudCredentials.aws(cc, "", ok));
      refused("tag", () -> CloudCredentials.gcp(cc, null, ok));
      refused("scope", () -> CloudCredentials.azure(cc, "t", CredentialOptions.of("", "c")));
      refused("consumer", () -> CloudCredentials.aura(cc, "t", CredentialOptions.of("database", null)));
      refused("ttl", () -> CloudCredentials.aws(cc, "t", ok.withTtl(Duration.ofSeconds(-1))));
      refused("host", () -> CloudCredentials.atlas(cc, "t", "", ok));
      refused("host", () -> CloudCredentials.atlas(cc, "t", "mongodb+srv://cluster0.example.net", ok));
      refused("client", () -> CloudCredentials.aws(null, "t", ok));
      refused("options", () -> CloudCredentials.aws(cc, "t", null));
      // Made with good arguments, nothing is sent until first use.
      CloudCredentials.aws(cc, "t", ok.withTtl(Duration.ofMinutes(30)));
      CloudCredentials.atlas(cc, "t", "cluster0.ab1cd.mongodb.net", ok);
    }
  }
}
