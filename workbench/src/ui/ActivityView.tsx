// The Activity tab: the connection's audit trail (who did what, when),
// newest first, a page at a time with "Load more". It follows the
// connection live: each change seen through watch() (a new etag) fetches
// the first page again and puts the new events on top.
import type { AuditEvent, AuditPage, Connection } from "@cloudconn/sdk/browser";
import { useEffect, useRef, useState } from "preact/hooks";
import { showError, type ShownError } from "../errors";
import { time } from "../format";
import type { Store } from "../store";

const PAGE_SIZE = 20;

const ACTIONS: Record<string, string> = {
  CreateConnection: "Created",
  CompleteConnection: "Credentials saved",
  ValidateConnection: "Validation requested",
  UpdateConnection: "Settings changed",
  DeleteConnection: "Removed",
  IssueCredentials: "Credentials issued",
};

/** `{ revision: 2, fields: ["role_arn"] }` → "revision 2; fields role_arn". */
function describe(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(", ") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`)
    .join("; ");
}

/** The new events of `fresh` (the first page) on top of `shown`; null when they do not meet (more new events than a page). */
function merge(shown: AuditEvent[], fresh: AuditEvent[]): AuditEvent[] | null {
  const known = new Set(shown.map((e) => e.id));
  const newer: AuditEvent[] = [];
  for (const e of fresh) {
    if (known.has(e.id)) return [...newer, ...shown];
    newer.push(e);
  }
  return shown.length === 0 ? newer : null;
}

export function ActivityView({ store, conn }: { store: Store; conn: Connection }) {
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const shown = useRef<AuditEvent[]>([]); // what the effects below read (state would be stale in their closures)
  const [next, setNext] = useState("");
  const [loaded, setLoaded] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ShownError | null>(null);
  const end = useRef<HTMLParagraphElement>(null);
  const show = (list: AuditEvent[]) => {
    shown.current = list;
    setEvents(list);
  };
  const list = (pageToken = ""): Promise<AuditPage> => store.client.cloud.audit.list({ tag: conn.tag, pageSize: PAGE_SIZE, pageToken });

  useEffect(() => {
    let current = true;
    list().then(
      (page) => {
        if (!current) return;
        const merged = merge(shown.current, page.events);
        // A first load, or too much news to stitch on: start over from this page.
        if (merged === null || shown.current.length === 0) setNext(page.nextPageToken);
        show(merged ?? page.events);
        setErr(null);
        setLoaded(true);
      },
      (e) => current && setErr(showError(e)),
    );
    return () => {
      current = false;
    };
  }, [store, conn.tag, conn.etag]);

  const more = async () => {
    setBusy(true);
    try {
      const page = await list(next);
      const known = new Set(shown.current.map((e) => e.id));
      show([...shown.current, ...page.events.filter((e) => !known.has(e.id))]);
      setNext(page.nextPageToken);
      setErr(null);
      // The button goes away on the last page: keep the focus nearby.
      if (!page.nextPageToken) requestAnimationFrame(() => end.current?.focus());
    } catch (x) {
      setErr(showError(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="activity">
      <h2>Activity</h2>
      {err && (
        <p class="error banner" role="alert">
          The audit trail could not be loaded: {err.message}
        </p>
      )}
      {!loaded && !err && <p>Loading the audit trail…</p>}
      {loaded && (
        <div class="table-scroll" tabIndex={0} role="region" aria-labelledby="activity-caption">
          <table data-testid="activity">
            <caption id="activity-caption">Changes to {conn.tag}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Outcome</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id}>
                  <td>
                    <time dateTime={e.time?.toISOString()}>{time(e.time)}</time>
                  </td>
                  <th scope="row" title={e.action}>
                    {ACTIONS[e.action] ?? e.action}
                  </th>
                  <td>
                    <code>{e.actor}</code>
                  </td>
                  <td>{e.outcome}</td>
                  <td class="details">{describe(e.details)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {loaded && next && (
        <div class="actions">
          <button type="button" onClick={more} disabled={busy}>
            {busy ? "Loading…" : "Load more"}
          </button>
        </div>
      )}
      {loaded && !next && (
        <p class="hint" tabIndex={-1} ref={end}>
          {events.length === 0 ? "No changes recorded." : `That is the whole trail: ${events.length} event${events.length === 1 ? "" : "s"}.`}
        </p>
      )}
    </div>
  );
}
