// A connection: header (display name, tag, status, Re-validate, Remove), a
// Setup tab while pending or failed, Settings (and Credentials once active),
// the last validation. Kept live by the store's watch().
import type { Connection, ProviderSpec } from "@cloudconn/sdk/browser";
import { useEffect, useRef, useState } from "preact/hooks";
import { showError, type ShownError } from "../errors";
import { navigate, type Tab } from "../route";
import type { Store } from "../store";
import { CredentialsForm } from "./CredentialsForm";
import { described, Field } from "./Field";
import { StatusBadge } from "./StatusBadge";
import { ValidationView } from "./ValidationView";

export function ConnectionPage({ store, tag, tab }: { store: Store; tag: string; tab?: Tab }) {
  const conn = store.connections.get(tag);
  const [loadErr, setLoadErr] = useState<ShownError | null>(null);
  const seen = useRef(false);
  if (conn) seen.current = true;
  useEffect(() => {
    setLoadErr(null);
    store.client.cloud.connections.fetch(tag).then(
      (c) => store.upsert(c),
      (e) => setLoadErr(showError(e)),
    );
  }, [store, tag]);
  if (!conn) {
    if (seen.current) {
      return (
        <section class="panel" role="alert">
          <h1>{tag} was removed</h1>
          <p>
            It was deleted, here or elsewhere. <a href="#/">Back to the list</a>
          </p>
        </section>
      );
    }
    if (loadErr) return <p role="alert">{loadErr.reason === "CONNECTION_NOT_FOUND" ? `No connection "${tag}".` : loadErr.message}</p>;
    return <p>Loading {tag}…</p>;
  }
  const spec = store.providers.find((p) => p.provider === conn.provider);
  const setupFirst = conn.status !== "active";
  const tabs: { id: Tab; label: string }[] = setupFirst
    ? [
        { id: "setup", label: "Setup" },
        { id: "validation", label: "Validation" },
        { id: "settings", label: "Settings" },
      ]
    : [
        { id: "settings", label: "Settings" },
        { id: "validation", label: "Validation" },
      ];
  const current = tabs.find((t) => t.id === tab)?.id ?? tabs[0]!.id;

  return (
    <section class="panel" aria-labelledby="conn-heading">
      <Header store={store} conn={conn} />
      <div class="tabs" role="tablist" aria-label="Connection sections">
        {tabs.map((t, i) => (
          <button
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={t.id === current}
            aria-controls={`panel-${t.id}`}
            tabIndex={t.id === current ? 0 : -1}
            onClick={() => navigate({ name: "connection", tag, tab: t.id })}
            onKeyDown={(e) => {
              const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
              if (!d) return;
              const next = tabs[(i + d + tabs.length) % tabs.length]!;
              navigate({ name: "connection", tag, tab: next.id });
              requestAnimationFrame(() => document.getElementById(`tab-${next.id}`)?.focus());
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${current}`} aria-labelledby={`tab-${current}`} tabIndex={0} class="tabpanel">
        {current === "setup" && spec && <Setup store={store} conn={conn} spec={spec} />}
        {current === "settings" && <Settings store={store} conn={conn} spec={spec} />}
        {current === "validation" && <ValidationView v={conn.lastValidation} />}
      </div>
    </section>
  );
}

function Header({ store, conn }: { store: Store; conn: Connection }) {
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
          {running && (
            <span class="running" role="status">
              {" "}
              validating…
            </span>
          )}
        </p>
      </div>
      <div class="conn-actions">
        <button type="button" onClick={revalidate} disabled={busy || running || conn.credentials.revision === 0} title={conn.credentials.revision === 0 ? "Save credentials first" : undefined}>
          Re-validate
        </button>
        <button type="button" class="danger" onClick={() => dialog.current?.showModal()}>
          Remove
        </button>
      </div>
      <p class="live-status" role="status" aria-live="polite" data-testid="status-live">
        Status: {conn.status}
        {v ? `, last validation ${v.state}` : ""}
      </p>
      {err && (
        <p class="error banner" role="alert">
          {err.message}
        </p>
      )}
      <RemoveDialog store={store} conn={conn} dialog={dialog} />
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
      store.remove(conn.tag);
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

function ExternalId({ conn }: { conn: Connection }) {
  const [copied, setCopied] = useState(false);
  if (!conn.externalId) return null;
  return (
    <div class="external-id">
      <h3 id="extid-heading">External ID</h3>
      <p>Require it in the role's trust policy as <code>sts:ExternalId</code>:</p>
      <p class="extid-row">
        <code aria-labelledby="extid-heading" data-testid="external-id">
          {conn.externalId}
        </code>
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard?.writeText(conn.externalId).catch(() => undefined);
            setCopied(true);
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </p>
    </div>
  );
}

function Setup({ store, conn, spec }: { store: Store; conn: Connection; spec: ProviderSpec }) {
  return (
    <div>
      <ExternalId conn={conn} />
      <h2>Credentials</h2>
      {conn.status === "failed" && conn.lastValidation?.error && (
        <p class="error banner" role="alert">
          Last validation failed: {conn.lastValidation.error.code}. {conn.lastValidation.error.hint}
        </p>
      )}
      <CredentialsForm store={store} conn={conn} spec={spec} />
      <h2>Last validation</h2>
      <ValidationView v={conn.lastValidation} />
    </div>
  );
}

function Settings({ store, conn, spec }: { store: Store; conn: Connection; spec?: ProviderSpec }) {
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
        <fieldset class="scopes">
          <legend>Scopes</legend>
          {(spec?.scopes ?? conn.scopes).map((s) => (
            <label class="check">
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  setScopes((cur) => (on ? [...cur, s] : cur.filter((x) => x !== s)));
                }}
              />
              {s}
            </label>
          ))}
          {err?.fields["scopes"] && (
            <p class="error" role="alert">
              {err.fields["scopes"]}
            </p>
          )}
        </fieldset>
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
          <ExternalId conn={conn} />
          <CredentialsForm store={store} conn={conn} spec={spec} />
        </>
      )}
    </div>
  );
}
