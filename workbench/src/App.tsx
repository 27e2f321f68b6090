// The shell: token (or a form asking for one), the workspace field, the
// sidebar and the routed main panel. One Store per (token, workspace).
import { CloudConn } from "@cloudconn/sdk/browser";
import { useEffect, useMemo, useState } from "preact/hooks";
import { useRoute } from "./route";
import { apiAddress, arrive, forgetToken, loadWorkspace, saveToken, saveWorkspace, takeLinkToken, tokenInfo, WORKSPACE_PATTERN, WRITE_SCOPE, type Session, type TokenInfo } from "./session";
import { Store, useStore } from "./store";
import { AddConnection } from "./ui/AddConnection";
import { ConnectionPage } from "./ui/ConnectionPage";
import { Sidebar } from "./ui/Sidebar";
import { SwitchToken } from "./ui/SwitchToken";

/** The performance mark set once the first screen is usable. */
export const INTERACTIVE_MARK = "cloudconn:interactive";

export function App() {
  const [session, setSession] = useState<Session>(() => arrive(takeLinkToken()));
  const [workspace, setWorkspace] = useState(loadWorkspace);
  // A link followed in this tab while the page is open changes only the hash.
  useEffect(() => {
    const onHash = () => {
      const fromLink = takeLinkToken();
      if (fromLink) setSession(arrive(fromLink));
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const use = (t: string | null) => {
    if (t) saveToken(t);
    else forgetToken();
    setSession({ token: t, offered: null });
  };
  const { token, offered } = session;
  if (offered) {
    return <SwitchToken current={token ? tokenInfo(token) : null} offered={tokenInfo(offered)} onSwitch={() => use(offered)} onKeep={() => setSession({ token, offered: null })} />;
  }
  if (!token) {
    return <TokenForm onToken={use} />;
  }
  return (
    <Workbench
      key={`${token}|${workspace}`}
      token={token}
      workspace={workspace}
      onWorkspace={(ws) => {
        saveWorkspace(ws);
        setWorkspace(ws);
      }}
      onSignOut={() => use(null)}
    />
  );
}

function Workbench(props: { token: string; workspace: string; onWorkspace: (ws: string) => void; onSignOut: () => void }) {
  const store = useMemo(
    () => new Store(new CloudConn({ address: apiAddress(), token: props.token, workspace: props.workspace, transport: "grpc-web" }), tokenInfo(props.token)),
    [props.token, props.workspace],
  );
  useEffect(() => {
    store.start();
    return () => store.stop();
  }, [store]);
  useStore(store);
  // "Interactive": the first list and the catalogue are in and rendered (the
  // effect runs after the commit), so the list, the filters and Add
  // connection all work. The browser tests read this mark to measure the
  // time to interactive from navigation start.
  useEffect(() => {
    if (!store.loading && performance.getEntriesByName(INTERACTIVE_MARK).length === 0) performance.mark(INTERACTIVE_MARK);
  }, [store.loading]);
  const route = useRoute();
  const selected = route.name === "connection" ? route.tag : undefined;
  return (
    <div class={`shell${route.name === "home" ? " at-home" : ""}`}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="#/">
          cloudconn <span>Workbench</span>
        </a>
        <WorkspaceField workspace={props.workspace} onWorkspace={props.onWorkspace} />
        <TokenScopes token={store.token} />
        <span class={`live live-${store.live}`} role="status" title="Live updates">
          {store.live === "live" ? "● live" : store.live === "connecting" ? "○ connecting" : "○ offline"}
        </span>
        <button type="button" class="link" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <div class="banners">
        {!store.canWrite && (
          <p class="notice banner readonly" data-testid="read-only">
            Read-only: this token lacks {WRITE_SCOPE}, so adding, saving, re-validating and removing are not offered. Sign out and use a token with it to make changes.
          </p>
        )}
        {store.error && (
          <p class="error banner" role="alert">
            {store.error.reason === "UNAUTHENTICATED" ? "The token was refused: sign out and paste a valid one. " : ""}
            {store.error.message}
          </p>
        )}
      </div>
      <Sidebar store={store} selected={selected} />
      <main id="main" tabIndex={-1}>
        {route.name === "new" && <AddConnection store={store} />}
        {route.name === "connection" && <ConnectionPage key={route.tag} store={store} tag={route.tag} tab={route.tab} />}
        {route.name === "home" && (
          <section class="panel empty">
            <h1>Cloud connections</h1>
            <p>Pick a connection on the left{store.canWrite ? ", or add one" : ""}. A connection links workspace “{props.workspace}” to a cloud provider account; its tag is what components name.</p>
          </section>
        )}
      </main>
    </div>
  );
}

/** Which scopes the token has (read from it, for display; the server enforces them). */
function TokenScopes({ token }: { token: TokenInfo }) {
  const scopes = token.scopes === null ? "unknown (not a readable JWT)" : token.scopes.join(" ") || "none";
  return (
    <span class="token-info" data-testid="token-scopes">
      Token{token.subject ? ` ${token.subject}` : ""}: <span class="scopes-list">{scopes}</span>
      {!token.canWrite && <strong class="ro-badge"> read-only</strong>}
    </span>
  );
}

function WorkspaceField({ workspace, onWorkspace }: { workspace: string; onWorkspace: (ws: string) => void }) {
  const [value, setValue] = useState(workspace);
  const ok = WORKSPACE_PATTERN.test(value);
  return (
    <form
      class="workspace"
      onSubmit={(e) => {
        e.preventDefault();
        if (ok && value !== workspace) onWorkspace(value);
      }}
    >
      <label for="workspace">Workspace</label>
      <input id="workspace" value={value} aria-invalid={!ok || undefined} onInput={(e) => setValue(e.currentTarget.value)} onBlur={() => ok && value !== workspace && onWorkspace(value)} spellcheck={false} autoComplete="off" />
    </form>
  );
}

function TokenForm({ onToken }: { onToken: (t: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <main class="token-page">
      <form
        class="panel"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onToken(value.trim());
        }}
      >
        <h1>cloudconn Workbench</h1>
        <p>Paste an API token with connections:read (and connections:write to change anything). It is kept in this tab only.</p>
        <div class="field">
          <label for="token">Token</label>
          <input id="token" type="password" autoComplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            Open
          </button>
        </div>
      </form>
    </main>
  );
}
