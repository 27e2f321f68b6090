// The connection's consumers (the run step, docs/run.md): the components
// that were issued credentials for it in the last 30 days, most recent
// first, each with when it last was. The store's copies lack them (`list`
// and watch events carry none), and issuing sends no watch event (the
// server publishes lifecycle changes only), so this fetches the connection
// itself: when the tab opens, when the connection changes, when the page
// becomes visible or the window is focused again, and on Refresh.
import type { Connection } from "@cloudconn/sdk/browser";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { showError, type ShownError } from "../errors";
import { ago, time } from "../format";
import type { Store } from "../store";

/** How often the relative times ("5 minutes ago") are redrawn; no call is made. */
const REDRAW_MS = 30_000;

function When({ d }: { d?: Date }) {
  return (
    <>
      <time dateTime={d?.toISOString()}>{ago(d)}</time> <span class="abs">({time(d)})</span>
    </>
  );
}

export function ConsumersView({ store, conn }: { store: Store; conn: Connection }) {
  const [fetched, setFetched] = useState<Connection | null>(null);
  const [err, setErr] = useState<ShownError | null>(null);
  const [, redraw] = useState(0);
  const latest = useRef(0); // only the last call's answer is shown

  const load = useCallback(async () => {
    const call = ++latest.current;
    try {
      const c = await store.client.cloud.connections.fetch(conn.tag);
      if (call !== latest.current) return;
      setFetched(c);
      setErr(null);
    } catch (x) {
      if (call === latest.current) setErr(showError(x));
    }
  }, [store, conn.tag]);

  useEffect(() => {
    void load();
  }, [load, conn.etag]);
  useEffect(() => {
    const again = () => {
      if (document.visibilityState === "visible") void load();
    };
    document.addEventListener("visibilitychange", again);
    window.addEventListener("focus", again);
    const timer = window.setInterval(() => redraw((n) => n + 1), REDRAW_MS);
    return () => {
      document.removeEventListener("visibilitychange", again);
      window.removeEventListener("focus", again);
      window.clearInterval(timer);
    };
  }, [load]);
  useEffect(
    () => () => {
      latest.current++; // unmounted: drop any answer still on its way
    },
    [],
  );

  const consumers = fetched?.consumers ?? [];
  return (
    <section class="consumers" aria-labelledby="consumers-heading">
      <div class="section-head">
        <h2 id="consumers-heading">Consumers</h2>
        {/* Never disabled: a focused button that is disabled loses the focus. */}
        <button type="button" onClick={() => void load()}>
          Refresh<span class="sr-only"> the consumers</span>
        </button>
      </div>
      {err && (
        <p class="error banner" role="alert">
          The consumers could not be loaded: {err.message}
        </p>
      )}
      {!fetched && !err && <p>Loading the consumers…</p>}
      {fetched && consumers.length === 0 && (
        <>
          <p data-testid="no-consumers">No component has issued credentials yet.</p>
          <p class="hint">
            Components get short-lived credentials for an active connection with <code>credentials.issue</code> (the SDKs) or <code>cloudconn credentials issue</code>; each
            shows here for 30 days after its last use.
          </p>
        </>
      )}
      {fetched && consumers.length > 0 && (
        <>
          <p data-testid="last-used">
            Last used <When d={fetched.lastUsedTime} />
          </p>
          <div class="table-scroll" tabIndex={0} role="region" aria-labelledby="consumers-caption">
            <table data-testid="consumers">
              <caption id="consumers-caption">Components issued credentials for {conn.tag} in the last 30 days, most recent first</caption>
              <thead>
                <tr>
                  <th scope="col">Consumer</th>
                  <th scope="col">Last used</th>
                </tr>
              </thead>
              <tbody>
                {consumers.map((c) => (
                  <tr key={c.consumer}>
                    <th scope="row">
                      <code>{c.consumer}</code>
                    </th>
                    <td>
                      <When d={c.lastUsedTime} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
