package dev.cloudconn.sdk.credentials;

import java.util.function.Supplier;

/**
 * A Neo4j Aura API bearer token of the connection scope, refreshed ahead of expiry: call
 * {@link #get()} for each request ({@code Authorization: Bearer <get()>}). Made by
 * {@link CloudCredentials#aura}.
 */
public final class AuraToken implements Supplier<String> {
  private final transient CredentialHolder holder;
  private final String description;

  AuraToken(CredentialHolder holder) {
    this.holder = holder;
    this.description = holder.description();
  }

  /** The current token; a {@link dev.cloudconn.sdk.CloudConnException} when none can be had. */
  @Override
  public String get() {
    return holder.get().neo4jAura().accessToken();
  }

  @Override
  public String toString() {
    return "AuraToken[" + description + "]";
  }
}
