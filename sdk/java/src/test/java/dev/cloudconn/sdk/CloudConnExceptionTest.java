package dev.cloudconn.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * How a gRPC failure becomes a CloudConnException: the google.rpc details a server sends, read with
 * the com.google.rpc classes (no server needed: the statuses are built here).
 */
class CloudConnExceptionTest {
  @Test
  @DisplayName("errors: ErrorInfo, BadRequest and RetryInfo details; the gRPC status stays the cause")
  void details() {
    com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
        .setCode(Code.INVALID_ARGUMENT_VALUE)
        .setMessage("invalid fields: name")
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("INVALID_ARGUMENT").setDomain("cloudconn.v1")
            .putMetadata("field", "name").build()))
        .addDetails(Any.pack(BadRequest.newBuilder()
            .addFieldViolations(BadRequest.FieldViolation.newBuilder().setField("name").setDescription("must be set"))
            .addFieldViolations(BadRequest.FieldViolation.newBuilder().setField("scopes").setDescription("unknown"))
            .build()))
        .addDetails(Any.pack(RetryInfo.newBuilder()
            .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(2).setNanos(500_000_000)).build()))
        .addDetails(Any.pack(StringValue.of("a detail the SDK does not know is ignored")))
        .build();
    StatusRuntimeException grpc = StatusProto.toStatusRuntimeException(status);

    CloudConnException e = CloudConnException.from(grpc);

    assertEquals("INVALID_ARGUMENT", e.code());
    assertEquals("INVALID_ARGUMENT", e.reason());
    assertEquals("invalid fields: name", e.getMessage());
    assertEquals("cloudconn.v1", e.domain());
    assertEquals(Map.of("field", "name"), e.metadata());
    assertEquals(List.of(new CloudConnException.FieldViolation("name", "must be set"),
        new CloudConnException.FieldViolation("scopes", "unknown")), e.fieldViolations());
    assertEquals(Duration.ofMillis(2500), e.retryDelay());
    assertSame(grpc, e.getCause());
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(e.getCause()).getCode());
  }

  @Test
  @DisplayName("errors: a status without details (the call never reached the server) has its code as reason")
  void noDetails() {
    CloudConnException e = CloudConnException.from(Status.PERMISSION_DENIED.withDescription("no").asRuntimeException());
    assertEquals("PERMISSION_DENIED", e.code());
    assertEquals("PERMISSION_DENIED", e.reason());
    assertEquals("no", e.getMessage());
    assertEquals("", e.domain());
    assertEquals(Map.of(), e.metadata());
    assertEquals(List.of(), e.fieldViolations());
    assertNull(e.retryDelay());
    assertInstanceOf(StatusRuntimeException.class, e.getCause());

    CloudConnException bare = CloudConnException.from(Status.UNAVAILABLE.asRuntimeException());
    assertEquals("UNAVAILABLE", bare.getMessage());
  }

  @Test
  @DisplayName("errors: a mistake refused before sending has no cause")
  void beforeSending() {
    CloudConnException e = CloudConnException.invalidArgument("provider", "must be one of aws");
    assertEquals("INVALID_ARGUMENT", e.code());
    assertEquals(List.of(new CloudConnException.FieldViolation("provider", "must be one of aws")), e.fieldViolations());
    assertNull(e.getCause());
    assertSame(e, CloudConnException.from(e));
  }
}
