package dev.cloudconn.sdk;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The client of cloudconn (cloudconn.v1.ConnectionService), in the seed's call shape: the address,
 * token and workspace are given once.
 *
 * <pre>{@code
 * try (CloudConn cloudconn = CloudConn.builder().address("http://127.0.0.1:50051").token(token).workspace("acme").build()) {
 *   cloudconn.cloudService().createConnection(CreateConnectionInput.of("aws", "prod_aws", List.of("storage")));
 *   cloudconn.cloudService().completeConnection("prod_aws", Map.of("role_arn", "arn:aws:iam::123456789012:role/DuctapeAccess"));
 * }
 * }</pre>
 */
public final class CloudConn implements AutoCloseable {
  private final ManagedChannel channel;
  private final CloudService cloudService;

  private CloudConn(Builder b) {
    for (String[] f : new String[][] {{"address", b.address}, {"token", b.token}, {"workspace", b.workspace}}) {
      if (f[1] == null || f[1].isEmpty()) {
        throw CloudConnException.invalidArgument(f[0], "must be a non-empty string");
      }
    }
    String target = b.address.replaceFirst("^https?://", "").replaceFirst("/$", "");
    ManagedChannelBuilder<?> cb = ManagedChannelBuilder.forTarget(target);
    if (b.address.startsWith("https://")) {
      cb.useTransportSecurity();
    } else {
      cb.usePlaintext();
    }
    Metadata auth = new Metadata();
    auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + b.token);
    channel = cb.intercept(MetadataUtils.newAttachHeadersInterceptor(auth)).build();
    cloudService = new CloudService(channel, b.workspace, b.timeout);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The seed's calls: createConnection, completeConnection, validateConnection, … */
  public CloudService cloudService() {
    return cloudService;
  }

  /** Ends the connection to the server (waits up to 5 s for calls in flight). */
  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** Address, token and workspace are required; nothing is sent until the first call. */
  public static final class Builder {
    private String address;
    private String token;
    private String workspace;
    private Duration timeout = Duration.ofSeconds(30);

    private Builder() {}

    /**
     * The server's gRPC address: "host:port" or "http://host:port" for plaintext (e.g. a --dev
     * server), "https://host:port" for TLS with the JDK's trusted roots.
     */
    public Builder address(String address) {
      this.address = address;
      return this;
    }

    /** Sent as {@code authorization: Bearer <token>} on every call. */
    public Builder token(String token) {
      this.token = token;
      return this;
    }

    /** Every call is scoped to this workspace. */
    public Builder workspace(String workspace) {
      this.workspace = workspace;
      return this;
    }

    /** Deadline of each unary call (default 30 s); validateConnection adds its wait to it. */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    public CloudConn build() {
      return new CloudConn(this);
    }
  }
}
