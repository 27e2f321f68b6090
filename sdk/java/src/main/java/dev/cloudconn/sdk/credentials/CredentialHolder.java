package dev.cloudconn.sdk.credentials;

import dev.cloudconn.sdk.CloudConnException;
import dev.cloudconn.sdk.IssuedCredentials;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * The one refreshing credential behind every provider: serves the credential it holds until its
 * refresh point, then has one IssueCredentials call made for all callers.
 *
 * <p>The refresh point of a credential received at {@code t} expiring at {@code e} is
 * {@code e − R × (0.25 + j)} with {@code R = e − t} and {@code j} uniform in [0, 0.05), drawn per
 * credential: the server serves its cached credential while at least a third of its lifetime
 * remains, so refreshing below 30 % of what was received always gets a fresh one, never the same
 * one back; the jitter keeps the replicas of a component from refreshing in step.
 *
 * <p>A credential within {@link #SKEW} of its expiry counts as expired (clock skew) and is never
 * served. A refresh that fails with UNAVAILABLE, DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED keeps
 * serving the held credential while it is still valid (the next call tries again); any other
 * failure drops it and is thrown.
 */
final class CredentialHolder {
  /** Expiring within this counts as expired: the clocks of this host and the provider differ. */
  static final Duration SKEW = Duration.ofSeconds(10);
  private static final Set<String> TRANSIENT = Set.of("UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED");
  private static final System.Logger LOG = System.getLogger("dev.cloudconn.sdk.credentials");

  /** A credential and when to stop serving it; never printed with its secrets. */
  record Held(IssuedCredentials credentials, Instant refreshAt) {
    Instant expireTime() {
      return credentials.expireTime();
    }

    @Override
    public String toString() {
      return "Held[expireTime=" + credentials.expireTime() + ", refreshAt=" + refreshAt + "]";
    }
  }

  private final String provider;
  private final String description;
  // Transient: reflection-based JSON (Gson) and Java serialization skip them, so neither can
  // reach the held secret.
  private final transient Supplier<IssuedCredentials> issue;
  private final transient Clock clock;
  private final transient Object lock = new Object();
  private transient Held held;
  private transient CompletableFuture<Held> inflight;

  /**
   * @param provider the provider the connection must be ("aws", "gcp", …)
   * @param description what it holds, for messages: no secret ("aws credentials of prod_aws, scope storage")
   */
  CredentialHolder(String provider, String description, Supplier<IssuedCredentials> issue, Clock clock) {
    this.provider = provider;
    this.description = description;
    this.issue = issue;
    this.clock = clock;
  }

  String description() {
    return description;
  }

  /** Whether the next {@link #get()} will call IssueCredentials. */
  boolean refreshDue() {
    synchronized (lock) {
      return held == null || !clock.instant().isBefore(held.refreshAt());
    }
  }

  /** The held credential, or a fresh one when past the refresh point (one call for all callers). */
  IssuedCredentials get() {
    return current().credentials();
  }

  Held current() {
    CompletableFuture<Held> shared;
    boolean mine = false;
    synchronized (lock) {
      if (held != null && clock.instant().isBefore(held.refreshAt())) {
        return held;
      }
      if (inflight == null) {
        inflight = new CompletableFuture<>();
        mine = true;
      }
      shared = inflight;
    }
    if (mine) {
      refresh(shared);
    }
    try {
      return shared.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error r) {
        throw r;
      }
      throw e;
    }
  }

  /** Runs the one IssueCredentials call in the caller's thread and settles {@code shared}. */
  private void refresh(CompletableFuture<Held> shared) {
    try {
      Held fresh = accept(issue.get());
      synchronized (lock) {
        held = fresh;
        inflight = null;
      }
      LOG.log(Level.DEBUG, () -> "issued " + description + ": expires " + fresh.expireTime() + ", refresh from " + fresh.refreshAt());
      shared.complete(fresh);
    } catch (RuntimeException | Error e) {
      Held keep;
      synchronized (lock) {
        inflight = null;
        keep = held;
        boolean stillValid = keep != null && clock.instant().isBefore(keep.expireTime().minus(SKEW));
        if (!(e instanceof CloudConnException c && TRANSIENT.contains(c.code()) && stillValid)) {
          held = null;
          keep = null;
        }
      }
      if (keep != null) {
        Instant expires = keep.expireTime();
        LOG.log(Level.WARNING, () -> "refreshing " + description + " failed (" + ((CloudConnException) e).code()
            + "); serving the held one, valid until " + expires + ", and retrying on the next call");
        shared.complete(keep);
      } else {
        shared.completeExceptionally(e);
      }
    }
  }

  /** Checks what IssueCredentials answered and places its refresh point. */
  private Held accept(IssuedCredentials c) {
    if (!provider.equals(c.provider())) {
      throw CloudConnException.of("FAILED_PRECONDITION", "WRONG_PROVIDER",
          "connection " + c.tag() + " is a " + c.provider() + " connection, so it cannot give " + description);
    }
    Instant received = clock.instant();
    Instant expires = c.expireTime();
    if (!received.plus(SKEW).isBefore(expires)) {
      throw CloudConnException.of("FAILED_PRECONDITION", "CREDENTIALS_EXPIRED",
          "IssueCredentials answered " + description + " expiring at " + expires + ", within " + SKEW.toSeconds()
              + " s of this machine's clock (" + received + "): is the clock off?");
    }
    long lifetime = Duration.between(received, expires).toMillis();
    double fraction = 0.25 + ThreadLocalRandom.current().nextDouble(0.05);
    Instant refreshAt = expires.minusMillis((long) (lifetime * fraction));
    // A very short credential: 25 % of it may be under the skew margin.
    Instant latest = expires.minus(SKEW);
    return new Held(c, refreshAt.isBefore(latest) ? refreshAt : latest);
  }

  @Override
  public String toString() {
    return "CredentialHolder[" + description + "]";
  }
}
