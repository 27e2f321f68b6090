package dev.cloudconn.sdk;

import java.util.List;

/** A connection's setup kit: what the customer grants at the provider. */
public record SetupInstructions(String tag, String provider, List<String> scopes, List<Step> steps) {

  /** One step: Markdown text, and files to copy as they are. */
  public record Step(String title, String text, List<Artifact> artifacts) {}

  /** A file such as trust-policy.json (application/json). */
  public record Artifact(String name, String mediaType, String content) {}
}
