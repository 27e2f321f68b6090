// The connection page's header: display name, tag, provider, live status,
// when the re-validation schedule checks it next, Re-validate (returns at once; the outcome arrives through watch()) and
// Remove (a dialog: type the tag to confirm).
import type { Connection } from "@cloudconn/sdk/browser";
import { useRef, useState } from "preact/hooks";
import { showError, type ShownError } from "../errors";
import { navigate } from "../route";
import type { Store } from "../store";
import { described, Field } from "./Field";
import { NextCheck } from "./NextCheck";
import { StatusBadge } from "./StatusBadge";

export function Header({ store, conn }: { store: Store; conn: Connection }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ShownError | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const v = conn.lastValidation;
  const running = v?.state === "queued" || v?.state === "running";
  const revalidate = async () => {
    setBusy(true);
    setErr(null);
    try {
      // Return at once: the outcome arrives live through watch().
      const r = await store.client.cloud.connections.validate(conn.tag, { wait: 0 });
      store.upsert(r.connection);
    } catch (x) {
      setErr(showError(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <header class="conn-header">
      <div class="conn-title">
        <h1 id="conn-heading">{conn.displayName || conn.tag}</h1>
        <p class="meta">
          <code class="tag">{conn.tag}</code> · {conn.provider} · <StatusBadge status={conn.status} />
          {conn.nextValidationTime && (
            <>
              {" · "}
              <NextCheck at={conn.nextValidationTime} />
            </>
          )}
          {running && (
            <span class="running" role="status">
              {" "}
              validating…
            </span>
          )}
        </p>
      </div>
      {/* A read-only token gets no buttons the server would refuse. */}
      {store.canWrite && (
        <div class="conn-actions">
          <button type="button" onClick={revalidate} disabled={busy || running || conn.credentials.revision === 0} title={conn.credentials.revision === 0 ? "Save credentials first" : undefined}>
            Re-validate
          </button>
          <button type="button" class="danger" onClick={() => dialog.current?.showModal()}>
            Remove
          </button>
        </div>
      )}
      <p class="live-status" role="status" aria-live="polite" data-testid="status-live">
        Status: {conn.status}
        {v ? `, last validation ${v.state}` : ""}
      </p>
      {err && (
        <p class="error banner" role="alert">
          {err.message}
        </p>
      )}
      {store.canWrite && <RemoveDialog store={store} conn={conn} dialog={dialog} />}
    </header>
  );
}

function RemoveDialog({ store, conn, dialog }: { store: Store; conn: Connection; dialog: { current: HTMLDialogElement | null } }) {
  const [typed, setTyped] = useState("");
  const [err, setErr] = useState<ShownError | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => {
    setTyped("");
    setErr(null);
    dialog.current?.close();
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    if (typed !== conn.tag) return;
    setBusy(true);
    try {
      await store.client.cloud.connections.delete(conn.tag);
      store.remove(conn);
      close();
      navigate({ name: "home" });
    } catch (x) {
      setErr(showError(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} aria-labelledby="remove-heading" onClose={() => setTyped("")}>
      <form onSubmit={submit}>
        <h2 id="remove-heading">Remove {conn.tag}?</h2>
        <p>Components linked to it stop working. This cannot be undone.</p>
        <Field id="remove-confirm" label={`Type ${conn.tag} to confirm`} error={err?.message}>
          <input {...described("remove-confirm", undefined, err?.message)} autoComplete="off" spellcheck={false} value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </Field>
        <div class="actions">
          <button type="submit" class="danger" disabled={typed !== conn.tag || busy}>
            Remove connection
          </button>
          <button type="button" onClick={close}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
