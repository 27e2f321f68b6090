// The Workbench in a real browser (Debian's Chromium through playwright-core)
// against a real `cloudconn-server --dev` (see helpers.mjs for what
// scripts/test.sh sets): the seed's flow, errors, phone size and dark mode.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CloudConn } from "@cloudconn/sdk";
import { API, PAGE, ROLE, SHOTS, T, TOKEN, addConnection as add, axe, browser, open as openTab } from "./helpers.mjs";

/**
 * The header's "next check": a relative time, the exact UTC time on hover,
 * one re-validation interval (± 10 %) from now. The server gets this
 * environment from scripts/test.sh; its default interval is a day.
 */
async function assertNextCheck(page) {
  const interval = Number(process.env.CLOUDCONN_REVALIDATE_INTERVAL_MS ?? 86_400_000);
  const next = page.getByTestId("next-check").locator("time");
  if (interval === 0) {
    assert.equal(await next.count(), 0, "re-validation is off: no next check");
    return;
  }
  await next.waitFor({ timeout: T });
  assert.match((await page.locator(".conn-header .meta").textContent()) ?? "", /next check (in \d+ \w+|tomorrow|now)/);
  const exact = (await next.getAttribute("title")) ?? "";
  assert.match(exact, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/, "the exact time on hover");
  const ahead = Date.parse(exact.replace(" UTC", "Z").replace(" ", "T")) - Date.now();
  const slack = 60_000;
  assert.ok(ahead >= interval * 0.9 - slack && ahead <= interval * 1.1 + slack, `next check ${exact} is an interval (${interval} ms ± 10 %) away`);
}

const open = (workspace, viewport, colorScheme) => openTab(workspace, { viewport, colorScheme });
// These tests check what happens right after Create (field errors), so they do not wait for the page.
const addConnection = (page, options) => add(page, { ...options, wait: false });

