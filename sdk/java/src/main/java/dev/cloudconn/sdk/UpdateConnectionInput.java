package dev.cloudconn.sdk;

import java.util.List;

/**
 * updateConnection's input: only the fields that are not null change (they make the update
 * mask). A display name of "" reverts to the tag.
 */
public record UpdateConnectionInput(String displayName, String description, List<String> scopes) {

  /** Changes nothing yet; add what to change with the withers. */
  public static UpdateConnectionInput of() {
    return new UpdateConnectionInput(null, null, null);
  }

  public UpdateConnectionInput withDisplayName(String v) {
    return new UpdateConnectionInput(v, description, scopes);
  }

  public UpdateConnectionInput withDescription(String v) {
    return new UpdateConnectionInput(displayName, v, scopes);
  }

  public UpdateConnectionInput withScopes(List<String> v) {
    return new UpdateConnectionInput(displayName, description, v);
  }
}
