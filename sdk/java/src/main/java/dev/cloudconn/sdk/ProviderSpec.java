package dev.cloudconn.sdk;

import java.util.List;

/**
 * The catalogue entry of one provider.
 *
 * @param scopeSpecs per scope, the provider permissions it needs
 * @param kinds how a connection may sign in (its credentials' {@code kind}), keyless first
 * @param defaultKind what a blank {@code kind} means on a first completion
 */
public record ProviderSpec(
    String provider,
    String displayName,
    List<Field> fields,
    List<String> scopes,
    List<Scope> scopeSpecs,
    List<Kind> kinds,
    String defaultKind) {

  /**
   * One credential field.
   *
   * @param name the seed's snake_case name, as completeConnection takes it
   */
  public record Field(String name, boolean secret, boolean required, String pattern, String description) {}

  /** What one scope needs at its provider. */
  public record Scope(String name, List<String> permissions) {}

  /**
   * One way of signing in (docs/keyless.md).
   *
   * @param keyless stores no secret: the server's OpenID Connect tokens stand in for one
   * @param fields the fields this kind uses, besides {@code kind}
   * @param issuerUrl for a keyless kind on a server that is an issuer: what the customer's cloud must trust
   */
  public record Kind(
      String name, String displayName, String description, boolean keyless, List<String> fields, String issuerUrl) {}
}
