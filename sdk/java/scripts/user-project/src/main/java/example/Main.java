package example;

import dev.cloudconn.sdk.CloudConn;
import dev.cloudconn.sdk.CloudConnException;
import dev.cloudconn.sdk.CloudService;
import dev.cloudconn.sdk.Connection;
import dev.cloudconn.sdk.CreateConnectionInput;
import dev.cloudconn.sdk.ValidationResult;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The seed's flow from a user's project: create prod_aws, complete it with a role ARN, validate
 * it, get it, delete it (and find it gone). Address and token from CLOUDCONN_TEST_ADDRESS and
 * CLOUDCONN_TEST_TOKEN, the workspace from the first argument. Exits 1 on any mismatch.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    String workspace = args.length > 0 ? args[0] : "acme";
    try (CloudConn cloudconn = CloudConn.builder()
        .address(System.getenv("CLOUDCONN_TEST_ADDRESS"))
        .token(System.getenv("CLOUDCONN_TEST_TOKEN"))
        .workspace(workspace)
        .build()) {
      CloudService cloud = cloudconn.cloudService();

      Connection created = cloud.createConnection(CreateConnectionInput.of("aws", "prod_aws", List.of("storage", "database")));
      check("created tag", created.tag(), "prod_aws");
      check("created provider", created.provider(), "aws");
      check("created status", created.status(), "pending");
      check("created scopes", created.scopes(), List.of("storage", "database"));

      cloud.completeConnection("prod_aws", Map.of("role_arn", "arn:aws:iam::123456789012:role/DuctapeAccess"));

      ValidationResult v = cloud.validateConnection("prod_aws");
      check("validation state", v.validation().state(), "succeeded");
      check("status after validation", v.connection().status(), "active");

      Connection fetched = cloud.fetchConnection("prod_aws");
      check("fetched tag", fetched.tag(), "prod_aws");
      check("fetched status", fetched.status(), "active");
      check("fetched role_arn", fetched.credentials().fields().get("role_arn"), "arn:aws:iam::123456789012:role/DuctapeAccess");

      cloud.deleteConnection("prod_aws");
      try {
        cloud.fetchConnection("prod_aws");
        fail("prod_aws is still there after deleteConnection");
      } catch (CloudConnException e) {
        check("code after delete", e.code(), "NOT_FOUND");
        check("reason after delete", e.reason(), "CONNECTION_NOT_FOUND");
      }
    } catch (CloudConnException e) {
      fail("unexpected " + e.code() + " / " + e.reason() + ": " + e.getMessage());
    }
    System.out.println("user project: create → complete → validate (succeeded, active) → get → delete: ok");
  }

  private static void check(String what, Object got, Object want) {
    if (!Objects.equals(got, want)) {
      fail(what + ": got " + got + ", want " + want);
    }
  }

  private static void fail(String message) {
    System.err.println("user project: " + message);
    System.exit(1);
  }
}
