package dev.cloudconn.sdk;

import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.ProtocolMessageEnum;
import com.google.protobuf.Timestamp;
import dev.cloudconn.v1.AccessToken;
import dev.cloudconn.v1.CompleteConnectionRequest;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Between the generated messages and the SDK's records. Enum words are read off the proto's value
 * names (PROVIDER_MONGODB_ATLAS is "mongodb_atlas"), so a provider added to the proto needs no
 * table here.
 */
final class Convert {
  private Convert() {}

  static String word(ProtocolMessageEnum value, String prefix) {
    if (value.getNumber() <= 0) {
      return "unspecified";
    }
    return value.getValueDescriptor().getName().substring(prefix.length()).toLowerCase(Locale.ROOT);
  }

  /** The value of {@code type} named by a lower-case word, or INVALID_ARGUMENT naming {@code field}. */
  static EnumValueDescriptor enumValue(EnumDescriptor type, String prefix, String field, String word) {
    if (word != null && !word.isEmpty() && word.equals(word.toLowerCase(Locale.ROOT)) && !word.equals("unspecified")) {
      EnumValueDescriptor v = type.findValueByName(prefix + word.toUpperCase(Locale.ROOT));
      if (v != null) {
        return v;
      }
    }
    String words = type.getValues().stream()
        .filter(v -> v.getNumber() > 0)
        .map(v -> v.getName().substring(prefix.length()).toLowerCase(Locale.ROOT))
        .collect(Collectors.joining(", "));
    throw CloudConnException.invalidArgument(field, "must be one of " + words + " (got \"" + word + "\")");
  }

