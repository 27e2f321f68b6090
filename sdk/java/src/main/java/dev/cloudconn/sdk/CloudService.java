package dev.cloudconn.sdk;

import com.google.protobuf.FieldMask;
import dev.cloudconn.v1.CompleteConnectionRequest;
import dev.cloudconn.v1.ConnectionServiceGrpc;
import dev.cloudconn.v1.ConnectionStatus;
import dev.cloudconn.v1.CreateConnectionRequest;
import dev.cloudconn.v1.DeleteConnectionRequest;
import dev.cloudconn.v1.GetConnectionRequest;
import dev.cloudconn.v1.GetSetupInstructionsRequest;
import dev.cloudconn.v1.IssueCredentialsRequest;
import dev.cloudconn.v1.ListConnectionsRequest;
import dev.cloudconn.v1.ListProvidersRequest;
import dev.cloudconn.v1.Provider;
import dev.cloudconn.v1.UpdateConnectionRequest;
import dev.cloudconn.v1.ValidateConnectionRequest;
import io.grpc.Channel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The seed's calls, each one RPC (completeConnection reads the connection first, to learn its
 * provider). Every failure throws {@link CloudConnException}.
 */
public final class CloudService {
  /** How long validateConnection waits for the outcome unless told. */
  public static final Duration DEFAULT_VALIDATE_WAIT = Duration.ofSeconds(60);

  private final Channel channel;
  private final String workspace;
  private final Duration timeout;

  CloudService(Channel channel, String workspace, Duration timeout) {
    this.channel = channel;
    this.workspace = workspace;
    this.timeout = timeout;
  }

  /** Creates a connection in status "pending". */
  public Connection createConnection(CreateConnectionInput input) {
    Provider provider = Provider.valueOf(Convert.enumValue(Provider.getDescriptor(), "PROVIDER_", "provider", input.provider()));
    return call(Duration.ZERO, stub -> Convert.connection(stub.createConnection(CreateConnectionRequest.newBuilder()
        .setWorkspace(workspace)
        .setProvider(provider)
        .setTag(orEmpty(input.name()))
        .addAllScopes(input.scopes() == null ? List.of() : input.scopes())
        .setDisplayName(orEmpty(input.displayName()))
        .setDescription(orEmpty(input.description()))
        .setRequestId(orEmpty(input.requestId()))
        .build())));
  }

  /**
   * Saves a new credential revision from the provider's fields by the seed's snake_case names
   * ({@code Map.of("role_arn", …)} for AWS). A blank field keeps the stored value.
   */
  public Connection completeConnection(String tag, Map<String, String> input) {
    return completeConnection(tag, input, CompleteOptions.none());
  }

  public Connection completeConnection(String tag, Map<String, String> input, CompleteOptions options) {
    return call(Duration.ZERO, stub -> {
      var current = stub.getConnection(GetConnectionRequest.newBuilder().setWorkspace(workspace).setTag(tag).build());
      var req = CompleteConnectionRequest.newBuilder()
          .setWorkspace(workspace).setTag(tag).setValidate(options.validate()).setEtag(orEmpty(options.etag()));
      Convert.setCredentials(req, Convert.word(current.getProvider(), "PROVIDER_"), input);
      return Convert.connection(stub.completeConnection(req.build()));
    });
  }

  /**
   * Validates the latest saved revision at the provider and waits for the outcome (60 s). A failed
   * validation is a result (state "failed", error set), not an exception.
   */
  public ValidationResult validateConnection(String tag) {
    return validateConnection(tag, DEFAULT_VALIDATE_WAIT);
  }

  /** Waits up to {@code wait} for the outcome; {@link Duration#ZERO} returns at once ("queued"). */
  public ValidationResult validateConnection(String tag, Duration wait) {
    if (wait.isNegative()) {
      throw CloudConnException.invalidArgument("wait", "must be 0 or more");
    }
    return call(wait, stub -> {
      var res = stub.validateConnection(ValidateConnectionRequest.newBuilder().setWorkspace(workspace).setTag(tag)
          .setWait(com.google.protobuf.Duration.newBuilder().setSeconds(wait.getSeconds()).setNanos(wait.getNano()))
          .build());
      return new ValidationResult(Convert.validation(res.getValidation()), Convert.connection(res.getConnection()));
    });
  }

  /** One connection by tag (the seed's fetch). */
  public Connection fetchConnection(String tag) {
    return call(Duration.ZERO, stub -> Convert.connection(
        stub.getConnection(GetConnectionRequest.newBuilder().setWorkspace(workspace).setTag(tag).build())));
  }

  /** Every connection of the workspace, ordered by tag: all pages are fetched before it returns. */
  public List<Connection> listConnections() {
    return listConnections(ListOptions.all());
  }

