package dev.cloudconn.sdk.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cloudconn.sdk.CloudConn;
import dev.cloudconn.sdk.CloudConnException;
import dev.cloudconn.sdk.CompleteOptions;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;

/**
 * The refresh rule with a clock the test moves, through the real server: every IssueCredentials
 * call is counted by a wrapper around the call the provider makes.
 */
class RefreshTest {
  private static final String TAG = "prod_aws";
  private static final CredentialOptions OPTIONS = CredentialOptions.of("storage", "refresh-test");

  /** A provider over {@code target}'s IssueCredentials, counting the calls (slowed, to overlap callers). */
  private static CloudConnAwsCredentialsProvider counted(AtomicReference<CloudConn> target, AtomicInteger calls,
      Fixture.TestClock clock) {
    CredentialHolder holder = new CredentialHolder("aws", "aws credentials of " + TAG, () -> {
      calls.incrementAndGet();
      sleep(200);
      return target.get().cloudService().issueCredentials(TAG, OPTIONS.input());
    }, clock);
    return new CloudConnAwsCredentialsProvider(holder);
  }

  @Test
  @DisplayName("refresh: none before the refresh point, one past it (before expiry), a rotation's new session picked up")
  void refreshPoint() {
    Fixture.TestClock clock = new Fixture.TestClock();
    AtomicInteger calls = new AtomicInteger();
    try (CloudConn cc = Fixture.client("refresh-point")) {
      Fixture.active(cc, "aws", TAG, List.of("storage"));
      var provider = counted(new AtomicReference<>(cc), calls, clock);
      Instant received = clock.now();
      AwsSessionCredentials first = provider.resolveCredentials();
      assertEquals(1, calls.get(), "the first use issues");
      Instant expires = first.expirationTime().orElseThrow();
      Duration lifetime = Duration.between(received, expires);

      // The earliest refresh point is 70 % of the lifetime (30 % left, jitter included).
      clock.set(received.plus(lifetime.multipliedBy(69).dividedBy(100)));
      for (int i = 0; i < 5; i++) {
        assertEquals(first.accessKeyId(), provider.resolveCredentials().accessKeyId(), "the held session");
      }
      assertEquals(1, calls.get(), "no call before the refresh point");

      // A new active revision: the server drops its cached session, so a refresh gets a new one.
      cc.cloudService().completeConnection(TAG, Map.of("role_arn", Fixture.ROLE_ARN), CompleteOptions.none().withValidate());
      assertEquals("succeeded", cc.cloudService().validateConnection(TAG).validation().state());

      clock.set(received.plus(lifetime.multipliedBy(76).dividedBy(100)));
      assertTrue(clock.now().isBefore(expires), "still before the expiry");
      AwsSessionCredentials second = provider.resolveCredentials();
      assertEquals(2, calls.get(), "one call past the refresh point");
      assertNotEquals(first.accessKeyId(), second.accessKeyId(), "a new session");
      assertTrue(second.expirationTime().orElseThrow().isAfter(clock.now().plus(CredentialHolder.SKEW)), "valid");
      assertEquals(second.accessKeyId(), provider.resolveCredentials().accessKeyId(), "then held again");
      assertEquals(2, calls.get(), "no more calls");
    }
  }

