// The Setup tab, while pending or failed: the AWS external id, how cloudconn
// signs in (the kind: keyless first), the setup kit for that kind, then the
// credential form, and the last validation.
import type { Connection, ProviderSpec } from "@cloudconn/sdk/browser";
import { useState } from "preact/hooks";
import { initialKind, kindSpec } from "../kinds";
import type { Store } from "../store";
import { CredentialsForm } from "./CredentialsForm";
import { ExternalId } from "./ExternalId";
import { KindPicker } from "./KindPicker";
import { CredentialsSummary, NeedsWrite } from "./ReadOnly";
import { SetupKit } from "./SetupKit";
import { ValidationView } from "./ValidationView";

export function Setup({ store, conn, spec }: { store: Store; conn: Connection; spec: ProviderSpec }) {
  // One choice for the kit and the form: the kit sets up the kind the form saves.
  const [kind, setKind] = useState(() => initialKind(conn, spec));
  return (
    <div>
      {conn.status === "failed" && conn.lastValidation?.error && (
        <p class="error banner" role="alert">
          Last validation failed: {conn.lastValidation.error.code}. {conn.lastValidation.error.hint}
        </p>
      )}
      {/* The external id is for the kind with a role trusting cloudconn's AWS principal. */}
      {!kindSpec(spec, kind)?.keyless && <ExternalId conn={conn} />}
      <KindPicker conn={conn} spec={spec} kind={kind} onKind={setKind} />
      <SetupKit store={store} conn={conn} spec={spec} kind={kind} />
      <h2>Credentials</h2>
      {store.canWrite ? (
        <CredentialsForm store={store} conn={conn} spec={spec} kind={kind} />
      ) : (
        <>
          <NeedsWrite what="Saving credentials" />
          <CredentialsSummary conn={conn} spec={spec} />
        </>
      )}
      <h2>Last validation</h2>
      <ValidationView v={conn.lastValidation} />
    </div>
  );
}
