package dev.cloudconn.sdk;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Every failure of an SDK call. Branch on {@link #reason()} (stable, from google.rpc.ErrorInfo) or
 * {@link #code()}, never on the message.
 *
 * <p>Its API has no gRPC types. The escape hatch, for those who want the gRPC status anyway:
 * {@link #getCause()} is what the call failed with, an {@code io.grpc.StatusRuntimeException} for
 * every failure reported by gRPC ({@code io.grpc.Status.fromThrowable(e.getCause())} is its status,
 * {@code io.grpc.Status.trailersFromThrowable(e.getCause())} its trailers); it is null when the SDK
 * refused the call before sending it.
 */
public final class CloudConnException extends RuntimeException {
  private static final long serialVersionUID = 2L;

  /** One bad request field (google.rpc.BadRequest.FieldViolation). */
  public record FieldViolation(String field, String description) {}

  private final String code;
  private final String reason;
  private final transient List<FieldViolation> fieldViolations;
  private final transient Map<String, String> metadata;
  private final String domain;
  private final transient Duration retryDelay;

  private CloudConnException(String code, String reason, String message, List<FieldViolation> fieldViolations,
      Map<String, String> metadata, String domain, Duration retryDelay, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.reason = reason.isEmpty() ? code : reason;
    this.fieldViolations = List.copyOf(fieldViolations);
    this.metadata = Map.copyOf(metadata);
    this.domain = domain;
    this.retryDelay = retryDelay;
  }

  /**
   * The canonical name of the gRPC status code, upper case: "NOT_FOUND", "PERMISSION_DENIED",
   * "INVALID_ARGUMENT", "UNAVAILABLE", "DEADLINE_EXCEEDED", …
   */
  public String code() {
    return code;
  }

  /**
   * The stable machine reason: CONNECTION_NOT_FOUND, TAG_ALREADY_EXISTS, ETAG_MISMATCH, … When the
   * server sent none (the call never reached it), the code, e.g. "UNAVAILABLE".
   */
  public String reason() {
    return reason;
  }

  /** Every bad field (google.rpc.BadRequest), for INVALID_ARGUMENT; empty otherwise. */
  public List<FieldViolation> fieldViolations() {
    return fieldViolations;
  }

  /** google.rpc.ErrorInfo.metadata, e.g. {@code cause} for UNAUTHENTICATED; empty when unsaid. */
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

  /**
   * A caller's mistake found before any request is sent: INVALID_ARGUMENT with one field violation.
   * Public for the SDK's own packages (the credential providers); applications need not call it.
   */
  public static CloudConnException invalidArgument(String field, String description) {
    return new CloudConnException("INVALID_ARGUMENT", "INVALID_ARGUMENT",
        "invalid fields: " + field + "; " + field + ": " + description,
        List.of(new FieldViolation(field, description)), Map.of(), "", null, null);
  }

  /**
   * A failure the SDK finds itself, with no call behind it (no cause, no details): e.g. the
   * credential providers' FAILED_PRECONDITION / CREDENTIALS_EXPIRED. Public for the SDK's own
   * packages; applications need not call it.
   */
  public static CloudConnException of(String code, String reason, String message) {
    return new CloudConnException(code, reason, message, List.of(), Map.of(), "", null, null);
  }

  /**
   * Turns whatever a call threw into a CloudConnException (one already is passes through): the
   * status's code and description, and the google.rpc details the server put in the
   * grpc-status-details-bin trailer (ErrorInfo, BadRequest, RetryInfo; others are ignored).
   */
  static CloudConnException from(Throwable t) {
    if (t instanceof CloudConnException e) {
      return e;
    }
    Status status = Status.fromThrowable(t);
    com.google.rpc.Status details = StatusProto.fromThrowable(t);
    String reason = "";
    String domain = "";
    Map<String, String> metadata = Map.of();
    List<FieldViolation> violations = new ArrayList<>();
    Duration retryDelay = null;
    for (Any any : details == null ? List.<Any>of() : details.getDetailsList()) {
      try {
        if (any.is(ErrorInfo.class)) {
          ErrorInfo info = any.unpack(ErrorInfo.class);
          reason = info.getReason();
          domain = info.getDomain();
          metadata = info.getMetadataMap();
        } else if (any.is(BadRequest.class)) {
          for (var v : any.unpack(BadRequest.class).getFieldViolationsList()) {
            violations.add(new FieldViolation(v.getField(), v.getDescription()));
          }
        } else if (any.is(RetryInfo.class)) {
          var d = any.unpack(RetryInfo.class).getRetryDelay();
          retryDelay = Duration.ofSeconds(d.getSeconds(), d.getNanos());
        }
      } catch (InvalidProtocolBufferException e) {
        t.addSuppressed(e); // a malformed detail is skipped; the code and message still hold
      }
    }
    String code = status.getCode().name();
    String message = status.getDescription() == null ? code : status.getDescription();
    return new CloudConnException(code, reason, message, violations, metadata, domain, retryDelay, t);
  }
}
