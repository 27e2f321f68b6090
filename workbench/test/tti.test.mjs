// Time to interactive: from navigation start to the first screen usable
// (the connection list rendered, the catalogue loaded so Add connection
// works), on the page the dev server serves. The page sets a performance mark
// then (App.tsx, INTERACTIVE_MARK); each load is a fresh browser context
// (empty cache), as a first visit. The issue asks for 1 s; the assertion is
// a generous 3 s on the median of five loads, so a busy shared machine does
// not make it flaky while a page that got slow still fails it.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CloudConn } from "@cloudconn/sdk";
import { API, T, TOKEN, browser, pageUrl } from "./helpers.mjs";

const WS = "tti";
const CONNECTIONS = 25; // a first screen with a realistic list
const LOADS = 5;
const BOUND_MS = 3000;

before(async () => {
  const sdk = new CloudConn({ address: API, token: TOKEN, workspace: WS });
  for (let i = 0; i < CONNECTIONS; i++) {
    await sdk.cloud.connections.create({ provider: i % 2 ? "aws" : "azure", name: `tti_${String(i).padStart(2, "0")}`, scopes: ["storage"] });
  }
});

describe("Workbench time to interactive", () => {
  test(`the first screen is usable within ${BOUND_MS} ms of navigation start (median of ${LOADS} cold loads)`, async () => {
    const runs = [];
    for (let n = 0; n < LOADS; n++) {
      const context = await (await browser()).newContext({ viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(T);
      await context.addInitScript((ws) => sessionStorage.setItem("cloudconn.workspace", ws), WS);
      const page = await context.newPage();
      await page.goto(pageUrl()); // the link `--dev` prints: the token in the fragment
      await page.getByText(`${CONNECTIONS} of ${CONNECTIONS} connections`).waitFor();
      const add = page.getByRole("link", { name: "Add connection" });
      await add.waitFor();
      const m = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0];
        return {
          interactive: Math.round(performance.getEntriesByName("cloudconn:interactive")[0]?.startTime ?? NaN),
          domContentLoaded: Math.round(nav?.domContentLoadedEventEnd ?? NaN),
          load: Math.round(nav?.loadEventEnd ?? NaN),
        };
      });
      assert.ok(Number.isFinite(m.interactive), "the page set its interactive mark");
      // and it is usable: Add connection opens the form with the catalogue in it
      await add.click();
      assert.equal(await page.getByRole("button", { name: "Create connection" }).isEnabled(), true);
      await page.getByRole("radio", { name: "Amazon Web Services" }).waitFor();
      runs.push(m);
      await context.close();
    }
    const sorted = runs.map((r) => r.interactive).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(
      `# time to interactive (navigation start → list and catalogue rendered), ${CONNECTIONS} connections, ${LOADS} cold loads: ` +
        `median ${median} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms; ` +
        `per load interactive/DOMContentLoaded/load: ${runs.map((r) => `${r.interactive}/${r.domContentLoaded}/${r.load}`).join(", ")} ms`,
    );
    assert.ok(median < BOUND_MS, `median time to interactive ${median} ms < ${BOUND_MS} ms`);
  });
});
