// The workspace's connections, kept current: one list() at start, then
// watch() events (reconnecting with backoff). Components subscribe with
// useStore(); every change bumps `version`.
import type { CloudConn, Connection, ProviderSpec } from "@cloudconn/sdk/browser";
import { useEffect, useState } from "preact/hooks";
import { showError, type ShownError } from "./errors";
import type { TokenInfo } from "./session";

export type Live = "connecting" | "live" | "offline";

/** How many deleted connections' uids the store remembers (see `remove`). */
const GONE_LIMIT = 10_000;

export class Store {
  readonly connections = new Map<string, Connection>();
  providers: ProviderSpec[] = [];
  loading = true;
  error: ShownError | null = null;
  live: Live = "connecting";
  version = 0;
  readonly #listeners = new Set<() => void>();
  readonly #abort = new AbortController();
  readonly #gone = new Set<string>();

  /** `token` decides which controls the page offers (read-only without connections:write). */
  constructor(
    readonly client: CloudConn,
    readonly token: TokenInfo,
  ) {}

  get canWrite(): boolean {
    return this.token.canWrite;
  }

  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(): void {
    this.version++;
    for (const fn of this.#listeners) fn();
  }

  /**
   * Keeps the newer of two copies (by update time); a copy without one wins.
   * A copy of a deleted connection never comes back: an answer that left
   * the server before the delete (a page's fetch, a reconnect's list) can
   * arrive after the watch's `deleted` event, and would otherwise show a
   * removed connection as if it still existed.
   */
  upsert(c: Connection): void {
    if (!this.#keep(c)) return;
    this.connections.set(c.tag, c);
    this.#changed();
  }

  #keep(c: Connection): boolean {
    if (this.#gone.has(c.uid)) return false;
    const old = this.connections.get(c.tag);
    return !(old?.updateTime && c.updateTime && c.updateTime < old.updateTime);
  }

  /** Removes a deleted connection and remembers its uid (a tag can be reused; a uid cannot). */
  remove(c: Connection): void {
    this.#gone.add(c.uid);
    if (this.#gone.size > GONE_LIMIT) this.#gone.delete(this.#gone.values().next().value!);
    const shown = this.connections.get(c.tag);
    if (shown && shown.uid === c.uid && this.connections.delete(c.tag)) this.#changed();
  }

  start(): void {
    void this.#watch();
    void this.#load();
  }

  stop(): void {
    this.#abort.abort();
  }

  async #load(): Promise<void> {
    try {
      const [list, providers] = await Promise.all([this.client.cloud.connections.list({ pageSize: 1000 }), this.client.providers()]);
      this.providers = providers;
      for (const c of list) if (this.#keep(c)) this.connections.set(c.tag, c);
      this.error = null;
    } catch (err) {
      this.error = showError(err);
    }
    this.loading = false;
    this.#changed();
  }

  async #watch(): Promise<void> {
    const signal = this.#abort.signal;
    let delay = 500;
    while (!signal.aborted) {
      try {
        for await (const e of this.client.cloud.connections.watch({
          signal,
          onReady: () => {
            this.live = "live";
            delay = 500;
            this.#changed();
          },
        })) {
          const c = e.connection;
          if (!c) continue;
          if (e.type.includes(".deleted.")) this.remove(c);
          else this.upsert(c);
        }
      } catch {
        // the stream broke: reconnect below
      }
      if (signal.aborted) return;
      this.live = "offline";
      this.#changed();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
      this.live = "connecting";
      this.#changed();
      // catch up on what changed while we were away
      void this.#load();
    }
  }
}

export function useStore(store: Store): number {
  const [version, setVersion] = useState(store.version);
  useEffect(() => store.subscribe(() => setVersion(store.version)), [store]);
  return version;
}
