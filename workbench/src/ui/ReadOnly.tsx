// What a read-only token sees instead of the forms: the same facts, as
// text, with no control that would only be refused (PERMISSION_DENIED).
import type { Connection, ProviderSpec } from "@cloudconn/sdk/browser";
import { WRITE_SCOPE } from "../session";

export function NeedsWrite({ what }: { what: string }) {
  return (
    <p class="notice" data-testid="needs-write">
      {what} needs a token with {WRITE_SCOPE}.
    </p>
  );
}

/** The saved credentials: non-secret values, and which secrets are set (never their values). */
export function CredentialsSummary({ conn, spec }: { conn: Connection; spec: ProviderSpec }) {
  if (conn.credentials.revision === 0) return <p>No credentials saved yet.</p>;
  return (
    <dl class="summary" aria-label="Saved credentials">
      {spec.fields.map((f) => (
        <>
          <dt>{f.name}</dt>
          <dd>{f.secret ? (conn.credentials.secretFieldsSet.includes(f.name) ? "(set)" : "(not set)") : <code>{conn.credentials.fields[f.name] || "—"}</code>}</dd>
        </>
      ))}
      <dt>revision</dt>
      <dd>
        {conn.credentials.revision} saved, {conn.credentials.activeRevision || "none"} in use
      </dd>
    </dl>
  );
}

export function SettingsSummary({ conn }: { conn: Connection }) {
  return (
    <dl class="summary" aria-label="Settings">
      <dt>Display name</dt>
      <dd>{conn.displayName || conn.tag}</dd>
      <dt>Description</dt>
      <dd>{conn.description || "—"}</dd>
      <dt>Scopes</dt>
      <dd>{conn.scopes.join(", ") || "—"}</dd>
    </dl>
  );
}
