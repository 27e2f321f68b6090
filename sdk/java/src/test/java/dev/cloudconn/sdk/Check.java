package dev.cloudconn.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.function.Executable;

/**
 * Shared by the tests: assertions, the server scripts/test.sh started (CLOUDCONN_TEST_ADDRESS,
 * CLOUDCONN_TEST_TOKEN: without them a test fails, never skips), fresh workspaces, the scenario.
 */
final class Check {
  private static final AtomicInteger SEQ = new AtomicInteger();
  static final Gson GSON = new Gson();

  private Check() {}

  static void equal(String what, Object got, Object want) {
    assertEquals(want, got, what);
  }

  static void truth(String what, boolean ok) {
    assertTrue(ok, what);
  }

  /** Runs {@code call}, which must throw a CloudConnException of this code and reason. */
  static CloudConnException failure(Executable call, String code, String reason) {
    CloudConnException e = assertThrows(CloudConnException.class, call, "expected " + code + " / " + reason);
    equal("code (" + e.getMessage() + ")", e.code(), code);
    equal("reason (" + e.getMessage() + ")", e.reason(), reason);
    truth("a message", !e.getMessage().isEmpty());
    return e;
  }

  static CloudConnException failure(Executable call, JsonObject expected) {
    return failure(call, expected.get("code").getAsString(), expected.get("reason").getAsString());
  }

  static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) {
      throw new IllegalStateException(name + " is not set: run the tests through scripts/test.sh, which starts the server");
    }
    return v;
  }

  /** A client of the test server in a workspace no other test uses. */
  static CloudConn client(String label) {
    return client(label, env("CLOUDCONN_TEST_TOKEN"));
  }

  static CloudConn client(String label, String token) {
    String slug = label.toLowerCase().replaceAll("[^a-z0-9]+", "-");
    String workspace = ("j" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet() + "-" + slug);
    return CloudConn.builder()
        .address(env("CLOUDCONN_TEST_ADDRESS"))
        .token(token)
        .workspace(workspace.substring(0, Math.min(63, workspace.length())))
        .build();
  }

  /**
   * Asserts a successful validation scheduled its connection one re-validation interval (± 10 %)
   * after the outcome, or not at all when the server's schedule is off. scripts/test.sh passes its
   * environment to the server, whose default interval is a day.
   */
  static void scheduledAfter(ValidationResult v) {
    String ms = System.getenv("CLOUDCONN_REVALIDATE_INTERVAL_MS");
    Duration interval = ms == null || ms.isEmpty() ? Duration.ofDays(1) : Duration.ofMillis(Long.parseLong(ms));
    var next = v.connection().nextValidationTime();
    if (interval.isZero()) {
      truth("re-validation is off, yet the next validation is " + next, next.isEmpty());
      return;
    }
    Instant end = v.validation().endTime();
    truth("scheduled after the outcome: " + next + ", ended " + end, next.isPresent() && end != null);
    Duration after = Duration.between(end, next.get());
    Duration slack = Duration.ofSeconds(5);
    truth("next validation " + next.get() + " is not an interval (" + interval + " ± 10 %) after " + end,
        after.compareTo(interval.multipliedBy(9).dividedBy(10).minus(slack)) >= 0
            && after.compareTo(interval.multipliedBy(11).dividedBy(10).plus(slack)) <= 0);
  }

  /** sdk/scenario/scenario.json (the tests run in sdk/java). */
  static JsonObject scenario() {
    try {
      return GSON.fromJson(Files.readString(Path.of("../scenario/scenario.json")), JsonObject.class);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, String> credentials(JsonObject o) {
    return GSON.fromJson(o, Map.class);
  }

  static List<String> strings(JsonObject o, String key) {
    return o.getAsJsonArray(key).asList().stream().map(e -> e.getAsString()).toList();
  }

  private static String text(JsonObject o, String key) {
    return o.has(key) ? o.get(key).getAsString() : null;
  }

  /** The seed's create input ({provider, name, scopes, …}). */
  static CreateConnectionInput create(JsonObject o) {
    var in = CreateConnectionInput.of(text(o, "provider"), text(o, "name"), strings(o, "scopes"));
    return in.withDisplayName(text(o, "display_name")).withDescription(text(o, "description"));
  }

  /** The seed's update input: only the keys given. */
  static UpdateConnectionInput update(JsonObject o) {
    return new UpdateConnectionInput(text(o, "display_name"), text(o, "description"),
        o.has("scopes") ? strings(o, "scopes") : null);
  }
}
