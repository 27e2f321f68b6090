// Shared by the browser tests. scripts/test.sh starts the servers and sets:
//   WB_PAGE   where the page is served (the server itself: the API's origin)
//   WB_API    the server's address
//   WB_TOKEN  the dev token (given as #token=, as `--dev` prints it)
//   WB_DATA   the server's --dev data directory (its HS256 key, auth.key)
//   WB_API_REAL, WB_TOKEN_REAL   a second --dev server with --providers real
//             (no AWS platform principal, so no AWS setup kit)
import assert from "node:assert/strict";
import { after } from "node:test";
import { createHmac } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

export const PAGE = process.env.WB_PAGE ?? "http://127.0.0.1:50777";
export const API = process.env.WB_API ?? PAGE;
export const TOKEN = process.env.WB_TOKEN ?? "";
export const ROLE = "arn:aws:iam::123456789012:role/DuctapeAccess";
/** How long a step that waits for the server (a validation, a live event) may take. */
export const T = 20_000;
// Screenshots of the main screens: into .test-results/screenshots/, or with
// WB_SCREENSHOTS=screenshots into the committed screenshots/ folder.
export const SHOTS = new URL(`../${process.env.WB_SCREENSHOTS ?? ".test-results/screenshots"}/`, import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

let shared;
/** Debian's Chromium, one per test file (node --test runs each file in its own process), closed after its tests. */
export function browser() {
  shared ??= chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  return shared;
}
after(async () => {
  if (shared) await (await shared).close();
});

/** The page's address with the token in the fragment, as `--dev` prints it (plus ?api= for a page served elsewhere). */
export function pageUrl({ api = API, token = TOKEN, page = api === API ? PAGE : api } = {}) {
  return `${page}/?api=${encodeURIComponent(api)}${token ? `#token=${token}` : ""}`;
}

/**
 * A fresh tab on the Workbench in its own workspace, once the watch is live.
 * `init` runs in the page before its own scripts (Playwright injects it past
 * the CSP).
 */
export async function open(workspace, options = {}) {
  const { viewport = { width: 1280, height: 800 }, colorScheme = "light", permissions = [], init, api, token } = options;
  const context = await (await browser()).newContext({ viewport, colorScheme, permissions });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  if (init) await page.addInitScript(init);
  await page.goto(pageUrl({ api, token }));
  // the token leaves the address bar at once
  await page.waitForFunction(() => !location.hash.includes("token="));
  if (workspace) {
    await page.getByLabel("Workspace").fill(workspace);
    await page.getByLabel("Workspace").press("Enter");
  }
  await page.getByText("● live").waitFor({ timeout: T });
  return { page, context, errors };
}

/** Cloud sidebar → Add connection → the form → Create; waits for the connection page. */
export async function addConnection(page, { tag, provider = "Amazon Web Services", scopes = ["storage"], displayName, wait = true }) {
  await page.getByRole("link", { name: "Add connection" }).click();
  await page.getByRole("heading", { name: "Add connection" }).waitFor();
  await page.getByRole("radio", { name: new RegExp(provider, "i") }).check();
  await page.getByLabel("Tag", { exact: true }).fill(tag);
  if (displayName !== undefined) await page.getByLabel("Display name (optional)").fill(displayName);
  for (const s of scopes) await page.getByRole("checkbox", { name: s }).check();
  await page.getByRole("button", { name: "Create connection" }).click();
  if (wait) await page.getByRole("heading", { name: tag, level: 1 }).waitFor({ timeout: T });
}

/** axe-core in the page: no serious or critical violation. */
export async function axe(page, what) {
  // Evaluated, not a <script> tag: the page's CSP (script-src 'self', as
  // the server sends it) rightly refuses inline scripts.
  await page.evaluate(readFileSync(AXE, "utf8"));
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `${what}: serious/critical axe violations: ${JSON.stringify(bad)}`);
  return result;
}

/**
 * A token signed with the --dev server's HS256 key (WB_DATA/auth.key: the
 * key is the file's text, as server/src/dev/auth.rs uses it), with the given
 * claims on top of a one-hour default.
 */
export function devToken(claims) {
  const dir = process.env.WB_DATA;
  if (!dir) throw new Error("WB_DATA is not set: run the tests through scripts/test.sh");
  const key = readFileSync(join(dir, "auth.key"), "utf8").trim();
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ iat: now, exp: now + 3600, ...claims })}`;
  return `${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
}
