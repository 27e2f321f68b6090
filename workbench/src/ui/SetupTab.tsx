// The Setup tab, while pending or failed: the AWS external id, the setup
// kit, then the credential form, and the last validation.
import type { Connection, ProviderSpec } from "@cloudconn/sdk/browser";
import type { Store } from "../store";
import { CredentialsForm } from "./CredentialsForm";
import { ExternalId } from "./ExternalId";
import { CredentialsSummary, NeedsWrite } from "./ReadOnly";
import { SetupKit } from "./SetupKit";
import { ValidationView } from "./ValidationView";

export function Setup({ store, conn, spec }: { store: Store; conn: Connection; spec: ProviderSpec }) {
  return (
    <div>
      {conn.status === "failed" && conn.lastValidation?.error && (
        <p class="error banner" role="alert">
          Last validation failed: {conn.lastValidation.error.code}. {conn.lastValidation.error.hint}
        </p>
      )}
      <ExternalId conn={conn} />
      <SetupKit store={store} conn={conn} spec={spec} />
      <h2>Credentials</h2>
      {store.canWrite ? (
        <CredentialsForm store={store} conn={conn} spec={spec} />
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