  static Instant time(boolean has, Timestamp ts) {
    return has ? Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos()) : null;
  }

  static Connection connection(dev.cloudconn.v1.Connection c) {
    var v = c.getCredentials();
    return new Connection(
        c.getWorkspace(), c.getTag(), c.getUid(), word(c.getProvider(), "PROVIDER_"), c.getDisplayName(),
        c.getDescription(), List.copyOf(c.getScopesList()), word(c.getStatus(), "CONNECTION_STATUS_"),
        c.getExternalId(),
        new Connection.CredentialsView(
            new TreeMap<>(v.getFieldsMap()), List.copyOf(v.getSecretFieldsSetList()), v.getRevision(),
            v.getActiveRevision(), time(v.hasUpdateTime(), v.getUpdateTime())),
        c.hasLastValidation() ? validation(c.getLastValidation()) : null,
        c.getEtag(), time(c.hasCreateTime(), c.getCreateTime()), time(c.hasUpdateTime(), c.getUpdateTime()),
        c.getConsumersList().stream()
            .map(u -> new Connection.Consumer(u.getConsumer(), time(u.hasLastUsedTime(), u.getLastUsedTime())))
            .toList(),
        time(c.hasLastUsedTime(), c.getLastUsedTime()),
        Optional.ofNullable(time(c.hasNextValidationTime(), c.getNextValidationTime())));
  }

  static Validation validation(dev.cloudconn.v1.Validation v) {
    var e = v.getError();
    return new Validation(
        v.getId(), word(v.getState(), "VALIDATION_STATE_"), v.getRevision(), v.getAttempts(),
        time(v.hasCreateTime(), v.getCreateTime()), time(v.hasStartTime(), v.getStartTime()),
        time(v.hasEndTime(), v.getEndTime()),
        v.hasError()
            ? new Validation.Error(e.getCode(), e.getMessage(), e.getHint(), e.getRetryable(),
                List.copyOf(e.getMissingPermissionsList()))
            : null,
        v.getScopeChecksList().stream()
            .map(s -> new Validation.ScopeCheck(s.getScope(), s.getGranted(), List.copyOf(s.getMissingPermissionsList())))
            .toList(),
        new TreeMap<>(v.getIdentityMap()), List.copyOf(v.getWarningsList()),
        word(v.getTrigger(), "VALIDATION_TRIGGER_"));
  }

  static ConnectionEvent event(dev.cloudconn.v1.ConnectionEvent e) {
    return new ConnectionEvent(e.getId(), e.getType(), time(e.hasTime(), e.getTime()),
        e.hasConnection() ? connection(e.getConnection()) : null);
  }

  static ProviderSpec providerSpec(dev.cloudconn.v1.ProviderSpec p) {
    return new ProviderSpec(word(p.getProvider(), "PROVIDER_"), p.getDisplayName(),
        p.getFieldsList().stream()
            .map(f -> new ProviderSpec.Field(f.getName(), f.getSecret(), f.getRequired(), f.getPattern(), f.getDescription()))
            .toList(),
        List.copyOf(p.getScopesList()),
        p.getScopeSpecsList().stream()
            .map(s -> new ProviderSpec.Scope(s.getName(), List.copyOf(s.getPermissionsList())))
            .toList(),
        p.getKindsList().stream()
            .map(k -> new ProviderSpec.Kind(k.getName(), k.getDisplayName(), k.getDescription(), k.getKeyless(),
                List.copyOf(k.getFieldsList()), k.getIssuerUrl()))
            .toList(),
        p.getDefaultKind());
  }

  static SetupInstructions setup(dev.cloudconn.v1.SetupInstructions k) {
    return new SetupInstructions(k.getTag(), word(k.getProvider(), "PROVIDER_"), List.copyOf(k.getScopesList()),
        k.getStepsList().stream()
            .map(s -> new SetupInstructions.Step(s.getTitle(), s.getText(),
                s.getArtifactsList().stream()
                    .map(a -> new SetupInstructions.Artifact(a.getName(), a.getMediaType(), a.getContent()))
                    .toList()))
            .toList());
  }

  static IssuedCredentials issued(dev.cloudconn.v1.IssuedCredentials c) {
    var a = c.getAws();
    var d = c.getMongodbAtlas();
    return new IssuedCredentials(c.getTag(), word(c.getProvider(), "PROVIDER_"), c.getScope(), c.getRevision(),
        time(c.hasExpireTime(), c.getExpireTime()),
        c.hasAws()
            ? new IssuedCredentials.Aws(a.getAccessKeyId(), a.getSecretAccessKey(), a.getSessionToken(), a.getRegion(),
                a.getAssumedRoleArn())
            : null,
        c.hasGcp() ? token(c.getGcp()) : null,
        c.hasAzure() ? token(c.getAzure()) : null,
        c.hasMongodbAtlas()
            ? new IssuedCredentials.DatabaseUser(d.getUsername(), d.getPassword(), d.getDatabase(), List.copyOf(d.getRolesList()))
            : null,
        c.hasNeo4JAura() ? token(c.getNeo4JAura()) : null);
  }

  private static IssuedCredentials.AccessToken token(AccessToken t) {
    return new IssuedCredentials.AccessToken(t.getAccessToken(), t.getTokenType(), List.copyOf(t.getScopesList()), t.getAudience());
  }

  /**
   * Sets the oneof {@code credentials} of {@code req} for {@code provider} from the seed's
   * snake_case keys, read off the proto: the oneof field named like the provider word, and its
   * message's fields. Blank keys are sent blank (the server keeps the stored value); an unknown
   * key is refused.
   */
  static void setCredentials(CompleteConnectionRequest.Builder req, String provider, Map<String, String> input) {
    FieldDescriptor oneof = CompleteConnectionRequest.getDescriptor().getOneofs().stream()
        .filter(o -> o.getName().equals("credentials"))
        .flatMap(o -> o.getFields().stream())
        .filter(f -> f.getName().equals(provider) && f.getJavaType() == FieldDescriptor.JavaType.MESSAGE)
        .findFirst()
        .orElseThrow(() -> CloudConnException.invalidArgument("provider", "no credentials message for " + provider));
    Message.Builder creds = req.newBuilderForField(oneof);
    for (var entry : new TreeMap<>(input).entrySet()) {
      FieldDescriptor f = oneof.getMessageType().findFieldByName(entry.getKey());
      if (f == null || f.getJavaType() != FieldDescriptor.JavaType.STRING) {
        String expected = oneof.getMessageType().getFields().stream().map(FieldDescriptor::getName)
            .collect(Collectors.joining(", "));
        throw CloudConnException.invalidArgument(entry.getKey(),
            "not a field of " + provider + " credentials (expected " + expected + ")");
      }
      creds.setField(f, entry.getValue() == null ? "" : entry.getValue());
    }
    req.setField(oneof, creds.build());
  }
}
