// AWS only: the external id the role's trust policy must require, shown
// prominently (it is the one value the customer must get right by hand).
import type { Connection } from "@cloudconn/sdk/browser";
import { CopyButton } from "./CopyButton";

export function ExternalId({ conn }: { conn: Connection }) {
  if (!conn.externalId) return null;
  return (
    <div class="external-id">
      <h3 id="extid-heading">External ID</h3>
      <p>Require it in the role's trust policy as <code>sts:ExternalId</code>:</p>
      <p class="extid-row">
        <code id="extid-value" aria-labelledby="extid-heading" data-testid="external-id">
          {conn.externalId}
        </code>
        <CopyButton text={conn.externalId} what="the external ID" target="extid-value" />
      </p>
    </div>
  );
}
