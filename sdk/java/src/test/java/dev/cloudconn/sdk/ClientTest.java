package dev.cloudconn.sdk;

import static dev.cloudconn.sdk.Check.equal;
import static dev.cloudconn.sdk.Check.failure;
import static dev.cloudconn.sdk.Check.truth;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What the scenario does not say: the builder, mistakes refused before sending, deadlines,
 * UNAVAILABLE and UNAUTHENTICATED, the catalogue, the setup kit, pages, and a failed validation
 * being a result.
 */
class ClientTest {
  private static final Map<String, String> AZURE = Map.of(
      "tenant_id", "11111111-2222-3333-4444-555555555555",
      "subscription_id", "66666666-7777-8888-9999-000000000000",
      "client_id", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");

  @Test
  @DisplayName("builder: address, token and workspace are required")
  void builder() {
    CloudConnException e = failure(() -> CloudConn.builder().address("127.0.0.1:1").token("t").build(),
        "INVALID_ARGUMENT", "INVALID_ARGUMENT");
    equal("field", e.fieldViolations().get(0).field(), "workspace");
  }

  @Test
  @DisplayName("mistakes are refused before sending")
  void mistakes() {
    try (CloudConn cc = Check.client("mistakes")) {
      CloudService s = cc.cloudService();
      var bad = failure(() -> s.createConnection(CreateConnectionInput.of("oracle", "db", List.of("database"))),
          "INVALID_ARGUMENT", "INVALID_ARGUMENT");
      equal("field", bad.fieldViolations().get(0).field(), "provider");
      var status = failure(() -> s.listConnections(ListOptions.all().withStatus("ACTIVE")), "INVALID_ARGUMENT", "INVALID_ARGUMENT");
      equal("field", status.fieldViolations().get(0).field(), "status");
      s.createConnection(CreateConnectionInput.of("azure", "az", List.of("storage")));
      var key = failure(() -> s.completeConnection("az", Map.of("role_arn", "arn:aws:iam::123456789012:role/x")),
          "INVALID_ARGUMENT", "INVALID_ARGUMENT");
      equal("field", key.fieldViolations().get(0).field(), "role_arn");
      truth("names the expected fields", key.fieldViolations().get(0).description().contains("client_secret"));
    }
  }

  @Test
  @DisplayName("the client's timeout ends a call")
  void deadline() {
    CloudConn shortTimeout = CloudConn.builder().address(Check.env("CLOUDCONN_TEST_ADDRESS"))
        .token(Check.env("CLOUDCONN_TEST_TOKEN")).workspace("deadline").timeout(Duration.ofMillis(1)).build();
    try (shortTimeout) {
      failure(() -> shortTimeout.cloudService().listConnections(), "DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED");
    }
  }

  @Test
  @DisplayName("a server that is not there is UNAVAILABLE")
  void unavailable() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    try (CloudConn cc = CloudConn.builder().address("http://127.0.0.1:" + port).token("t").workspace("acme").build()) {
      var e = failure(() -> cc.cloudService().listConnections(), "UNAVAILABLE", "UNAVAILABLE");
      equal("violations", e.fieldViolations(), List.of());
    }
  }

  @Test
  @DisplayName("a bad token is UNAUTHENTICATED, the watch's too")
  void unauthenticated() {
    try (CloudConn cc = Check.client("auth", "not-a-token")) {
      var e = failure(() -> cc.cloudService().listConnections(), "UNAUTHENTICATED", "UNAUTHENTICATED");
      truth("a cause in the metadata", !e.metadata().getOrDefault("cause", "").isEmpty());
      failure(() -> cc.cloudService().listProviders(), "UNAUTHENTICATED", "UNAUTHENTICATED");
      failure(() -> cc.cloudService().watchConnections().close(), "UNAUTHENTICATED", "UNAUTHENTICATED");
    }
  }

  @Test
  @DisplayName("listProviders and getSetupInstructions")
  void providersAndSetup() {
    try (CloudConn cc = Check.client("providers")) {
      CloudService s = cc.cloudService();
      List<ProviderSpec> providers = s.listProviders();
      equal("providers", providers.stream().map(ProviderSpec::provider).toList(),
          List.of("aws", "gcp", "azure", "mongodb_atlas", "neo4j_aura"));
      equal("aws fields", providers.get(0).fields().get(0).name(), "role_arn");
      Connection created = s.createConnection(CreateConnectionInput.of("aws", "prod_aws", List.of("storage")));
      SetupInstructions kit = s.getSetupInstructions("prod_aws");
      equal("kit provider", kit.provider(), "aws");
      truth("a trust policy with the external id", kit.steps().stream().flatMap(st -> st.artifacts().stream())
          .anyMatch(a -> a.name().equals("trust-policy.json") && a.content().contains(created.externalId())));
    }
  }

  @Test
  @DisplayName("listConnections follows pages, with filters")
  void pages() {
    try (CloudConn cc = Check.client("pages")) {
      CloudService s = cc.cloudService();
      for (int i = 0; i < 7; i++) {
        boolean aws = i % 2 == 0;
        s.createConnection(CreateConnectionInput.of(aws ? "aws" : "neo4j_aura", String.format("conn_%02d", i),
            List.of(aws ? "storage" : "database")));
      }
      equal("all over pages of 3", s.listConnections(ListOptions.all().withPageSize(3)).size(), 7);
      equal("aws", s.listConnections(ListOptions.all().withPageSize(2).withProvider("aws")).stream().map(Connection::tag).toList(),
          List.of("conn_00", "conn_02", "conn_04", "conn_06"));
      equal("active", s.listConnections(ListOptions.all().withStatus("active")).size(), 0);
    }
  }

  @Test
  @DisplayName("a failed validation is a result; a zero wait returns at once")
  void failedValidation() {
    try (CloudConn cc = Check.client("failed")) {
      CloudService s = cc.cloudService();
      s.createConnection(CreateConnectionInput.of("azure", "az", List.of("storage")));
      var creds = new HashMap<>(AZURE);
      creds.put("client_secret", "sandbox-denied");
      s.completeConnection("az", creds);
      String queued = s.validateConnection("az", Duration.ZERO).validation().state();
      truth("a zero wait returns before the outcome, or with it: " + queued, List.of("queued", "running", "failed").contains(queued));
      ValidationResult v = s.validateConnection("az");
      equal("state", v.validation().state(), "failed");
      equal("code", v.validation().error().code(), "ACCESS_DENIED");
      truth("a hint and missing permissions", !v.validation().error().hint().isEmpty()
          && !v.validation().error().missingPermissions().isEmpty());
      equal("status", v.connection().status(), "failed");
    }
  }
}