  public List<Connection> listConnections(ListOptions options) {
    var req = ListConnectionsRequest.newBuilder().setWorkspace(workspace).setPageSize(options.pageSize());
    if (options.provider() != null) {
      req.setProvider(Provider.valueOf(Convert.enumValue(Provider.getDescriptor(), "PROVIDER_", "provider", options.provider())));
    }
    if (options.status() != null) {
      req.setStatus(ConnectionStatus.valueOf(
          Convert.enumValue(ConnectionStatus.getDescriptor(), "CONNECTION_STATUS_", "status", options.status())));
    }
    return call(Duration.ZERO, stub -> {
      List<Connection> all = new ArrayList<>();
      do {
        var res = stub.listConnections(req.build());
        res.getConnectionsList().forEach(c -> all.add(Convert.connection(c)));
        req.setPageToken(res.getNextPageToken());
      } while (!req.getPageToken().isEmpty());
      return all;
    });
  }

  /** Changes only the fields of {@code input} that are not null (they make the update mask). */
  public Connection updateConnection(String tag, UpdateConnectionInput input) {
    return updateConnection(tag, input, null);
  }

  /** The same, failing with ABORTED / ETAG_MISMATCH unless the connection's etag is still {@code etag}. */
  public Connection updateConnection(String tag, UpdateConnectionInput input, String etag) {
    var req = UpdateConnectionRequest.newBuilder().setWorkspace(workspace).setTag(tag).setEtag(orEmpty(etag));
    var mask = FieldMask.newBuilder();
    if (input.displayName() != null) {
      req.setDisplayName(input.displayName());
      mask.addPaths("display_name");
    }
    if (input.description() != null) {
      req.setDescription(input.description());
      mask.addPaths("description");
    }
    if (input.scopes() != null) {
      req.addAllScopes(input.scopes());
      mask.addPaths("scopes");
    }
    req.setUpdateMask(mask);
    return call(Duration.ZERO, stub -> Convert.connection(stub.updateConnection(req.build())));
  }

  /** Deletes the connection and every stored credential revision. */
  public void deleteConnection(String tag) {
    deleteConnection(tag, null);
  }

  /** The same, failing with ABORTED / ETAG_MISMATCH unless the connection's etag is still {@code etag}. */
  public void deleteConnection(String tag, String etag) {
    call(Duration.ZERO, stub -> stub.deleteConnection(
        DeleteConnectionRequest.newBuilder().setWorkspace(workspace).setTag(tag).setEtag(orEmpty(etag)).build()));
  }

  /**
   * Live lifecycle events of the workspace. Returns once the server has joined the stream: every
   * change committed after it returns is delivered. Close the watch to end it.
   */
  public ConnectionWatch watchConnections() {
    return watchConnections("");
  }

  /** Live lifecycle events of one connection. */
  public ConnectionWatch watchConnections(String tag) {
    return ConnectionWatch.start(channel, workspace, tag);
  }

  /** The connection's setup kit: the steps and files the customer applies at the provider. */
  public SetupInstructions getSetupInstructions(String tag) {
    return getSetupInstructions(tag, "");
  }

  /**
   * The setup kit for one credential kind ({@link ProviderSpec#kinds}), e.g. {@code web_identity} for a
   * keyless AWS connection; blank: the saved kind, else the provider's default.
   */
  public SetupInstructions getSetupInstructions(String tag, String kind) {
    return call(Duration.ZERO, stub -> Convert.setup(stub.getSetupInstructions(
        GetSetupInstructionsRequest.newBuilder().setWorkspace(workspace).setTag(tag).setKind(kind).build())));
  }

  /** The provider catalogue: each provider's credential fields and allowed scopes. */
  public List<ProviderSpec> listProviders() {
    return call(Duration.ZERO, stub ->
        stub.listProviders(ListProvidersRequest.getDefaultInstance()).getProvidersList().stream().map(Convert::providerSpec).toList());
  }

  /**
   * Short-lived credentials for one scope of an ACTIVE connection, for the component named by
   * {@code input.consumer()}. The token needs the connections:use scope.
   */
  public IssuedCredentials issueCredentials(String tag, IssueInput input) {
    var req = IssueCredentialsRequest.newBuilder().setWorkspace(workspace).setTag(tag)
        .setScope(orEmpty(input.scope())).setConsumer(orEmpty(input.consumer()));
    if (input.ttl() != null && !input.ttl().isZero()) {
      req.setTtl(com.google.protobuf.Duration.newBuilder().setSeconds(input.ttl().getSeconds()).setNanos(input.ttl().getNano()));
    }
    return call(Duration.ZERO, stub -> Convert.issued(stub.issueCredentials(req.build())));
  }

  /** Runs {@code fn} with a stub bounded by the client's timeout (plus {@code extra}). */
  private <T> T call(Duration extra, Function<ConnectionServiceGrpc.ConnectionServiceBlockingStub, T> fn) {
    var stub = ConnectionServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.plus(extra).toMillis(), TimeUnit.MILLISECONDS);
    try {
      return fn.apply(stub);
    } catch (RuntimeException e) {
      throw CloudConnException.from(e);
    }
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