  @Test
  @DisplayName("refresh: 8 concurrent callers past the refresh point make exactly one IssueCredentials call")
  void singleFlight() throws Exception {
    Fixture.TestClock clock = new Fixture.TestClock();
    AtomicInteger calls = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (CloudConn cc = Fixture.client("single-flight")) {
      Fixture.active(cc, "aws", TAG, List.of("storage"));
      var provider = counted(new AtomicReference<>(cc), calls, clock);
      for (int round = 1; round <= 2; round++) {
        // Round 1: nothing held yet; round 2: past the refresh point of what round 1 got.
        if (round == 2) {
          Instant expires = provider.resolveCredentials().expirationTime().orElseThrow();
          clock.set(expires.minus(Duration.between(clock.now(), expires).multipliedBy(20).dividedBy(100)));
        }
        int before = calls.get();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<AwsSessionCredentials>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          results.add(pool.submit(() -> {
            start.await();
            return provider.resolveCredentials();
          }));
        }
        start.countDown();
        Set<String> keys = results.stream().map(f -> get(f).accessKeyId()).collect(Collectors.toSet());
        assertEquals(1, calls.get() - before, "round " + round + ": one call for 8 callers");
        assertEquals(1, keys.size(), "round " + round + ": one session for all");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @DisplayName("refresh: a transient failure serves the still-valid credential, never an expired one")
  void neverExpired() throws Exception {
    Fixture.TestClock clock = new Fixture.TestClock();
    AtomicInteger calls = new AtomicInteger();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (CloudConn cc = Fixture.client("never-expired");
        CloudConn down = CloudConn.builder().address("http://127.0.0.1:" + port).token("t").workspace("w").build()) {
      Fixture.active(cc, "aws", TAG, List.of("storage"));
      AtomicReference<CloudConn> target = new AtomicReference<>(cc);
      var provider = counted(target, calls, clock);
      AwsSessionCredentials held = provider.resolveCredentials();
      Instant expires = held.expirationTime().orElseThrow();

      // The server is unreachable (UNAVAILABLE): past the refresh point, the held session is still valid.
      target.set(down);
      clock.set(expires.minus(Duration.ofMinutes(1)));
      assertEquals(held.accessKeyId(), provider.resolveCredentials().accessKeyId(), "the held, still valid");
      assertEquals(2, calls.get(), "a refresh was tried");
      assertEquals(held.accessKeyId(), provider.resolveCredentials().accessKeyId(), "and again");
      assertEquals(3, calls.get(), "retried on the next call");

      // Within the 10 s skew margin it counts as expired: the failure is thrown.
      clock.set(expires.minusSeconds(5));
      CloudConnException e = assertThrows(CloudConnException.class, provider::resolveCredentials);
      assertEquals("UNAVAILABLE", e.code());

      // The server back, but the clock past the expiry of what it serves (its cache, by its clock):
      // that credential is refused, not returned.
      target.set(cc);
      clock.set(expires.plusSeconds(60));
      CloudConnException expired = assertThrows(CloudConnException.class, provider::resolveCredentials);
      assertEquals("CREDENTIALS_EXPIRED", expired.reason(), expired.getMessage());
      assertEquals(5, calls.get());
    }
  }

  @Test
  @DisplayName("refresh: a refusal (the connection deleted) drops the held credential and surfaces with its reason")
  void refusal() {
    Fixture.TestClock clock = new Fixture.TestClock();
    AtomicInteger calls = new AtomicInteger();
    try (CloudConn cc = Fixture.client("refusal")) {
      Fixture.active(cc, "aws", TAG, List.of("storage"));
      var provider = counted(new AtomicReference<>(cc), calls, clock);
      Instant expires = provider.resolveCredentials().expirationTime().orElseThrow();
      cc.cloudService().deleteConnection(TAG);
      clock.set(expires.minus(Duration.ofMinutes(2)));
      CloudConnException e = assertThrows(CloudConnException.class, provider::resolveCredentials);
      assertEquals("NOT_FOUND", e.code());
      assertEquals("CONNECTION_NOT_FOUND", e.reason());
      // Dropped: the next call asks again rather than serving the still-unexpired session.
      assertThrows(CloudConnException.class, provider::resolveCredentials);
      assertEquals(3, calls.get(), "every call after a refusal asks the server");
    }
  }

  @Test
  @DisplayName("refresh: a connection of another provider is refused, naming both")
  void providerMismatch() {
    try (CloudConn cc = Fixture.client("mismatch")) {
      Fixture.active(cc, "aws", TAG, List.of("storage"));
      CloudConnException e = assertThrows(CloudConnException.class,
          () -> CloudCredentials.aura(cc, TAG, CredentialOptions.of("storage", "x")).get());
      assertEquals("WRONG_PROVIDER", e.reason());
      assertTrue(e.getMessage().contains("aws connection") && e.getMessage().contains("aura"), e.getMessage());
    }
  }


  private static <T> T get(Future<T> f) {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
