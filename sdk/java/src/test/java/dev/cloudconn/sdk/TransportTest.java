package dev.cloudconn.sdk;

import static dev.cloudconn.sdk.Check.truth;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Which transport an address means, seen from the wire: a listener that answers nothing records
 * what each connection sends first. A bare host:port whose host is not loopback as written must
 * open with a TLS ClientHello, never an HTTP/2 request carrying the token; loopback and http://
 * stay plaintext.
 */
class TransportTest {
  private static final String CANARY = "REAL-TOKEN-CANARY-java";

  /** A host name and the address to listen on for it. */
  private record Alias(String name, String ip) {}

  /**
   * A name for this machine that the SDK cannot tell is loopback (it reads the host as written and
   * never resolves it) but that resolves to loopback only, and the address to listen on: a listener
   * there stands for "a server elsewhere" while every byte stays on this machine. Debian's
   * /etc/hosts maps the hostname to 127.0.1.1. Without such a name the test fails rather than fall
   * back to an address off loopback, which tests must not send to.
   */
  private static Alias loopbackAlias() throws IOException {
    // As the kernel has it (InetAddress.getLocalHost() would resolve it first, and throw).
    String name = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    InetAddress[] resolved;
    try {
      resolved = InetAddress.getAllByName(name);
    } catch (UnknownHostException e) {
      resolved = new InetAddress[0];
    }
    boolean ok = resolved.length > 0 && !name.equalsIgnoreCase("localhost") && !name.matches("[0-9.:\\[\\]]+")
        && Arrays.stream(resolved).allMatch(InetAddress::isLoopbackAddress);
    truth("this test needs the hostname to be a name other than localhost that resolves to loopback only, as"
        + " Debian's /etc/hosts line `127.0.1.1 " + name + "` makes it; " + name + " resolves to "
        + Arrays.toString(resolved), ok);
    return new Alias(name, resolved[0].getHostAddress());
  }

  /** Listens on host, makes one call to address(port) (it fails), returns what each connection sent. */
  private static List<byte[]> firstBytes(String host, IntFunction<String> address) throws Exception {
    List<byte[]> seen = Collections.synchronizedList(new ArrayList<>());
    List<Thread> readers = Collections.synchronizedList(new ArrayList<>());
    try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getByName(host))) {
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            Socket socket = server.accept();
            Thread reader = new Thread(() -> seen.add(read(socket)));
            readers.add(reader);
            reader.start();
          } catch (IOException closed) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      CloudConn client = CloudConn.builder().address(address.apply(server.getLocalPort())).token(CANARY)
          .workspace("acme").timeout(Duration.ofSeconds(10)).build();
      try (client) {
        assertThrows(CloudConnException.class, () -> client.cloudService().listProviders());
      }
    }
    for (Thread reader : List.copyOf(readers)) {
      reader.join();
    }
    return new ArrayList<>(seen);
  }

  /**
   * What the peer sends until it pauses for 300 ms (its first bytes may take seconds on a loaded
   * machine: a JVM's first HTTP/2 or TLS use loads classes), then closes.
   */
  private static byte[] read(Socket socket) {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    try (socket) {
      socket.setSoTimeout(5000);
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[16384];
      for (int n; (n = in.read(buf)) > 0; ) {
        got.write(buf, 0, n);
        socket.setSoTimeout(300);
      }
    } catch (SocketTimeoutException enough) {
      // a pause: what came is what we keep
    } catch (IOException e) {
      // the client gave up: keep what came
    }
    return got.toByteArray();
  }

  @Test
  @DisplayName("a bare host:port of another machine gets TLS, never the token in clear")
  void bareAddressOffThisMachineGetsTls() throws Exception {
    Alias alias = loopbackAlias();
    List<byte[]> seen = firstBytes(alias.ip(), port -> alias.name() + ":" + port);
    truth("the client connected", !seen.isEmpty());
    for (byte[] b : seen) {
      String text = new String(b, StandardCharsets.ISO_8859_1);
      truth("a TLS handshake first, not " + text.substring(0, Math.min(16, text.length())),
          b.length >= 2 && b[0] == 0x16 && b[1] == 0x03);
      truth("the token never crosses the network in clear", !text.contains(CANARY));
    }
  }

  @Test
  @DisplayName("loopback host:port and http:// are plaintext")
  void loopbackAndHttpArePlaintext() throws Exception {
    Alias alias = loopbackAlias();
    record Case(String host, IntFunction<String> address) {}
    for (Case c : List.of(
        new Case("127.0.0.1", port -> "127.0.0.1:" + port),
        new Case(alias.ip(), port -> "http://" + alias.name() + ":" + port))) {
      List<byte[]> seen = firstBytes(c.host(), c.address());
      List<String> texts = seen.stream().map(b -> new String(b, StandardCharsets.ISO_8859_1)).toList();
      truth(c.address().apply(1) + ": plaintext HTTP/2, got " + texts,
          !texts.isEmpty() && texts.stream().allMatch(t -> t.startsWith("PRI * HTTP/2.0")));
    }
  }

  @Test
  @DisplayName("which hosts are loopback: as written, never resolved")
  void loopbackHosts() {
    for (String a : List.of("127.0.0.1:1", "127.9.8.7:1", "[::1]:1", "localhost:1", "LOCALHOST:1", "localhost")) {
      truth(a + " is plaintext", CloudConn.plaintext(a));
    }
    for (String a : List.of("cloudconn.example.com:443", "10.0.0.7:1", "[2001:db8::1]:1", "128.0.0.1:1",
        "localhost.example.com:1", "https://127.0.0.1:1", "dns:///127.0.0.1:1")) {
      truth(a + " is TLS", !CloudConn.plaintext(a));
    }
  }
}
