// Cloud sidebar: Add connection, filters by provider and status, and the
// list, virtualised (only the visible rows are in the DOM) so thousands of
// connections stay responsive.
import type { Connection } from "@cloudconn/sdk/browser";
import { useMemo, useRef, useState, useEffect } from "preact/hooks";
import { href } from "../route";
import type { Store } from "../store";
import { StatusBadge } from "./StatusBadge";

const ROW = 52; // px, fixed row height (see .conn-row in styles.css)
const OVERSCAN = 8;

export function Sidebar({ store, selected }: { store: Store; selected?: string }) {
  const [provider, setProvider] = useState("");
  const [status, setStatus] = useState("");
  const [text, setText] = useState("");
  const version = store.version;
  const rows = useMemo(() => {
    const t = text.trim().toLowerCase();
    const out: Connection[] = [];
    for (const c of store.connections.values()) {
      if (provider && c.provider !== provider) continue;
      if (status && c.status !== status) continue;
      if (t && !c.tag.includes(t) && !c.displayName.toLowerCase().includes(t)) continue;
      out.push(c);
    }
    return out.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }, [store, version, provider, status, text]);

  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW) + OVERSCAN);
  const providers = store.providers.map((p) => p.provider);

  return (
    <nav class="sidebar" aria-label="Cloud connections">
      <div class="sidebar-head">
        <h2 id="cloud-heading">Cloud</h2>
        {store.canWrite && (
          <a class="button primary" href={href({ name: "new" })}>
            Add connection
          </a>
        )}
      </div>
      <div class="filters" role="search" aria-label="Filter connections">
        <label>
          <span>Search</span>
          <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="tag or name" />
        </label>
        <label>
          <span>Provider</span>
          <select value={provider} onChange={(e) => setProvider(e.currentTarget.value)}>
            <option value="">All</option>
            {providers.map((p) => (
              <option value={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">All</option>
            <option value="pending">pending</option>
            <option value="active">active</option>
            <option value="failed">failed</option>
          </select>
        </label>
      </div>
      <p class="count" aria-live="polite">
        {store.loading ? "Loading…" : `${rows.length} of ${store.connections.size} connections`}
      </p>
      <div class="conn-scroll" ref={scroller} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <ul class="conn-list" aria-labelledby="cloud-heading" style={{ height: `${rows.length * ROW}px` }}>
          {rows.slice(first, last).map((c, i) => (
            <li key={c.tag} class="conn-row" style={{ top: `${(first + i) * ROW}px` }}>
              <a href={href({ name: "connection", tag: c.tag })} aria-current={c.tag === selected ? "page" : undefined} data-tag={c.tag}>
                <span class="conn-main">
                  <span class="conn-tag">{c.tag}</span>
                  <span class="conn-provider">{c.provider}</span>
                </span>
                <StatusBadge status={c.status} />
              </a>
            </li>
          ))}
        </ul>
      </div>
    </nav>
  );
}
