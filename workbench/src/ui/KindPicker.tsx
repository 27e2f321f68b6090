// Choosing how a connection signs in: one radio per kind the server offers,
// keyless first and marked as recommended; with a keyless kind chosen, what
// the customer's cloud must trust.
import type { Connection, ProviderSpec } from "@cloudconn/sdk/browser";
import { kindSpec, offeredKinds } from "../kinds";

export function KindPicker({
  conn,
  spec,
  kind,
  onKind,
}: {
  conn: Connection;
  spec: ProviderSpec;
  kind: string;
  onKind: (kind: string) => void;
}) {
  const offered = offeredKinds(spec);
  if (offered.length < 2) return null;
  const chosen = kindSpec(spec, kind);
  return (
    <fieldset class="kinds" data-testid="kind-picker">
      <legend>How cloudconn signs in</legend>
      {offered.map((k) => (
        <label class="check" key={k.name}>
          <input type="radio" name="kind" value={k.name} checked={k.name === kind} onChange={() => onKind(k.name)} />
          {k.displayName}
          {k.keyless ? " — recommended: no secret is stored" : ""}
        </label>
      ))}
      {chosen && <p class="hint">{chosen.description}</p>}
      {chosen?.keyless && (
        <p class="notice" data-testid="keyless-trust">
          Your cloud must trust cloudconn's issuer <code>{chosen.issuerUrl}</code> for this connection's subject{" "}
          <code>{`workspace:${conn.workspace}:connection:${conn.uid}`}</code>: the setup kit has the exact steps.
        </p>
      )}
    </fieldset>
  );
}
