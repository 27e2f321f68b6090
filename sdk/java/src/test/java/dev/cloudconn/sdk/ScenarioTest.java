package dev.cloudconn.sdk;

import static dev.cloudconn.sdk.Check.create;
import static dev.cloudconn.sdk.Check.credentials;
import static dev.cloudconn.sdk.Check.equal;
import static dev.cloudconn.sdk.Check.failure;
import static dev.cloudconn.sdk.Check.scheduledAfter;
import static dev.cloudconn.sdk.Check.strings;
import static dev.cloudconn.sdk.Check.truth;
import static dev.cloudconn.sdk.Check.update;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The scenario the three SDKs share (sdk/scenario/scenario.json). */
class ScenarioTest {
  private static final JsonObject S = Check.scenario();

  /** One case per provider of the scenario's flow: its name and its step. */
  static Stream<Arguments> flows() {
    return S.getAsJsonArray("flow").asList().stream()
        .map(JsonElement::getAsJsonObject)
        .map(f -> Arguments.of(f.get("provider").getAsString(), f));
  }

  @ParameterizedTest(name = "scenario {0}: create → complete → validate → fetch → list → update → blank keeps → delete")
  @MethodSource("flows")
  void flow(String provider, JsonObject f) {
    try (CloudConn cc = Check.client("flow-" + provider)) {
      CloudService s = cc.cloudService();
      String tag = f.getAsJsonObject("create").get("name").getAsString();
      Map<String, String> fields = credentials(f.getAsJsonObject("fields"));
      List<String> secretFieldsSet = strings(f, "secret_fields_set");
      List<Object> results = new ArrayList<>();

      Connection created = s.createConnection(create(f.getAsJsonObject("create")));
      results.add(created);
      equal("provider", created.provider(), provider);
      equal("status", created.status(), "pending");
      truth("a pending connection is not scheduled: " + created, created.nextValidationTime().isEmpty());

      Connection completed = s.completeConnection(tag, credentials(f.getAsJsonObject("complete")));
      results.add(completed);
      equal("revision", completed.credentials().revision(), 1L);
      equal("fields", completed.credentials().fields(), fields);
      equal("secret fields set", completed.credentials().secretFieldsSet(), secretFieldsSet);

      ValidationResult v = s.validateConnection(tag);
      results.add(v);
      equal("validation", v.validation().state(), "succeeded");
      equal("status after validate", v.connection().status(), "active");
      equal("trigger", v.validation().trigger(), "manual");
      scheduledAfter(v);

      Connection fetched = s.fetchConnection(tag);
      results.add(fetched);
      equal("active revision", fetched.credentials().activeRevision(), 1L);
      equal("listed", s.listConnections().stream().map(Connection::tag).toList(), List.of(tag));

      UpdateConnectionInput all = update(S.getAsJsonObject("update"));
      Connection updated = s.updateConnection(tag, all);
      equal("display name", updated.displayName(), all.displayName());
      equal("description", updated.description(), all.description());
      equal("scopes", updated.scopes(), all.scopes());
      UpdateConnectionInput partial = update(S.getAsJsonObject("update_partial"));
      Connection renamed = s.updateConnection(tag, partial);
      equal("display name", renamed.displayName(), partial.displayName());
      equal("fields not given stay", renamed.description(), all.description());

      Connection again = s.completeConnection(tag, credentials(f.getAsJsonObject("complete_blank")), CompleteOptions.none().withValidate());
      results.add(again);
      equal("revision", again.credentials().revision(), 2L);
      truth("completeConnection with validate queued a validation", again.lastValidation() != null);
      equal("trigger of the validation completeConnection queued", again.lastValidation().trigger(), "complete");
      ValidationResult v2 = s.validateConnection(tag);
      results.add(v2);
      equal("validation of blank keeps", v2.validation().state(), "succeeded");
      equal("active revision", v2.connection().credentials().activeRevision(), 2L);
      equal("blank fields keep the stored values", v2.connection().credentials().fields(), fields);
      equal("secret fields set", v2.connection().credentials().secretFieldsSet(), secretFieldsSet);

      String marker = S.get("secret_marker").getAsString();
      for (Object r : results) {
        truth("a result holds a secret value: " + r, !r.toString().contains(marker));
      }
      s.deleteConnection(tag);
      failure(() -> s.fetchConnection(tag), S.getAsJsonObject("not_found"));
    }
  }

  @Test
  @DisplayName("scenario: invalid argument names every bad field")
  void invalidArgument() {
    JsonObject want = S.getAsJsonObject("invalid_argument");
    try (CloudConn cc = Check.client("inv")) {
      CloudConnException e = failure(() -> cc.cloudService().createConnection(create(want.getAsJsonObject("create"))), want);
      equal("field violations", e.fieldViolations().stream().map(CloudConnException.FieldViolation::field).toList(),
          strings(want, "field_violations"));
    }
  }

