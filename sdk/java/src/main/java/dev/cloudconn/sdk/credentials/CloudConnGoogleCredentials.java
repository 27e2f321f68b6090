package dev.cloudconn.sdk.credentials;

import com.google.auth.RequestMetadataCallback;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.OAuth2Credentials;
import dev.cloudconn.sdk.CloudConnException;
import dev.cloudconn.sdk.IssuedCredentials;
import java.io.IOException;
import java.net.URI;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Google {@link OAuth2Credentials} over IssueCredentials, for Google's clients
 * ({@code HttpCredentialsAdapter}, the {@code setCredentials} of the Cloud client libraries).
 * Made by {@link CloudCredentials#gcp}.
 *
 * <p>OAuth2Credentials caches the token itself and, by default, refreshes only within 3 min 45 s
 * of expiry; here its margins are this SDK's 10 s skew and every request first asks the provider
 * whether its own refresh point (70–75 % of the lifetime) has passed, so the one rule of
 * {@link CloudCredentials} decides. {@link #refreshAccessToken()} keeps Google's contract: it
 * throws {@link IOException}, whose cause is the {@link CloudConnException}.
 *
 * <p>Like every Google credential, {@link #getAccessToken()} and Java serialization hold the
 * current token; {@link #toString()} does not.
 */
public final class CloudConnGoogleCredentials extends OAuth2Credentials {
  private static final long serialVersionUID = 1L;
  private final transient CredentialHolder holder;
  private final String description;

  CloudConnGoogleCredentials(CredentialHolder holder) {
    super(null, CredentialHolder.SKEW, CredentialHolder.SKEW);
    this.holder = holder;
    this.description = holder.description();
  }

  @Override
  public AccessToken refreshAccessToken() throws IOException {
    IssuedCredentials c;
    try {
      c = holder.get();
    } catch (CloudConnException e) {
      throw new IOException(description + ": " + e.code() + " / " + e.reason() + ": " + e.getMessage(), e);
    }
    return AccessToken.newBuilder()
        .setTokenValue(c.gcp().accessToken())
        .setExpirationTime(Date.from(c.expireTime()))
        .setScopes(c.gcp().scopes() == null ? List.of() : c.gcp().scopes())
        .build();
  }

  @Override
  public Map<String, List<String>> getRequestMetadata(URI uri) throws IOException {
    refreshIfDue();
    return super.getRequestMetadata(uri);
  }

  @Override
  public void getRequestMetadata(URI uri, Executor executor, RequestMetadataCallback callback) {
    if (!holder.refreshDue()) {
      super.getRequestMetadata(uri, executor, callback);
      return;
    }
    executor.execute(() -> {
      try {
        refresh();
        callback.onSuccess(super.getRequestMetadata(uri));
      } catch (IOException | RuntimeException e) {
        callback.onFailure(e);
      }
    });
  }

  @Override
  public void refreshIfExpired() throws IOException {
    refreshIfDue();
    super.refreshIfExpired();
  }

  private void refreshIfDue() throws IOException {
    if (holder.refreshDue() || getAccessToken() == null) {
      refresh();
    }
  }

  @Override
  public boolean equals(Object o) {
    return this == o;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

  @Override
  public String toString() {
    return "CloudConnGoogleCredentials[" + description + "]";
  }
}
