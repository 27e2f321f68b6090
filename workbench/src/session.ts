// Where the API is, the token and the workspace.
//
// - API address: the page's own origin (the server serves the Workbench on its
//   gRPC port). Dev override: `?api=http://127.0.0.1:50051` (the page served
//   from elsewhere, e.g. Vite or the tests' static server; that origin must be
//   in the server's CLOUDCONN_CORS_ORIGINS).
// - Token: `#token=<jwt>` is taken out of the address (history.replaceState),
//   so it is not kept in the address bar or this entry of the history. It is
//   used without asking only when the tab holds no token yet; a link whose
//   token differs from the tab's is only offered: the page shows who that
//   token is (subject, workspaces, scopes; never the token) and asks, so a
//   crafted link cannot silently sign the tab in as someone else (login
//   CSRF). Without any token the page asks for one.
// - Workspace: a header field, remembered in sessionStorage (default "default").

const TOKEN_KEY = "cloudconn.token";
const WORKSPACE_KEY = "cloudconn.workspace";
export const DEFAULT_WORKSPACE = "default";
export const WORKSPACE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The API's address: the page's origin, or the `?api=` dev override. The
 * override is honoured only when both the page and the API are on loopback, so
 * a crafted link can never send the token to another host.
 */
export function apiAddress(loc: Pick<Location, "search" | "origin" | "hostname"> = window.location): string {
  const api = new URLSearchParams(loc.search).get("api");
  if (api && /^https?:\/\/[^/]+\/?$/.test(api) && LOOPBACK.has(loc.hostname)) {
    const url = new URL(api);
    if (LOOPBACK.has(url.hostname)) return url.origin;
  }
  return loc.origin;
}

/** Takes a link's `#token=` out of the address and returns it, if there is one. */
export function takeLinkToken(): string | null {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const fromHash = params.get("token");
  if (!fromHash) return null;
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", window.location.pathname + window.location.search + (rest ? `#${rest}` : ""));
  return fromHash;
}

/** The tab's token, and a link's token waiting for the user's yes (never stored before it). */
export interface Session {
  token: string | null;
  offered: string | null;
}

/** What a link's token (if any) does to the tab's session: taken when the tab has none, else only offered. */
export function arrive(fromLink: string | null): Session {
  const stored = sessionStorage.getItem(TOKEN_KEY);
  if (fromLink && !stored) {
    sessionStorage.setItem(TOKEN_KEY, fromLink);
    return { token: fromLink, offered: null };
  }
  return { token: stored, offered: fromLink && fromLink !== stored ? fromLink : null };
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function loadWorkspace(): string {
  return sessionStorage.getItem(WORKSPACE_KEY) ?? DEFAULT_WORKSPACE;
}

export function saveWorkspace(ws: string): void {
  sessionStorage.setItem(WORKSPACE_KEY, ws);
}

/** What the token says about itself, for display only: the server decides. */
export interface TokenInfo {
  subject: string;
  /** The `scope` claim's words; null when the token cannot be read (not a JWT). */
  scopes: string[] | null;
  /** The `workspaces` claim (`["*"]`: every one); null when absent or unreadable. */
  workspaces: string[] | null;
  /** Whether to offer changes: the token names connections:write, or cannot be read (then the server answers). */
  canWrite: boolean;
}

export const WRITE_SCOPE = "connections:write";

/**
 * Reads a JWT's payload without verifying it (the page has no key, and
 * needs none: this only decides which controls to show; every call is
 * still authorised by the server).
 */
export function tokenInfo(token: string): TokenInfo {
  let claims: Record<string, unknown> = {};
  try {
    const payload = token.split(".")[1] ?? "";
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
    const parsed: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    if (typeof parsed === "object" && parsed !== null) claims = parsed as Record<string, unknown>;
  } catch {
    // not a JWT we can read: scopes unknown
  }
  const scope = claims["scope"];
  const scopes = typeof scope === "string" ? scope.split(/\s+/).filter(Boolean) : null;
  const ws = claims["workspaces"];
  const workspaces = Array.isArray(ws) ? ws.map(String) : null;
  const sub = claims["sub"];
  return { subject: typeof sub === "string" ? sub : "", scopes, workspaces, canWrite: scopes === null || scopes.includes(WRITE_SCOPE) };
}
