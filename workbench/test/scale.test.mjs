// A full workspace (the server's quota: 1,000 connections) stays responsive:
// the list is virtualised, filters apply at once; and changes made by another
// client arrive live (watch()).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CloudConn } from "@cloudconn/sdk";
import { chromium } from "playwright-core";

const PAGE = process.env.WB_PAGE ?? "http://127.0.0.1:50778";
const API = process.env.WB_API ?? "http://127.0.0.1:50777";
const TOKEN = process.env.WB_TOKEN ?? "";
const WS = "scale";
const N = 1000;

let browser;
let sdk;
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  sdk = new CloudConn({ address: API, token: TOKEN, workspace: WS });
  const providers = ["aws", "gcp", "azure"];
  const tags = Array.from({ length: N }, (_, i) => `c${String(i).padStart(4, "0")}`);
  for (let i = 0; i < tags.length; i += 50) {
    await Promise.all(
      tags.slice(i, i + 50).map((tag, j) =>
        sdk.cloud.connections.create({ provider: providers[(i + j) % 3], name: tag, scopes: ["storage"], request_id: `scale-${tag}` }),
      ),
    );
  }
});
after(async () => {
  await browser?.close();
});

describe("Workbench at scale", () => {
  test(`${N} connections: virtualised list, filters, live changes from another client`, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(`${PAGE}/?api=${encodeURIComponent(API)}#token=${TOKEN}`);
    await page.getByLabel("Workspace").fill(WS);
    await page.getByLabel("Workspace").press("Enter");
    const t0 = Date.now();
    await page.getByText(`${N} of ${N} connections`).waitFor({ timeout: 20_000 });
    const loadMs = Date.now() - t0;
    const rows = await page.locator(".conn-row").count();
    assert.ok(rows < 60, `only the visible rows are in the DOM (${rows})`);

    // scroll to the end: the last connection is there
    await page.locator(".conn-scroll").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator('.conn-row a[data-tag="c0999"]').waitFor();

    // filters apply at once
    const t1 = Date.now();
    await page.getByLabel("Provider").selectOption("gcp");
    await page.getByText(`333 of ${N} connections`).waitFor();
    await page.getByLabel("Search").fill("c099");
    await page.getByText(`3 of ${N} connections`).waitFor(); // c0991, c0994, c0997
    const filterMs = Date.now() - t1;
    await page.getByLabel("Search").fill("");
    await page.getByLabel("Provider").selectOption("");

    // another client completes one and validates it: the page follows live
    await page.getByLabel("Status").selectOption("active");
    await page.getByText(`0 of ${N} connections`).waitFor();
    await page.getByText("● live").waitFor();
    await sdk.cloud.connections.complete("c0000", { role_arn: "arn:aws:iam::123456789012:role/DuctapeAccess" }, { validate: true });
    await page.getByText(`1 of ${N} connections`).waitFor({ timeout: 20_000 });
    await page.locator('.conn-row a[data-tag="c0000"]').getByText("active").waitFor();
    // and a delete elsewhere removes it
    await sdk.cloud.connections.delete("c0000");
    await page.getByText(`0 of ${N - 1} connections`).waitFor({ timeout: 20_000 });
    // the open connection deleted elsewhere says so
    await page.getByLabel("Status").selectOption("");
    await page.locator('.conn-row a[data-tag="c0001"]').click();
    await page.getByRole("heading", { name: "c0001", level: 1 }).waitFor();
    await sdk.cloud.connections.delete("c0001");
    await page.getByRole("heading", { name: "c0001 was removed" }).waitFor({ timeout: 20_000 });
    console.log(`# ${N} connections listed in ${loadMs} ms; filters applied in ${filterMs} ms`);
    await context.close();
  });
});