  @Test
  @DisplayName("scenario: not found on every call that names a tag")
  void notFound() {
    JsonObject nf = S.getAsJsonObject("not_found");
    String tag = nf.get("tag").getAsString();
    try (CloudConn cc = Check.client("nf")) {
      CloudService s = cc.cloudService();
      failure(() -> s.fetchConnection(tag), nf);
      failure(() -> s.completeConnection(tag, credentials(nf.getAsJsonObject("complete"))), nf);
      failure(() -> s.validateConnection(tag), nf);
      failure(() -> s.updateConnection(tag, update(nf.getAsJsonObject("update"))), nf);
      failure(() -> s.deleteConnection(tag), nf);
    }
  }

  @Test
  @DisplayName("scenario: already exists")
  void alreadyExists() {
    JsonObject ae = S.getAsJsonObject("already_exists");
    try (CloudConn cc = Check.client("ae")) {
      cc.cloudService().createConnection(create(ae.getAsJsonObject("create")));
      failure(() -> cc.cloudService().createConnection(create(ae.getAsJsonObject("create"))), ae);
    }
  }

  @Test
  @DisplayName("scenario: a stale etag is refused on update, complete and delete")
  void etagConflict() {
    JsonObject ec = S.getAsJsonObject("etag_conflict");
    try (CloudConn cc = Check.client("etag")) {
      CloudService s = cc.cloudService();
      String tag = ec.getAsJsonObject("create").get("name").getAsString();
      Connection created = s.createConnection(create(ec.getAsJsonObject("create")));
      Connection changed = s.updateConnection(tag, update(ec.getAsJsonObject("update")), created.etag());
      String stale = created.etag();
      failure(() -> s.updateConnection(tag, update(ec.getAsJsonObject("stale_update")), stale), ec);
      failure(() -> s.completeConnection(tag, credentials(ec.getAsJsonObject("stale_complete")), CompleteOptions.none().withEtag(stale)), ec);
      failure(() -> s.deleteConnection(tag, stale), ec);
      s.deleteConnection(tag, changed.etag());
    }
  }

  @Test
  @DisplayName("scenario: watch receives the lifecycle events")
  @SuppressWarnings("try") // closes the watch inside its try, to check what close() does
  void watch() throws Exception {
    JsonObject w = S.getAsJsonObject("watch");
    List<String> want = strings(w, "events");
    String tag = w.getAsJsonObject("create").get("name").getAsString();
    try (CloudConn cc = Check.client("watch"); ConnectionWatch watch = cc.cloudService().watchConnections(tag)) {
      CompletableFuture<List<String>> seen = CompletableFuture.supplyAsync(() -> {
        List<String> types = new ArrayList<>();
        while (types.size() < want.size() && watch.hasNext()) {
          types.add(watch.next().type());
        }
        return types;
      });
      CloudService s = cc.cloudService();
      s.createConnection(create(w.getAsJsonObject("create")));
      s.completeConnection(tag, credentials(w.getAsJsonObject("complete")));
      equal("validation", s.validateConnection(tag).validation().state(), "succeeded");
      s.updateConnection(tag, update(w.getAsJsonObject("update")));
      s.deleteConnection(tag);
      equal("events", seen.get(10, TimeUnit.SECONDS), want);
      watch.close();
      truth("no more events after close", !watch.hasNext());
    }
  }

  // The run step for every provider (the --dev token carries connections:use).
  @ParameterizedTest(name = "scenario {0}: issueCredentials")
  @MethodSource("flows")
  void issue(String provider, JsonObject f) {
    String tag = f.getAsJsonObject("create").get("name").getAsString();
    JsonObject in = f.getAsJsonObject("issue");
    try (CloudConn cc = Check.client("issue-" + provider)) {
      CloudService s = cc.cloudService();
      s.createConnection(create(f.getAsJsonObject("create")));
      s.completeConnection(tag, credentials(f.getAsJsonObject("complete")));
      equal("validation", s.validateConnection(tag).validation().state(), "succeeded");
      IssuedCredentials issued =
          s.issueCredentials(tag, new IssueInput(in.get("scope").getAsString(), in.get("consumer").getAsString(), null));
      equal("tag", issued.tag(), tag);
      equal("provider", issued.provider(), provider);
      equal("scope", issued.scope(), in.get("scope").getAsString());
      truth("expires in the future", issued.expireTime().isAfter(Instant.now()));
      Map<String, Object> set = new HashMap<>();
      set.put("aws", issued.aws());
      set.put("gcp", issued.gcp());
      set.put("azure", issued.azure());
      set.put("mongodb_atlas", issued.mongodbAtlas());
      set.put("neo4j_aura", issued.neo4jAura());
      set.forEach((p, v) -> equal("credentials for " + p + " set", v != null, p.equals(provider)));
    }
  }
}
