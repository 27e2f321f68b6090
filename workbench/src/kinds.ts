// Credential kinds (docs/keyless.md): the ways a connection may sign in.
// Keyless kinds come first in the catalogue and are offered only when the
// server is an OpenID Connect issuer (the kind then names its URL).
import type { Connection, CredentialKindSpec, ProviderSpec } from "@cloudconn/sdk/browser";

/** The kinds this server can use, keyless first. */
export function offeredKinds(spec: ProviderSpec): CredentialKindSpec[] {
  return spec.kinds.filter((k) => !k.keyless || k.issuerUrl !== "");
}

/**
 * The kind a form starts on: the saved one; for a connection saved before
 * kinds existed, the provider's default; for a new one, the first offered
 * (keyless, where the cloud and the server support it).
 */
export function initialKind(conn: Connection, spec: ProviderSpec): string {
  const saved = conn.credentials.fields["kind"];
  if (saved) return saved;
  if (conn.credentials.revision > 0) return spec.defaultKind;
  return offeredKinds(spec)[0]?.name ?? spec.defaultKind;
}

/** The spec of `name`, if the provider has it. */
export function kindSpec(spec: ProviderSpec, name: string): CredentialKindSpec | undefined {
  return spec.kinds.find((k) => k.name === name);
}
