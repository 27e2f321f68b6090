package dev.cloudconn.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Links workspaces to cloud providers: create → complete → validate → use.
 * Errors follow AIP-193: the status carries `google.rpc.ErrorInfo` with a
 * stable `reason` (TAG_ALREADY_EXISTS, ETAG_MISMATCH, NO_CREDENTIALS, …) and,
 * for INVALID_ARGUMENT, `google.rpc.BadRequest` naming every bad field.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: cloudconn/v1/connection_service.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class ConnectionServiceGrpc {

  private ConnectionServiceGrpc() {}

  public static final String SERVICE_NAME = "cloudconn.v1.ConnectionService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.CreateConnectionRequest,
      dev.cloudconn.v1.Connection> getCreateConnectionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateConnection",
      requestType = dev.cloudconn.v1.CreateConnectionRequest.class,
      responseType = dev.cloudconn.v1.Connection.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.CreateConnectionRequest,
      dev.cloudconn.v1.Connection> getCreateConnectionMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.CreateConnectionRequest, dev.cloudconn.v1.Connection> getCreateConnectionMethod;
    if ((getCreateConnectionMethod = ConnectionServiceGrpc.getCreateConnectionMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getCreateConnectionMethod = ConnectionServiceGrpc.getCreateConnectionMethod) == null) {
          ConnectionServiceGrpc.getCreateConnectionMethod = getCreateConnectionMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.CreateConnectionRequest, dev.cloudconn.v1.Connection>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateConnection"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.CreateConnectionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.Connection.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("CreateConnection"))
              .build();
        }
      }
    }
    return getCreateConnectionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.CompleteConnectionRequest,
      dev.cloudconn.v1.Connection> getCompleteConnectionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CompleteConnection",
      requestType = dev.cloudconn.v1.CompleteConnectionRequest.class,
      responseType = dev.cloudconn.v1.Connection.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.CompleteConnectionRequest,
      dev.cloudconn.v1.Connection> getCompleteConnectionMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.CompleteConnectionRequest, dev.cloudconn.v1.Connection> getCompleteConnectionMethod;
    if ((getCompleteConnectionMethod = ConnectionServiceGrpc.getCompleteConnectionMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getCompleteConnectionMethod = ConnectionServiceGrpc.getCompleteConnectionMethod) == null) {
          ConnectionServiceGrpc.getCompleteConnectionMethod = getCompleteConnectionMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.CompleteConnectionRequest, dev.cloudconn.v1.Connection>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CompleteConnection"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.CompleteConnectionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.Connection.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("CompleteConnection"))
              .build();
        }
      }
    }
    return getCompleteConnectionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.ValidateConnectionRequest,
      dev.cloudconn.v1.ValidateConnectionResponse> getValidateConnectionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ValidateConnection",
      requestType = dev.cloudconn.v1.ValidateConnectionRequest.class,
      responseType = dev.cloudconn.v1.ValidateConnectionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.ValidateConnectionRequest,
      dev.cloudconn.v1.ValidateConnectionResponse> getValidateConnectionMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.ValidateConnectionRequest, dev.cloudconn.v1.ValidateConnectionResponse> getValidateConnectionMethod;
    if ((getValidateConnectionMethod = ConnectionServiceGrpc.getValidateConnectionMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getValidateConnectionMethod = ConnectionServiceGrpc.getValidateConnectionMethod) == null) {
          ConnectionServiceGrpc.getValidateConnectionMethod = getValidateConnectionMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.ValidateConnectionRequest, dev.cloudconn.v1.ValidateConnectionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ValidateConnection"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.ValidateConnectionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.ValidateConnectionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("ValidateConnection"))
              .build();
        }
      }
    }
    return getValidateConnectionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.GetConnectionRequest,
      dev.cloudconn.v1.Connection> getGetConnectionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetConnection",
      requestType = dev.cloudconn.v1.GetConnectionRequest.class,
      responseType = dev.cloudconn.v1.Connection.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.GetConnectionRequest,
      dev.cloudconn.v1.Connection> getGetConnectionMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.GetConnectionRequest, dev.cloudconn.v1.Connection> getGetConnectionMethod;
    if ((getGetConnectionMethod = ConnectionServiceGrpc.getGetConnectionMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getGetConnectionMethod = ConnectionServiceGrpc.getGetConnectionMethod) == null) {
          ConnectionServiceGrpc.getGetConnectionMethod = getGetConnectionMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.GetConnectionRequest, dev.cloudconn.v1.Connection>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetConnection"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.GetConnectionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.Connection.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("GetConnection"))
              .build();
        }
      }
    }
    return getGetConnectionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.ListConnectionsRequest,
      dev.cloudconn.v1.ListConnectionsResponse> getListConnectionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListConnections",
      requestType = dev.cloudconn.v1.ListConnectionsRequest.class,
      responseType = dev.cloudconn.v1.ListConnectionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.ListConnectionsRequest,
      dev.cloudconn.v1.ListConnectionsResponse> getListConnectionsMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.ListConnectionsRequest, dev.cloudconn.v1.ListConnectionsResponse> getListConnectionsMethod;
    if ((getListConnectionsMethod = ConnectionServiceGrpc.getListConnectionsMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getListConnectionsMethod = ConnectionServiceGrpc.getListConnectionsMethod) == null) {
          ConnectionServiceGrpc.getListConnectionsMethod = getListConnectionsMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.ListConnectionsRequest, dev.cloudconn.v1.ListConnectionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListConnections"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.ListConnectionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.ListConnectionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("ListConnections"))
              .build();
        }
      }
    }
    return getListConnectionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.UpdateConnectionRequest,
      dev.cloudconn.v1.Connection> getUpdateConnectionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateConnection",
      requestType = dev.cloudconn.v1.UpdateConnectionRequest.class,
      responseType = dev.cloudconn.v1.Connection.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.UpdateConnectionRequest,
      dev.cloudconn.v1.Connection> getUpdateConnectionMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.UpdateConnectionRequest, dev.cloudconn.v1.Connection> getUpdateConnectionMethod;
    if ((getUpdateConnectionMethod = ConnectionServiceGrpc.getUpdateConnectionMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getUpdateConnectionMethod = ConnectionServiceGrpc.getUpdateConnectionMethod) == null) {
          ConnectionServiceGrpc.getUpdateConnectionMethod = getUpdateConnectionMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.UpdateConnectionRequest, dev.cloudconn.v1.Connection>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateConnection"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.UpdateConnectionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.Connection.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("UpdateConnection"))
              .build();
        }
      }
    }
    return getUpdateConnectionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.DeleteConnectionRequest,
      dev.cloudconn.v1.DeleteConnectionResponse> getDeleteConnectionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteConnection",
      requestType = dev.cloudconn.v1.DeleteConnectionRequest.class,
      responseType = dev.cloudconn.v1.DeleteConnectionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.DeleteConnectionRequest,
      dev.cloudconn.v1.DeleteConnectionResponse> getDeleteConnectionMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.DeleteConnectionRequest, dev.cloudconn.v1.DeleteConnectionResponse> getDeleteConnectionMethod;
    if ((getDeleteConnectionMethod = ConnectionServiceGrpc.getDeleteConnectionMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getDeleteConnectionMethod = ConnectionServiceGrpc.getDeleteConnectionMethod) == null) {
          ConnectionServiceGrpc.getDeleteConnectionMethod = getDeleteConnectionMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.DeleteConnectionRequest, dev.cloudconn.v1.DeleteConnectionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteConnection"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.DeleteConnectionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.DeleteConnectionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("DeleteConnection"))
              .build();
        }
      }
    }
    return getDeleteConnectionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.ListProvidersRequest,
      dev.cloudconn.v1.ListProvidersResponse> getListProvidersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListProviders",
      requestType = dev.cloudconn.v1.ListProvidersRequest.class,
      responseType = dev.cloudconn.v1.ListProvidersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.ListProvidersRequest,
      dev.cloudconn.v1.ListProvidersResponse> getListProvidersMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.ListProvidersRequest, dev.cloudconn.v1.ListProvidersResponse> getListProvidersMethod;
    if ((getListProvidersMethod = ConnectionServiceGrpc.getListProvidersMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getListProvidersMethod = ConnectionServiceGrpc.getListProvidersMethod) == null) {
          ConnectionServiceGrpc.getListProvidersMethod = getListProvidersMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.ListProvidersRequest, dev.cloudconn.v1.ListProvidersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListProviders"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.ListProvidersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.ListProvidersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("ListProviders"))
              .build();
        }
      }
    }
    return getListProvidersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.WatchConnectionsRequest,
      dev.cloudconn.v1.ConnectionEvent> getWatchConnectionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchConnections",
      requestType = dev.cloudconn.v1.WatchConnectionsRequest.class,
      responseType = dev.cloudconn.v1.ConnectionEvent.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.WatchConnectionsRequest,
      dev.cloudconn.v1.ConnectionEvent> getWatchConnectionsMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.WatchConnectionsRequest, dev.cloudconn.v1.ConnectionEvent> getWatchConnectionsMethod;
    if ((getWatchConnectionsMethod = ConnectionServiceGrpc.getWatchConnectionsMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getWatchConnectionsMethod = ConnectionServiceGrpc.getWatchConnectionsMethod) == null) {
          ConnectionServiceGrpc.getWatchConnectionsMethod = getWatchConnectionsMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.WatchConnectionsRequest, dev.cloudconn.v1.ConnectionEvent>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchConnections"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.WatchConnectionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.ConnectionEvent.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("WatchConnections"))
              .build();
        }
      }
    }
    return getWatchConnectionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.ListAuditEventsRequest,
      dev.cloudconn.v1.ListAuditEventsResponse> getListAuditEventsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListAuditEvents",
      requestType = dev.cloudconn.v1.ListAuditEventsRequest.class,
      responseType = dev.cloudconn.v1.ListAuditEventsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.ListAuditEventsRequest,
      dev.cloudconn.v1.ListAuditEventsResponse> getListAuditEventsMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.ListAuditEventsRequest, dev.cloudconn.v1.ListAuditEventsResponse> getListAuditEventsMethod;
    if ((getListAuditEventsMethod = ConnectionServiceGrpc.getListAuditEventsMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getListAuditEventsMethod = ConnectionServiceGrpc.getListAuditEventsMethod) == null) {
          ConnectionServiceGrpc.getListAuditEventsMethod = getListAuditEventsMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.ListAuditEventsRequest, dev.cloudconn.v1.ListAuditEventsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListAuditEvents"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.ListAuditEventsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.ListAuditEventsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("ListAuditEvents"))
              .build();
        }
      }
    }
    return getListAuditEventsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.GetSetupInstructionsRequest,
      dev.cloudconn.v1.SetupInstructions> getGetSetupInstructionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetSetupInstructions",
      requestType = dev.cloudconn.v1.GetSetupInstructionsRequest.class,
      responseType = dev.cloudconn.v1.SetupInstructions.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.GetSetupInstructionsRequest,
      dev.cloudconn.v1.SetupInstructions> getGetSetupInstructionsMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.GetSetupInstructionsRequest, dev.cloudconn.v1.SetupInstructions> getGetSetupInstructionsMethod;
    if ((getGetSetupInstructionsMethod = ConnectionServiceGrpc.getGetSetupInstructionsMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getGetSetupInstructionsMethod = ConnectionServiceGrpc.getGetSetupInstructionsMethod) == null) {
          ConnectionServiceGrpc.getGetSetupInstructionsMethod = getGetSetupInstructionsMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.GetSetupInstructionsRequest, dev.cloudconn.v1.SetupInstructions>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetSetupInstructions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.GetSetupInstructionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.SetupInstructions.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("GetSetupInstructions"))
              .build();
        }
      }
    }
    return getGetSetupInstructionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.cloudconn.v1.IssueCredentialsRequest,
      dev.cloudconn.v1.IssuedCredentials> getIssueCredentialsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "IssueCredentials",
      requestType = dev.cloudconn.v1.IssueCredentialsRequest.class,
      responseType = dev.cloudconn.v1.IssuedCredentials.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.cloudconn.v1.IssueCredentialsRequest,
      dev.cloudconn.v1.IssuedCredentials> getIssueCredentialsMethod() {
    io.grpc.MethodDescriptor<dev.cloudconn.v1.IssueCredentialsRequest, dev.cloudconn.v1.IssuedCredentials> getIssueCredentialsMethod;
    if ((getIssueCredentialsMethod = ConnectionServiceGrpc.getIssueCredentialsMethod) == null) {
      synchronized (ConnectionServiceGrpc.class) {
        if ((getIssueCredentialsMethod = ConnectionServiceGrpc.getIssueCredentialsMethod) == null) {
          ConnectionServiceGrpc.getIssueCredentialsMethod = getIssueCredentialsMethod =
              io.grpc.MethodDescriptor.<dev.cloudconn.v1.IssueCredentialsRequest, dev.cloudconn.v1.IssuedCredentials>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "IssueCredentials"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.IssueCredentialsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.cloudconn.v1.IssuedCredentials.getDefaultInstance()))
              .setSchemaDescriptor(new ConnectionServiceMethodDescriptorSupplier("IssueCredentials"))
              .build();
        }
      }
    }
    return getIssueCredentialsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static ConnectionServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ConnectionServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ConnectionServiceStub>() {
        @java.lang.Override
        public ConnectionServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ConnectionServiceStub(channel, callOptions);
        }
      };
    return ConnectionServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static ConnectionServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ConnectionServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ConnectionServiceBlockingStub>() {
        @java.lang.Override
        public ConnectionServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ConnectionServiceBlockingStub(channel, callOptions);
        }
      };
    return ConnectionServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static ConnectionServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ConnectionServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ConnectionServiceFutureStub>() {
        @java.lang.Override
        public ConnectionServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ConnectionServiceFutureStub(channel, callOptions);
        }
      };
    return ConnectionServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Links workspaces to cloud providers: create → complete → validate → use.
   * Errors follow AIP-193: the status carries `google.rpc.ErrorInfo` with a
   * stable `reason` (TAG_ALREADY_EXISTS, ETAG_MISMATCH, NO_CREDENTIALS, …) and,
   * for INVALID_ARGUMENT, `google.rpc.BadRequest` naming every bad field.
   * </pre>
   */
  public static abstract class ConnectionServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Creates a connection in PENDING status. Idempotent on `request_id`.
     * </pre>
     */
    public void createConnection(dev.cloudconn.v1.CreateConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateConnectionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Saves a new credential revision; blank fields keep the stored value.
     * </pre>
     */
    public void completeConnection(dev.cloudconn.v1.CompleteConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCompleteConnectionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Tests the latest saved revision at the provider and activates it on success.
     * </pre>
     */
    public void validateConnection(dev.cloudconn.v1.ValidateConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.ValidateConnectionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getValidateConnectionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Fetches one connection by tag.
     * </pre>
     */
    public void getConnection(dev.cloudconn.v1.GetConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetConnectionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists a workspace's connections, ordered by tag (AIP-158 pagination).
     * </pre>
     */
    public void listConnections(dev.cloudconn.v1.ListConnectionsRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.ListConnectionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListConnectionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Changes display name, description or scopes (AIP-134).
     * </pre>
     */
    public void updateConnection(dev.cloudconn.v1.UpdateConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateConnectionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a connection and destroys every stored credential revision.
     * </pre>
     */
    public void deleteConnection(dev.cloudconn.v1.DeleteConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.DeleteConnectionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteConnectionMethod(), responseObserver);
    }

    /**
     * <pre>
     * The provider catalogue: credential fields and allowed scopes.
     * </pre>
     */
    public void listProviders(dev.cloudconn.v1.ListProvidersRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.ListProvidersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListProvidersMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams live lifecycle events of a workspace (optionally one tag).
     * </pre>
     */
    public void watchConnections(dev.cloudconn.v1.WatchConnectionsRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.ConnectionEvent> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchConnectionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * The audit trail of a workspace, newest first.
     * </pre>
     */
    public void listAuditEvents(dev.cloudconn.v1.ListAuditEventsRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.ListAuditEventsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListAuditEventsMethod(), responseObserver);
    }

    /**
     * <pre>
     * What the customer must grant at the provider for this connection:
     * ordered steps, each with copy-paste-ready artifacts (policies,
     * templates, scripts) generated for its provider, scopes and external id.
     * </pre>
     */
    public void getSetupInstructions(dev.cloudconn.v1.GetSetupInstructionsRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.SetupInstructions> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetSetupInstructionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Short-lived credentials for one scope of an ACTIVE connection, for the
     * component named by `consumer`. Needs the `connections:use` scope.
     * </pre>
     */
    public void issueCredentials(dev.cloudconn.v1.IssueCredentialsRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.IssuedCredentials> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getIssueCredentialsMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getCreateConnectionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.CreateConnectionRequest,
                dev.cloudconn.v1.Connection>(
                  this, METHODID_CREATE_CONNECTION)))
          .addMethod(
            getCompleteConnectionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.CompleteConnectionRequest,
                dev.cloudconn.v1.Connection>(
                  this, METHODID_COMPLETE_CONNECTION)))
          .addMethod(
            getValidateConnectionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.ValidateConnectionRequest,
                dev.cloudconn.v1.ValidateConnectionResponse>(
                  this, METHODID_VALIDATE_CONNECTION)))
          .addMethod(
            getGetConnectionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.GetConnectionRequest,
                dev.cloudconn.v1.Connection>(
                  this, METHODID_GET_CONNECTION)))
          .addMethod(
            getListConnectionsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.ListConnectionsRequest,
                dev.cloudconn.v1.ListConnectionsResponse>(
                  this, METHODID_LIST_CONNECTIONS)))
          .addMethod(
            getUpdateConnectionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.UpdateConnectionRequest,
                dev.cloudconn.v1.Connection>(
                  this, METHODID_UPDATE_CONNECTION)))
          .addMethod(
            getDeleteConnectionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.DeleteConnectionRequest,
                dev.cloudconn.v1.DeleteConnectionResponse>(
                  this, METHODID_DELETE_CONNECTION)))
          .addMethod(
            getListProvidersMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.ListProvidersRequest,
                dev.cloudconn.v1.ListProvidersResponse>(
                  this, METHODID_LIST_PROVIDERS)))
          .addMethod(
            getWatchConnectionsMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                dev.cloudconn.v1.WatchConnectionsRequest,
                dev.cloudconn.v1.ConnectionEvent>(
                  this, METHODID_WATCH_CONNECTIONS)))
          .addMethod(
            getListAuditEventsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.ListAuditEventsRequest,
                dev.cloudconn.v1.ListAuditEventsResponse>(
                  this, METHODID_LIST_AUDIT_EVENTS)))
          .addMethod(
            getGetSetupInstructionsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.GetSetupInstructionsRequest,
                dev.cloudconn.v1.SetupInstructions>(
                  this, METHODID_GET_SETUP_INSTRUCTIONS)))
          .addMethod(
            getIssueCredentialsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.cloudconn.v1.IssueCredentialsRequest,
                dev.cloudconn.v1.IssuedCredentials>(
                  this, METHODID_ISSUE_CREDENTIALS)))
          .build();
    }
  }

  /**
   * <pre>
   * Links workspaces to cloud providers: create → complete → validate → use.
   * Errors follow AIP-193: the status carries `google.rpc.ErrorInfo` with a
   * stable `reason` (TAG_ALREADY_EXISTS, ETAG_MISMATCH, NO_CREDENTIALS, …) and,
   * for INVALID_ARGUMENT, `google.rpc.BadRequest` naming every bad field.
   * </pre>
   */
  public static final class ConnectionServiceStub extends io.grpc.stub.AbstractAsyncStub<ConnectionServiceStub> {
    private ConnectionServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ConnectionServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ConnectionServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a connection in PENDING status. Idempotent on `request_id`.
     * </pre>
     */
    public void createConnection(dev.cloudconn.v1.CreateConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateConnectionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Saves a new credential revision; blank fields keep the stored value.
     * </pre>
     */
    public void completeConnection(dev.cloudconn.v1.CompleteConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCompleteConnectionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Tests the latest saved revision at the provider and activates it on success.
     * </pre>
     */
    public void validateConnection(dev.cloudconn.v1.ValidateConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.ValidateConnectionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getValidateConnectionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Fetches one connection by tag.
     * </pre>
     */
    public void getConnection(dev.cloudconn.v1.GetConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetConnectionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists a workspace's connections, ordered by tag (AIP-158 pagination).
     * </pre>
     */
    public void listConnections(dev.cloudconn.v1.ListConnectionsRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.ListConnectionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListConnectionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Changes display name, description or scopes (AIP-134).
     * </pre>
     */
    public void updateConnection(dev.cloudconn.v1.UpdateConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateConnectionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a connection and destroys every stored credential revision.
     * </pre>
     */
    public void deleteConnection(dev.cloudconn.v1.DeleteConnectionRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.DeleteConnectionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteConnectionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The provider catalogue: credential fields and allowed scopes.
     * </pre>
     */
    public void listProviders(dev.cloudconn.v1.ListProvidersRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.ListProvidersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListProvidersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams live lifecycle events of a workspace (optionally one tag).
     * </pre>
     */
    public void watchConnections(dev.cloudconn.v1.WatchConnectionsRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.ConnectionEvent> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchConnectionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The audit trail of a workspace, newest first.
     * </pre>
     */
    public void listAuditEvents(dev.cloudconn.v1.ListAuditEventsRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.ListAuditEventsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListAuditEventsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * What the customer must grant at the provider for this connection:
     * ordered steps, each with copy-paste-ready artifacts (policies,
     * templates, scripts) generated for its provider, scopes and external id.
     * </pre>
     */
    public void getSetupInstructions(dev.cloudconn.v1.GetSetupInstructionsRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.SetupInstructions> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetSetupInstructionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Short-lived credentials for one scope of an ACTIVE connection, for the
     * component named by `consumer`. Needs the `connections:use` scope.
     * </pre>
     */
    public void issueCredentials(dev.cloudconn.v1.IssueCredentialsRequest request,
        io.grpc.stub.StreamObserver<dev.cloudconn.v1.IssuedCredentials> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getIssueCredentialsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Links workspaces to cloud providers: create → complete → validate → use.
   * Errors follow AIP-193: the status carries `google.rpc.ErrorInfo` with a
   * stable `reason` (TAG_ALREADY_EXISTS, ETAG_MISMATCH, NO_CREDENTIALS, …) and,
   * for INVALID_ARGUMENT, `google.rpc.BadRequest` naming every bad field.
   * </pre>
   */
  public static final class ConnectionServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<ConnectionServiceBlockingStub> {
    private ConnectionServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ConnectionServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ConnectionServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a connection in PENDING status. Idempotent on `request_id`.
     * </pre>
     */
    public dev.cloudconn.v1.Connection createConnection(dev.cloudconn.v1.CreateConnectionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateConnectionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Saves a new credential revision; blank fields keep the stored value.
     * </pre>
     */
    public dev.cloudconn.v1.Connection completeConnection(dev.cloudconn.v1.CompleteConnectionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCompleteConnectionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Tests the latest saved revision at the provider and activates it on success.
     * </pre>
     */
    public dev.cloudconn.v1.ValidateConnectionResponse validateConnection(dev.cloudconn.v1.ValidateConnectionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getValidateConnectionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Fetches one connection by tag.
     * </pre>
     */
    public dev.cloudconn.v1.Connection getConnection(dev.cloudconn.v1.GetConnectionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetConnectionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists a workspace's connections, ordered by tag (AIP-158 pagination).
     * </pre>
     */
    public dev.cloudconn.v1.ListConnectionsResponse listConnections(dev.cloudconn.v1.ListConnectionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListConnectionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes display name, description or scopes (AIP-134).
     * </pre>
     */
    public dev.cloudconn.v1.Connection updateConnection(dev.cloudconn.v1.UpdateConnectionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateConnectionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a connection and destroys every stored credential revision.
     * </pre>
     */
    public dev.cloudconn.v1.DeleteConnectionResponse deleteConnection(dev.cloudconn.v1.DeleteConnectionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteConnectionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The provider catalogue: credential fields and allowed scopes.
     * </pre>
     */
    public dev.cloudconn.v1.ListProvidersResponse listProviders(dev.cloudconn.v1.ListProvidersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListProvidersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams live lifecycle events of a workspace (optionally one tag).
     * </pre>
     */
    public java.util.Iterator<dev.cloudconn.v1.ConnectionEvent> watchConnections(
        dev.cloudconn.v1.WatchConnectionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchConnectionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The audit trail of a workspace, newest first.
     * </pre>
     */
    public dev.cloudconn.v1.ListAuditEventsResponse listAuditEvents(dev.cloudconn.v1.ListAuditEventsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListAuditEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * What the customer must grant at the provider for this connection:
     * ordered steps, each with copy-paste-ready artifacts (policies,
     * templates, scripts) generated for its provider, scopes and external id.
     * </pre>
     */
    public dev.cloudconn.v1.SetupInstructions getSetupInstructions(dev.cloudconn.v1.GetSetupInstructionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetSetupInstructionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Short-lived credentials for one scope of an ACTIVE connection, for the
     * component named by `consumer`. Needs the `connections:use` scope.
     * </pre>
     */
    public dev.cloudconn.v1.IssuedCredentials issueCredentials(dev.cloudconn.v1.IssueCredentialsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getIssueCredentialsMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Links workspaces to cloud providers: create → complete → validate → use.
   * Errors follow AIP-193: the status carries `google.rpc.ErrorInfo` with a
   * stable `reason` (TAG_ALREADY_EXISTS, ETAG_MISMATCH, NO_CREDENTIALS, …) and,
   * for INVALID_ARGUMENT, `google.rpc.BadRequest` naming every bad field.
   * </pre>
   */
  public static final class ConnectionServiceFutureStub extends io.grpc.stub.AbstractFutureStub<ConnectionServiceFutureStub> {
    private ConnectionServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ConnectionServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ConnectionServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a connection in PENDING status. Idempotent on `request_id`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.Connection> createConnection(
        dev.cloudconn.v1.CreateConnectionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateConnectionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Saves a new credential revision; blank fields keep the stored value.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.Connection> completeConnection(
        dev.cloudconn.v1.CompleteConnectionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCompleteConnectionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Tests the latest saved revision at the provider and activates it on success.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.ValidateConnectionResponse> validateConnection(
        dev.cloudconn.v1.ValidateConnectionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getValidateConnectionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Fetches one connection by tag.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.Connection> getConnection(
        dev.cloudconn.v1.GetConnectionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetConnectionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists a workspace's connections, ordered by tag (AIP-158 pagination).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.ListConnectionsResponse> listConnections(
        dev.cloudconn.v1.ListConnectionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListConnectionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Changes display name, description or scopes (AIP-134).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.Connection> updateConnection(
        dev.cloudconn.v1.UpdateConnectionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateConnectionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a connection and destroys every stored credential revision.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.DeleteConnectionResponse> deleteConnection(
        dev.cloudconn.v1.DeleteConnectionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteConnectionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The provider catalogue: credential fields and allowed scopes.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.ListProvidersResponse> listProviders(
        dev.cloudconn.v1.ListProvidersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListProvidersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The audit trail of a workspace, newest first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.ListAuditEventsResponse> listAuditEvents(
        dev.cloudconn.v1.ListAuditEventsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListAuditEventsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * What the customer must grant at the provider for this connection:
     * ordered steps, each with copy-paste-ready artifacts (policies,
     * templates, scripts) generated for its provider, scopes and external id.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.SetupInstructions> getSetupInstructions(
        dev.cloudconn.v1.GetSetupInstructionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetSetupInstructionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Short-lived credentials for one scope of an ACTIVE connection, for the
     * component named by `consumer`. Needs the `connections:use` scope.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.cloudconn.v1.IssuedCredentials> issueCredentials(
        dev.cloudconn.v1.IssueCredentialsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getIssueCredentialsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_CONNECTION = 0;
  private static final int METHODID_COMPLETE_CONNECTION = 1;
  private static final int METHODID_VALIDATE_CONNECTION = 2;
  private static final int METHODID_GET_CONNECTION = 3;
  private static final int METHODID_LIST_CONNECTIONS = 4;
  private static final int METHODID_UPDATE_CONNECTION = 5;
  private static final int METHODID_DELETE_CONNECTION = 6;
  private static final int METHODID_LIST_PROVIDERS = 7;
  private static final int METHODID_WATCH_CONNECTIONS = 8;
  private static final int METHODID_LIST_AUDIT_EVENTS = 9;
  private static final int METHODID_GET_SETUP_INSTRUCTIONS = 10;
  private static final int METHODID_ISSUE_CREDENTIALS = 11;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final ConnectionServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(ConnectionServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_CREATE_CONNECTION:
          serviceImpl.createConnection((dev.cloudconn.v1.CreateConnectionRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection>) responseObserver);
          break;
        case METHODID_COMPLETE_CONNECTION:
          serviceImpl.completeConnection((dev.cloudconn.v1.CompleteConnectionRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection>) responseObserver);
          break;
        case METHODID_VALIDATE_CONNECTION:
          serviceImpl.validateConnection((dev.cloudconn.v1.ValidateConnectionRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.ValidateConnectionResponse>) responseObserver);
          break;
        case METHODID_GET_CONNECTION:
          serviceImpl.getConnection((dev.cloudconn.v1.GetConnectionRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection>) responseObserver);
          break;
        case METHODID_LIST_CONNECTIONS:
          serviceImpl.listConnections((dev.cloudconn.v1.ListConnectionsRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.ListConnectionsResponse>) responseObserver);
          break;
        case METHODID_UPDATE_CONNECTION:
          serviceImpl.updateConnection((dev.cloudconn.v1.UpdateConnectionRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.Connection>) responseObserver);
          break;
        case METHODID_DELETE_CONNECTION:
          serviceImpl.deleteConnection((dev.cloudconn.v1.DeleteConnectionRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.DeleteConnectionResponse>) responseObserver);
          break;
        case METHODID_LIST_PROVIDERS:
          serviceImpl.listProviders((dev.cloudconn.v1.ListProvidersRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.ListProvidersResponse>) responseObserver);
          break;
        case METHODID_WATCH_CONNECTIONS:
          serviceImpl.watchConnections((dev.cloudconn.v1.WatchConnectionsRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.ConnectionEvent>) responseObserver);
          break;
        case METHODID_LIST_AUDIT_EVENTS:
          serviceImpl.listAuditEvents((dev.cloudconn.v1.ListAuditEventsRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.ListAuditEventsResponse>) responseObserver);
          break;
        case METHODID_GET_SETUP_INSTRUCTIONS:
          serviceImpl.getSetupInstructions((dev.cloudconn.v1.GetSetupInstructionsRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.SetupInstructions>) responseObserver);
          break;
        case METHODID_ISSUE_CREDENTIALS:
          serviceImpl.issueCredentials((dev.cloudconn.v1.IssueCredentialsRequest) request,
              (io.grpc.stub.StreamObserver<dev.cloudconn.v1.IssuedCredentials>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class ConnectionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    ConnectionServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.cloudconn.v1.ConnectionServiceProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("ConnectionService");
    }
  }

  private static final class ConnectionServiceFileDescriptorSupplier
      extends ConnectionServiceBaseDescriptorSupplier {
    ConnectionServiceFileDescriptorSupplier() {}
  }

  private static final class ConnectionServiceMethodDescriptorSupplier
      extends ConnectionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    ConnectionServiceMethodDescriptorSupplier(String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (ConnectionServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new ConnectionServiceFileDescriptorSupplier())
              .addMethod(getCreateConnectionMethod())
              .addMethod(getCompleteConnectionMethod())
              .addMethod(getValidateConnectionMethod())
              .addMethod(getGetConnectionMethod())
              .addMethod(getListConnectionsMethod())
              .addMethod(getUpdateConnectionMethod())
              .addMethod(getDeleteConnectionMethod())
              .addMethod(getListProvidersMethod())
              .addMethod(getWatchConnectionsMethod())
              .addMethod(getListAuditEventsMethod())
              .addMethod(getGetSetupInstructionsMethod())
              .addMethod(getIssueCredentialsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
