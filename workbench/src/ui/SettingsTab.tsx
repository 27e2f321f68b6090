// Settings: display name, description and scopes (with the etag: a change
// made elsewhere meanwhile is reported, not overwritten), and once active,
// Credentials (rotation). A read-only token sees the same facts as text.
import type { Connection, ProviderSpec } from "@cloudconn/sdk/browser";
import { useEffect, useRef, useState } from "preact/hooks";
import { showError, type ShownError } from "../errors";
import { initialKind, kindSpec } from "../kinds";
import type { Store } from "../store";
import { CredentialsForm } from "./CredentialsForm";
import { KindPicker } from "./KindPicker";
import { ExternalId } from "./ExternalId";
import { described, Field, ScopesField } from "./Field";
import { CredentialsSummary, NeedsWrite, SettingsSummary } from "./ReadOnly";

type Props = { store: Store; conn: Connection; spec?: ProviderSpec };

export function Settings(props: Props) {
  if (props.store.canWrite) return <SettingsForm {...props} />;
  const { conn, spec } = props;
  return (
    <div>
      <h2>Settings</h2>
      <NeedsWrite what="Changing settings" />
      <SettingsSummary conn={conn} />
      {conn.status === "active" && spec && (
        <>
          <h2>Credentials</h2>
          <ExternalId conn={conn} />
          <CredentialsSummary conn={conn} spec={spec} />
        </>
      )}
    </div>
  );
}

function SettingsForm({ store, conn, spec }: Props) {
  const [displayName, setDisplayName] = useState(conn.displayName);
  const [description, setDescription] = useState(conn.description);
  const [scopes, setScopes] = useState(conn.scopes);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ShownError | null>(null);
  const [saved, setSaved] = useState(false);
  // Follow changes made elsewhere (watch) while nothing is being edited here.
  // A ref, not state: the effect must see an edit made before it runs.
  const dirty = useRef(false);
  const seenEtag = useRef(conn.etag);
  const setDirty = (d: boolean) => {
    dirty.current = d;
  };
  useEffect(() => {
    if (conn.etag === seenEtag.current) return;
    seenEtag.current = conn.etag;
    if (dirty.current) return;
    setDisplayName(conn.displayName);
    setDescription(conn.description);
    setScopes(conn.scopes);
  }, [conn.etag]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    setSaved(false);
    try {
      const c = await store.client.cloud.connections.update(conn.tag, { display_name: displayName, description, scopes }, { etag: conn.etag });
      store.upsert(c);
      setDisplayName(c.displayName);
      setDirty(false);
      setSaved(true);
    } catch (x) {
      setErr(showError(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <h2>Settings</h2>
      <form onSubmit={submit} onInput={() => setDirty(true)} onChange={() => setDirty(true)} noValidate aria-label="Settings">
        <Field id="set-display-name" label="Display name" hint="Blank reverts to the tag." error={err?.fields["display_name"]}>
          <input {...described("set-display-name", "x", err?.fields["display_name"])} value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} />
        </Field>
        <Field id="set-description" label="Description" error={err?.fields["description"]}>
          <textarea {...described("set-description", undefined, err?.fields["description"])} rows={3} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <ScopesField id="set-scopes" options={spec?.scopes ?? conn.scopes} value={scopes} onChange={setScopes} error={err?.fields["scopes"]} />
        {err && Object.keys(err.fields).length === 0 && (
          <p class="error banner" role="alert">
            {err.reason === "ETAG_MISMATCH" ? "Someone changed this connection meanwhile: reload and try again." : err.message}
          </p>
        )}
        {saved && (
          <p class="ok" role="status">
            Saved.
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Save settings
          </button>
        </div>
      </form>
      {conn.status === "active" && spec && (
        <>
          <h2>Credentials</h2>
          <p>Rotating? Save new credentials: the connection stays active on its current revision until the new one validates.</p>
          <Rotation store={store} conn={conn} spec={spec} />
        </>
      )}
    </div>
  );
}

/** The credential form of an active connection, on its saved kind. */
function Rotation({ store, conn, spec }: { store: Store; conn: Connection; spec: ProviderSpec }) {
  const [kind, setKind] = useState(() => initialKind(conn, spec));
  return (
    <>
      {!kindSpec(spec, kind)?.keyless && <ExternalId conn={conn} />}
      <KindPicker conn={conn} spec={spec} kind={kind} onKind={setKind} />
      <CredentialsForm store={store} conn={conn} spec={spec} kind={kind} />
    </>
  );
}
