package dev.cloudconn.sdk.credentials;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.azure.core.credential.TokenRequestContext;
import dev.cloudconn.sdk.CloudConnException;
import dev.cloudconn.sdk.IssuedCredentials;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * An Azure {@link TokenCredential} over IssueCredentials. A connection scope's token is for one
 * resource (its audience: storage gives {@code https://storage.azure.com}, functions
 * {@code https://management.azure.com}), so {@link #getToken} answers only requests for
 * {@code <audience>/.default} and refuses others with INVALID_ARGUMENT naming both. The
 * {@link AccessToken} carries the true expiry and, as {@code refreshAt}, this provider's refresh
 * point, which Azure's token cache honours. Made by {@link CloudCredentials#azure}.
 */
public final class CloudConnAzureCredential implements TokenCredential {
  private final transient CredentialHolder holder;
  private final String description;

  CloudConnAzureCredential(CredentialHolder holder) {
    this.holder = holder;
    this.description = holder.description();
  }

  /** Blocks on IssueCredentials only past the refresh point, off the caller's event loop. */
  @Override
  public Mono<AccessToken> getToken(TokenRequestContext request) {
    return Mono.fromCallable(() -> getTokenSync(request)).subscribeOn(Schedulers.boundedElastic());
  }

  @Override
  public AccessToken getTokenSync(TokenRequestContext request) {
    CredentialHolder.Held held = holder.current();
    IssuedCredentials.AccessToken token = held.credentials().azure();
    check(request.getScopes(), token.audience());
    return new AccessToken(token.accessToken(), held.expireTime().atOffset(ZoneOffset.UTC),
        held.refreshAt().atOffset(ZoneOffset.UTC), token.tokenType() == null || token.tokenType().isEmpty() ? "Bearer" : token.tokenType());
  }

  /** Every scope asked for must be the token's resource: {@code <audience>/.default}. */
  private void check(List<String> scopes, String audience) {
    String resource = trimSlash(audience);
    boolean ok = !scopes.isEmpty() && scopes.stream().allMatch(s -> trimSlash(s.endsWith("/.default")
        ? s.substring(0, s.length() - "/.default".length()) : s).equals(resource));
    if (!ok) {
      throw CloudConnException.of("INVALID_ARGUMENT", "AUDIENCE_MISMATCH", description + " gives tokens for " + audience
          + " (ask for " + audience + "/.default), not " + scopes
          + ": use a connection scope whose audience is the resource you call");
    }
  }

  private static String trimSlash(String s) {
    String t = s == null ? "" : s.toLowerCase(Locale.ROOT);
    while (t.endsWith("/")) {
      t = t.substring(0, t.length() - 1);
    }
    return t;
  }

  @Override
  public String toString() {
    return "CloudConnAzureCredential[" + description + "]";
  }
}