describe("Workbench", () => {
  test("without a token it asks for one", async () => {
    const context = await (await browser()).newContext();
    const page = await context.newPage();
    await page.goto(`${PAGE}/?api=${encodeURIComponent(API)}`);
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await page.getByLabel("Token").waitFor();
    await page.getByLabel("Token").fill(TOKEN);
    await page.getByRole("button", { name: "Open" }).click();
    await page.getByText("● live").waitFor({ timeout: T });
    await context.close();
  });

  test("the AWS seed flow: add → complete → Re-validate → ACTIVE live → rename → remove", async () => {
    const { page, context, errors } = await open("seed_flow");
    // the tag is checked as you type
    await page.getByRole("link", { name: "Add connection" }).click();
    await page.getByLabel("Tag", { exact: true }).fill("prod-aws");
    await page.getByText("Only lower-case letters, digits and _.").waitFor();
    await page.getByLabel("Tag", { exact: true }).fill("prod_aws");
    assert.equal(await page.getByText("Only lower-case letters, digits and _.").count(), 0);
    await page.getByRole("checkbox", { name: "storage" }).check();
    await page.getByRole("checkbox", { name: "database" }).check();
    await page.screenshot({ path: `${SHOTS}add-connection.png` });
    await axe(page, "Add connection");
    await page.getByRole("button", { name: "Create connection" }).click();

    // the Setup tab while pending: keyless chosen, so what the role must trust, and no external id
    await page.getByRole("heading", { name: "prod_aws", level: 1 }).waitFor({ timeout: T });
    await page.getByRole("tab", { name: "Setup", selected: true }).waitFor();
    await page.getByTestId("keyless-trust").waitFor();
    assert.equal(await page.getByTestId("external-id").count(), 0);
    const row = page.locator('.conn-row a[data-tag="prod_aws"]');
    await row.getByText("pending").waitFor();

    // complete (without validating), then Re-validate from the header
    await page.getByLabel("role_arn").fill(ROLE);
    await page.getByRole("checkbox", { name: "Validate after saving" }).uncheck();
    await page.getByRole("button", { name: "Save credentials" }).click();
    await page.getByText("Saved as revision 1.").waitFor({ timeout: T });
    await page.getByRole("button", { name: "Re-validate" }).click();
    // ACTIVE arrives through watch() (Re-validate returns at once, state queued)
    await page.locator(".conn-header .badge-active").waitFor({ timeout: T });
    await row.getByText("active").waitFor();
    await page.getByRole("tab", { name: "Validation" }).click();
    await page.getByTestId("validation-state").getByText("succeeded").waitFor();
    await page.getByRole("rowheader", { name: "storage" }).waitFor();
    await page.getByText("123456789012").first().waitFor();
    // what started it, and when the server's schedule checks it again
    await page.getByTestId("validation-trigger").getByText("manual").waitFor();
    await assertNextCheck(page);
    await page.screenshot({ path: `${SHOTS}connection.png` });
    await axe(page, "Validation tab");

    // rename in Settings
    await page.getByRole("tab", { name: "Settings" }).click();
    await page.getByLabel("Display name").fill("Production AWS");
    await page.getByRole("button", { name: "Save settings" }).click();
    try {
      await page.getByRole("heading", { name: "Production AWS", level: 1 }).waitFor({ timeout: T });
    } catch (e) {
      await page.screenshot({ path: `${SHOTS}rename-failed.png` });
      console.log(await page.locator("main").innerText());
      throw e;
    }
    await page.getByLabel("role_arn").waitFor(); // Settings → Credentials once active
    await page.screenshot({ path: `${SHOTS}settings.png` });
    await axe(page, "Connection page (Settings)");

    // Remove asks to type the tag
    await page.getByRole("button", { name: "Remove" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const confirm = dialog.getByRole("button", { name: "Remove connection" });
    assert.equal(await confirm.isDisabled(), true);
    await dialog.getByLabel("Type prod_aws to confirm").fill("prod_aw");
    assert.equal(await confirm.isDisabled(), true);
    await dialog.getByLabel("Type prod_aws to confirm").fill("prod_aws");
    await confirm.click();
    await page.getByRole("heading", { name: "Cloud connections" }).waitFor({ timeout: T });
    await row.waitFor({ state: "detached", timeout: T });
    assert.deepEqual(errors, []);
    await context.close();
  });

  // The page fetches the connection it opens; that answer can leave the
  // server before another client deletes the connection and reach the page
  // after the watch's `deleted` event. It must not bring the connection back.
  // The test holds the page's GetConnection answer (fetched from the server
  // while the connection existed) until the removal is on screen.
  test("a removal elsewhere is not undone by an answer that left the server before it", async () => {
    const sdk = new CloudConn({ address: API, token: TOKEN, workspace: "late_answer" });
    await sdk.cloud.connections.create({ provider: "aws", name: "late_aws", scopes: ["storage"] });
    const { page, context, errors } = await open("late_answer");
    let answered, release;
    const fetched = new Promise((r) => (answered = r));
    const held = new Promise((r) => (release = r));
    await page.route("**/cloudconn.v1.ConnectionService/GetConnection", async (route) => {
      const response = await route.fetch();
      answered();
      await held;
      await route.fulfill({ response });
    });
    await page.locator('.conn-row a[data-tag="late_aws"]').click();
    await page.getByRole("heading", { name: "late_aws", level: 1 }).waitFor();
    await fetched; // the server has answered: the connection existed then
    await sdk.cloud.connections.delete("late_aws");
    await page.getByRole("heading", { name: "late_aws was removed" }).waitFor({ timeout: T });
    const landed = page.waitForEvent("requestfinished", (r) => r.url().endsWith("/GetConnection"));
    release();
    await landed;
    await page.waitForTimeout(500); // the SDK decodes the answer and the page renders
    assert.ok(await page.getByRole("heading", { name: "late_aws was removed" }).isVisible(), "the removal is still shown");
    assert.equal(await page.locator('.conn-row a[data-tag="late_aws"]').count(), 0, "and the list does not bring it back");
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("a failed validation shows its error and hint (sandbox-denied)", async () => {
    const { page, context } = await open("denied");
    await addConnection(page, { tag: "denied_aws", scopes: ["storage"] });
    await page.getByRole("tab", { name: "Setup", selected: true }).waitFor({ timeout: T });
    await page.getByLabel("role_arn").fill("arn:aws:iam::123456789012:role/sandbox-denied");
    await page.getByRole("button", { name: "Save credentials" }).click(); // validate after saving: on by default
    await page.locator(".conn-header .badge-failed").waitFor({ timeout: T });
    await page.getByText("ACCESS_DENIED").first().waitFor();
    const hint = page.locator(".vhint").first();
    await hint.waitFor();
    await page.getByTestId("validation-trigger").getByText("on save").waitFor();
    assert.equal(await page.getByTestId("next-check").count(), 0, "a failed connection is not scheduled");
    assert.ok(((await hint.textContent()) ?? "").length > "How to fix: ".length + 10, "a hint is shown");
    // the secret-free form was cleared and keeps the saved value as its default
    assert.match(await page.getByLabel("role_arn").inputValue(), /sandbox-denied/);
    await axe(page, "Failed connection");
    await context.close();
  });

  test("server field errors are shown on their fields", async () => {
    const { page, context } = await open("field_errors");
    // display_name over 128 characters: only the server checks it
    await addConnection(page, { tag: "long_name", displayName: "x".repeat(129) });
    const dn = page.getByLabel("Display name (optional)");
    await page.locator("#new-display-name-error").waitFor({ timeout: T });
    assert.equal(await dn.getAttribute("aria-invalid"), "true");
    // no scope: the server names `scopes`
    await dn.fill("");
    await page.getByRole("checkbox", { name: "storage" }).uncheck();
    await page.getByRole("button", { name: "Create connection" }).click();
    await page.locator("#new-scopes-error").waitFor({ timeout: T });
    // a taken tag is shown on the tag
    await page.getByRole("checkbox", { name: "storage" }).check();
    await page.getByRole("button", { name: "Create connection" }).click();
    await page.getByRole("heading", { name: "long_name", level: 1 }).waitFor({ timeout: T });
    await addConnection(page, { tag: "long_name" });
    await page.locator("#new-tag-error").waitFor({ timeout: T });
    // a malformed role ARN on complete lands on role_arn
    await page.locator('.conn-row a[data-tag="long_name"]').click();
    await page.getByLabel("role_arn").fill("arn:aws:iam::12:role/x");
    await page.getByRole("button", { name: "Save credentials" }).click();
    await page.locator("#cred-role_arn-error").waitFor({ timeout: T });
    await context.close();
  });

  test("phone size and dark mode render the connection page", async () => {
    const { page, context } = await open("phone", { width: 390, height: 844 }, "dark");
    await addConnection(page, { tag: "phone_aws" });
    await page.getByRole("heading", { name: "phone_aws", level: 1 }).waitFor({ timeout: T });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scroll at 390 px (scrollWidth ${width})`);
    await page.screenshot({ path: `${SHOTS}phone-dark.png`, fullPage: true });
    await axe(page, "Phone, dark");
    await context.close();
  });
});
