package dev.cloudconn.sdk.credentials;

import dev.cloudconn.sdk.CloudConnException;
import dev.cloudconn.sdk.IssueInput;
import java.time.Clock;
import java.time.Duration;

/**
 * What a credential provider asks IssueCredentials for: the connection scope, the consumer (the
 * component's name, shown on the connection) and optionally the lifetime.
 *
 * <pre>{@code
 * CredentialOptions.of("storage", "billing-api/prd").withTtl(Duration.ofMinutes(30))
 * }</pre>
 */
public final class CredentialOptions {
  private final String scope;
  private final String consumer;
  private final Duration ttl;
  // Only tests move time (package-private): the refresh rule is about the server's clock and
  // this machine's, so production always reads the system clock.
  private final transient Clock clock;

  private CredentialOptions(String scope, String consumer, Duration ttl, Clock clock) {
    this.scope = scope;
    this.consumer = consumer;
    this.ttl = ttl;
    this.clock = clock;
  }

  /** {@code scope}: one of the connection's scopes; {@code consumer}: who uses them (audited). */
  public static CredentialOptions of(String scope, String consumer) {
    return new CredentialOptions(scope, consumer, null, Clock.systemUTC());
  }

  /** The lifetime to ask for (null or zero: the server's default, 15 minutes). */
  public CredentialOptions withTtl(Duration ttl) {
    return new CredentialOptions(scope, consumer, ttl, clock);
  }

  /** For tests only: the clock the refresh rule reads. */
  CredentialOptions withClock(Clock clock) {
    return new CredentialOptions(scope, consumer, ttl, clock);
  }

  public String scope() {
    return scope;
  }

  public String consumer() {
    return consumer;
  }

  /** Null when the server's default applies. */
  public Duration ttl() {
    return ttl;
  }

  Clock clock() {
    return clock;
  }

  IssueInput input() {
    return new IssueInput(scope, consumer, ttl);
  }

  /** Refuses what IssueCredentials would refuse anyway, before any provider object exists. */
  void check() {
    if (scope == null || scope.isEmpty()) {
      throw CloudConnException.invalidArgument("scope", "must be one of the connection's scopes, e.g. \"storage\"");
    }
    if (consumer == null || consumer.isEmpty()) {
      throw CloudConnException.invalidArgument("consumer", "must name the component that uses the credentials, e.g. \"billing-api/prd\"");
    }
    if (ttl != null && ttl.isNegative()) {
      throw CloudConnException.invalidArgument("ttl", "must be zero (the server's default) or positive, not " + ttl);
    }
  }

  @Override
  public String toString() {
    return "CredentialOptions[scope=" + scope + ", consumer=" + consumer + ", ttl=" + ttl + "]";
  }
}
