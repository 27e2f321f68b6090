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
    if (plaintext(b.address)) {
      cb.usePlaintext();
    } else {
      cb.useTransportSecurity();
    }
    Metadata auth = new Metadata();
    auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + b.token);
    channel = cb.intercept(MetadataUtils.newAttachHeadersInterceptor(auth)).build();
    cloudService = new CloudService(channel, b.workspace, b.timeout);
  }

  /**
   * Whether {@code address} means plaintext: {@code http://} as written, or a bare host:port whose
   * host is loopback. The bearer token rides on an interceptor, which no gRPC check stops from
   * going out in clear, so "cloudconn.example.com:443" must mean TLS. Other gRPC targets
   * ("dns:///host:port") get TLS.
   */
  static boolean plaintext(String address) {
    if (address.startsWith("http://")) {
      return true;
    }
    if (address.contains("://")) {
      return false;
    }
    return isLoopbackHost(hostOf(address.replaceFirst("/$", "")));
  }

  /** "host" of "host:port" or "[v6]:port" (the authority alone when it has no port). */
  static String hostOf(String authority) {
    if (authority.startsWith("[")) {
      int end = authority.indexOf(']');
      return end > 0 ? authority.substring(1, end) : authority;
    }
    int colon = authority.lastIndexOf(':');
    return colon >= 0 && authority.indexOf(':') == colon ? authority.substring(0, colon) : authority;
  }

  /** 127.0.0.0/8, ::1 or localhost, as written: a name's answer can change, the literal cannot. */
  static boolean isLoopbackHost(String host) {
    return host.equalsIgnoreCase("localhost")
        || host.matches("127(\\.\\d{1,3}){3}")
        || host.equals("::1")
        || host.equals("0:0:0:0:0:0:0:1");
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
     * The server's gRPC address: "https://host[:port]" for TLS with the JDK's trusted roots,
     * "http://host:port" for plaintext, or "host:port": plaintext only when the host is loopback
     * (127.0.0.0/8, ::1, localhost; as written, never resolved, e.g. a --dev server), TLS otherwise.
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
