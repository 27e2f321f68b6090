// When a credential expires, as the Validation tab shows it, from the real
// --dev server: its provider sandbox makes the Azure client secret
// `sandbox-expiring` end 14 days after the server started (within the
// default 30-day warning window, so the validation carries a warning), and
// any other secret two years on (recorded, no warning); docs/providers.md.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SHOTS, T, addConnection, axe, open } from "./helpers.mjs";

const DAY = 86_400_000;
const GUID = "0f8fad5b-d9cb-469f-a165-70867728950e";

/** An Azure connection saved with `secret` and validated (the form's default), on its Validation tab once ACTIVE. */
async function validatedAzure(page, tag, secret) {
  await addConnection(page, { tag, provider: "Microsoft Azure", scopes: ["storage"] });
  await page.getByRole("radio", { name: /^Client secret/ }).check();
  for (const field of ["tenant_id", "subscription_id", "client_id"]) await page.getByLabel(field).fill(GUID);
  await page.getByLabel(/^client_secret/).fill(secret);
  await page.getByRole("button", { name: "Save credentials" }).click();
  await page.locator(".conn-header .badge-active").waitFor({ timeout: T });
  await page.getByRole("tab", { name: "Validation" }).click();
  await page.getByTestId("validation-state").getByText("succeeded").waitFor({ timeout: T });
}

/** The notice's text and the time it names (its <time dateTime>, checked against the text). */
async function expiryNotice(page) {
  const notice = page.getByTestId("credential-expiry");
  await notice.waitFor();
  const text = ((await notice.textContent()) ?? "").trim();
  const iso = (await notice.locator("time").getAttribute("datetime")) ?? "";
  const at = new Date(iso);
  assert.ok(!Number.isNaN(at.getTime()), `a machine-readable time: ${iso}`);
  const shown = iso.replace("T", " ").replace(/\.\d+Z$/, " UTC");
  assert.ok(text.includes(shown), `the notice shows the UTC time ${shown}: ${text}`);
  return { text, at, shown };
}

describe("Workbench credential expiry", () => {
  test("an Azure secret expiring in 14 days: the date, how far off, and a warning that names the client secret", async () => {
    const { page, context, errors } = await open("expiry_soon");
    await validatedAzure(page, "soon_azure", "sandbox-expiring");

    const { text, at, shown } = await expiryNotice(page);
    // 14 days from the server's start, which was at most a few minutes ago:
    // 13 whole days and some hours left (the server's warning counts whole
    // days too, so both say the same number).
    const left = (at.getTime() - Date.now()) / DAY;
    assert.ok(left > 13 && left <= 14, `expires 14 days after the server started, not in ${left} days`);
    assert.match(text, /^Credential expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 1[34] days\)$/);

    // The warning: what expires, the same date (to the minute), what to do.
    const warnings = page.getByTestId("validation-warnings");
    const warning = warnings.getByRole("listitem").filter({ hasText: "expires on" });
    assert.equal(await warning.count(), 1, "one expiry warning");
    const said = ((await warning.textContent()) ?? "").trim();
    assert.ok(said.startsWith("Warning: The client secret expires on "), said);
    assert.ok(said.includes(`${shown.slice(0, 16)} UTC`), `the notice's date (${shown}) in: ${said}`);
    assert.match(said, /\(in 1[34] days\)/);
    assert.ok(said.includes("add a new client secret to the app registration and save it here"), said);
    // Where a user looks: on screen without scrolling, above the scope table.
    const box = await warnings.boundingBox();
    const table = await page.getByRole("table", { name: "Scopes" }).boundingBox();
    assert.ok(box && table && box.y + box.height <= 800 && box.y < table.y, `visible above the scopes: ${JSON.stringify({ box, table })}`);
    // The date is its own line, not repeated among the identity's raw keys.
    assert.equal(await page.locator(".identity").getByText("credential_expire_time").count(), 0);

    await page.screenshot({ path: `${SHOTS}validation-expiring.png` });
    await axe(page, "Validation tab with an expiry warning");
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("an ordinary Azure secret: its two-year end date, and no warning", async () => {
    const { page, context, errors } = await open("expiry_later");
    await validatedAzure(page, "later_azure", "a-good-secret");
    const { text, at } = await expiryNotice(page);
    const left = (at.getTime() - Date.now()) / DAY;
    assert.ok(left > 729 && left <= 730, `two years on, not in ${left} days`);
    assert.match(text, /\(in 2 years\)$/);
    // The sandbox's own warning ("Sandbox result: …") is on every --dev validation; none about expiry.
    const warnings = (await page.getByTestId("validation-warnings").getByRole("listitem").allTextContents()).join("\n");
    assert.ok(warnings.includes("Sandbox result") && !warnings.includes("expires"), `no expiry warning: ${warnings}`);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
