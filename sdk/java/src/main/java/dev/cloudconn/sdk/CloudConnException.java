package dev.cloudconn.sdk;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import com.google.rpc.BadRequest;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every failure of an SDK call. Branch on {@link #reason()} (stable, from
 * google.rpc.ErrorInfo) or {@link #code()}, never on the message.
 */
public final class CloudConnException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private static final String ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo";

  /** One bad request field (google.rpc.BadRequest.FieldViolation). */
  public record FieldViolation(String field, String description) {}

  private final Status.Code code;
  private final String reason;
  private final transient List<FieldViolation> fieldViolations;
  private final transient Map<String, String> metadata;
  private final String domain;
  private final transient Duration retryDelay;

  private CloudConnException(Status.Code code, String reason, String message, List<FieldViolation> fieldViolations,
      Map<String, String> metadata, String domain, Duration retryDelay, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.reason = reason.isEmpty() ? code.name() : reason;
    this.fieldViolations = List.copyOf(fieldViolations);
    this.metadata = Map.copyOf(metadata);
    this.domain = domain;
    this.retryDelay = retryDelay;
  }

  /** The gRPC status code, e.g. {@code NOT_FOUND}. */
  public Status.Code code() {
    return code;
  }

  /**
   * The stable machine reason: CONNECTION_NOT_FOUND, TAG_ALREADY_EXISTS, ETAG_MISMATCH, … When the
   * server sent none (the call never reached it), the code's name, e.g. "UNAVAILABLE".
   */
  public String reason() {
    return reason;
  }

  /** Every bad field (google.rpc.BadRequest), for INVALID_ARGUMENT. */
  public List<FieldViolation> fieldViolations() {
    return fieldViolations;
  }

  /** google.rpc.ErrorInfo.metadata, e.g. {@code cause} for UNAUTHENTICATED. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** google.rpc.ErrorInfo.domain ("cloudconn.v1"), or "". */
  public String domain() {
    return domain;
  }

  /** google.rpc.RetryInfo: how long to wait before retrying, or null when unsaid. */
  public Duration retryDelay() {
    return retryDelay;
  }

  /** A caller's mistake found before any request is sent. */
  static CloudConnException invalidArgument(String field, String description) {
    return new CloudConnException(Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT",
        "invalid fields: " + field + "; " + field + ": " + description,
        List.of(new FieldViolation(field, description)), Map.of(), "", null, null);
  }

  /** Turns whatever a call threw into a CloudConnException (one already is passes through). */
  static CloudConnException from(Throwable t) {
    if (t instanceof CloudConnException e) {
      return e;
    }
    Status status = Status.fromThrowable(t);
    com.google.rpc.Status details = StatusProto.fromThrowable(t);
    String reason = "";
    String domain = "";
    Map<String, String> metadata = new LinkedHashMap<>();
    List<FieldViolation> violations = new ArrayList<>();
    Duration retryDelay = null;
    try {
      for (var any : details == null ? List.<com.google.protobuf.Any>of() : details.getDetailsList()) {
        if (any.getTypeUrl().equals(ERROR_INFO)) {
          // Debian's com.google.rpc (1.16) predates ErrorInfo: read its three fields off the wire.
          UnknownFieldSet info = UnknownFieldSet.parseFrom(any.getValue());
          reason = text(info, 1);
          domain = text(info, 2);
          for (ByteString entry : lengthDelimited(info, 3)) {
            UnknownFieldSet kv = UnknownFieldSet.parseFrom(entry);
            metadata.put(text(kv, 1), text(kv, 2));
          }
        } else if (any.is(BadRequest.class)) {
          for (var v : any.unpack(BadRequest.class).getFieldViolationsList()) {
            violations.add(new FieldViolation(v.getField(), v.getDescription()));
          }
        } else if (any.is(RetryInfo.class)) {
          var d = any.unpack(RetryInfo.class).getRetryDelay();
          retryDelay = Duration.ofSeconds(d.getSeconds(), d.getNanos());
        }
      }
    } catch (InvalidProtocolBufferException e) {
      t.addSuppressed(e);
    }
    String message = status.getDescription() == null ? status.getCode().name() : status.getDescription();
    return new CloudConnException(status.getCode(), reason, message, violations, metadata, domain, retryDelay, t);
  }

  private static List<ByteString> lengthDelimited(UnknownFieldSet set, int number) {
    return set.hasField(number) ? set.getField(number).getLengthDelimitedList() : List.of();
  }

  private static String text(UnknownFieldSet set, int number) {
    List<ByteString> values = lengthDelimited(set, number);
    return values.isEmpty() ? "" : values.get(values.size() - 1).toString(StandardCharsets.UTF_8);
  }
}
