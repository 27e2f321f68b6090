// A connection: header (display name, tag, status, Re-validate, Remove), a
// Setup tab while pending or failed, Settings (and Credentials once active),
// the last validation, the consumers and the audit trail (Activity). Kept
// live by the store's watch().
import { useEffect, useRef, useState } from "preact/hooks";
import { showError, type ShownError } from "../errors";
import { navigate, type Tab } from "../route";
import type { Store } from "../store";
import { ActivityView } from "./ActivityView";
import { Header } from "./ConnectionHeader";
import { ConsumersView } from "./ConsumersView";
import { Settings } from "./SettingsTab";
import { Setup } from "./SetupTab";
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
        { id: "activity", label: "Activity" },
      ]
    : [
        { id: "settings", label: "Settings" },
        { id: "validation", label: "Validation" },
        { id: "activity", label: "Activity" },
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
        {current === "activity" && (
          <>
            <ConsumersView store={store} conn={conn} />
            <ActivityView store={store} conn={conn} />
          </>
        )}
      </div>
    </section>
  );
}
