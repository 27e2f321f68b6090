package dev.cloudconn.sdk;

import java.util.List;

/**
 * The catalogue entry of one provider.
 *
 * @param scopeSpecs per scope, the provider permissions it needs
 */
public record ProviderSpec(
    String provider, String displayName, List<Field> fields, List<String> scopes, List<Scope> scopeSpecs) {

  /**
   * One credential field.
   *
   * @param name the seed's snake_case name, as completeConnection takes it
   */
  public record Field(String name, boolean secret, boolean required, String pattern, String description) {}

  /** What one scope needs at its provider. */
  public record Scope(String name, List<String> permissions) {}
}
