package dev.cloudconn.sdk.credentials;

import dev.cloudconn.sdk.IssuedCredentials;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * A MongoDB connection string with the connection's temporary Atlas database user, refreshed
 * ahead of expiry: {@code mongodb+srv://<user>:<password>@<host>/?authSource=<database>}, the
 * user and password percent-encoded. Atlas hands out a new user (or password) on refresh, so
 * open new MongoClients with {@link #get()} when it changes. Made by {@link CloudCredentials#atlas}.
 */
public final class AtlasConnectionString implements Supplier<String> {
  private final transient CredentialHolder holder;
  private final String description;
  private final String host;

  AtlasConnectionString(CredentialHolder holder, String host) {
    this.holder = holder;
    this.description = holder.description();
    this.host = host;
  }

  /** The current connection string; a {@link dev.cloudconn.sdk.CloudConnException} when none can be had. */
  @Override
  public String get() {
    IssuedCredentials.DatabaseUser user = holder.get().mongodbAtlas();
    String database = user.database() == null || user.database().isEmpty() ? "admin" : user.database();
    return "mongodb+srv://" + encode(user.username()) + ":" + encode(user.password()) + "@" + host
        + "/?authSource=" + encode(database);
  }

  /**
   * RFC 3986 percent-encoding of everything but the unreserved characters: what the MongoDB URI
   * format asks of a user name and password (":", "/", "?", "#", "[", "]", "@", "%" at least).
   * Not URLEncoder: its form encoding turns a space into "+", which a URI user info keeps as "+".
   */
  static String encode(String s) {
    StringBuilder out = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
        out.append(c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return out.toString();
  }

  @Override
  public String toString() {
    return "AtlasConnectionString[" + description + ", host " + host + "]";
  }
}
