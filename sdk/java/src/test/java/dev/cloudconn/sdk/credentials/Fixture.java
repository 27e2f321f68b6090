package dev.cloudconn.sdk.credentials;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.cloudconn.sdk.CloudConn;
import dev.cloudconn.sdk.CloudService;
import dev.cloudconn.sdk.CreateConnectionInput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The credential providers' tests' server, sandbox and connections: a fresh workspace per test, the
 * scenario's sandbox credential values (sdk/scenario/scenario.json), the sandbox's endpoints
 * (scripts/test.sh finds them), and a clock a test can move.
 */
final class Fixture {
  private static final AtomicInteger SEQ = new AtomicInteger();
  static final Gson GSON = new Gson();
  static final String ROLE_ARN = "arn:aws:iam::123456789012:role/DuctapeAccess";

  private Fixture() {}

  static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) {
      throw new IllegalStateException(name + " is not set: run the tests through scripts/test.sh");
    }
    return v;
  }

  /** A client of the test server in a workspace no other test uses. */
  static CloudConn client(String label) {
    String workspace = "jc" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet() + "-" + label;
    return CloudConn.builder().address(env("CLOUDCONN_TEST_ADDRESS")).token(env("CLOUDCONN_TEST_TOKEN"))
        .workspace(workspace.substring(0, Math.min(63, workspace.length()))).build();
  }

  /** The scenario's complete-step fields of {@code provider}: values the sandbox accepts. */
  static Map<String, String> fields(String provider) {
    try {
      JsonObject s = GSON.fromJson(Files.readString(Path.of("../scenario/scenario.json")), JsonObject.class);
      for (JsonElement f : s.getAsJsonArray("flow")) {
        if (f.getAsJsonObject().get("provider").getAsString().equals(provider)) {
          @SuppressWarnings("unchecked")
          Map<String, String> complete = GSON.fromJson(f.getAsJsonObject().get("complete"), Map.class);
          return complete;
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    throw new IllegalStateException("no " + provider + " in the scenario");
  }

  /** Creates, completes and validates a connection: ACTIVE, ready to issue. */
  static void active(CloudConn client, String provider, String tag, List<String> scopes) {
    CloudService s = client.cloudService();
    s.createConnection(CreateConnectionInput.of(provider, tag, scopes));
    s.completeConnection(tag, provider.equals("aws") ? Map.of("role_arn", ROLE_ARN) : fields(provider));
    String state = s.validateConnection(tag).validation().state();
    if (!state.equals("succeeded")) {
      throw new IllegalStateException("validation of " + tag + ": " + state);
    }
  }

  /** A clock that stands still until a test moves it. */
  static final class TestClock extends Clock {
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());

    Instant now() {
      return now.get();
    }

    void set(Instant t) {
      now.set(t);
    }

    void advance(Duration d) {
      now.updateAndGet(t -> t.plus(d));
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
