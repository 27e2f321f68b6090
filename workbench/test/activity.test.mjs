// The Activity tab: the connection's consumers (who was issued credentials,
// when), and its audit trail, newest first, following changes made
// elsewhere live, with "Load more" for older pages.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CloudConn } from "@cloudconn/sdk";
import { API, ROLE, SHOTS, T, TOKEN, addConnection, axe, open } from "./helpers.mjs";

const rows = (page) => page.getByTestId("activity").locator("tbody tr");
/** Each row's action and actor, top to bottom. */
const trail = async (page) => (await rows(page).evaluateAll((trs) => trs.map((tr) => `${tr.cells[1]?.textContent} by ${tr.cells[2]?.textContent}`)));

describe("Workbench activity", () => {
  test("the audit trail: newest first, live, and Load more", async () => {
    const ws = "activity";
    const sdk = new CloudConn({ address: API, token: TOKEN, workspace: ws });
    const { page, context, errors } = await open(ws);
    await addConnection(page, { tag: "audited_aws" });
    await addConnection(page, { tag: "other_aws" }); // its events must not show
    await page.locator('.conn-row a[data-tag="audited_aws"]').click();
    await page.getByRole("heading", { name: "audited_aws", level: 1 }).waitFor();
    // A role of its own: a keyless sandbox role trusts the first connection it sees.
    await page.getByLabel("role_arn").fill(ROLE.replace("DuctapeAccess", "Audited"));
    await page.getByRole("button", { name: "Save credentials" }).click();
    await page.locator(".conn-header .badge-active").waitFor({ timeout: T });

    await page.getByRole("tab", { name: "Activity" }).click();
    await page.getByTestId("activity").waitFor({ timeout: T });
    assert.deepEqual(await trail(page), ["Credentials saved by dev", "Created by dev"]);
    assert.match((await rows(page).first().textContent()) ?? "", /fields role_arn, kind; revision 1/);
    await page.getByText("That is the whole trail: 2 events.").waitFor();

    // a change made by another client shows up on top, without reloading
    await sdk.cloud.connections.update("audited_aws", { description: "changed elsewhere" });
    await page.getByText("Settings changed").waitFor({ timeout: T });
    assert.deepEqual(await trail(page), ["Settings changed by dev", "Credentials saved by dev", "Created by dev"]);
    await page.screenshot({ path: `${SHOTS}activity.png` });
    await axe(page, "Activity tab");

    // more than a page (20): Load more brings the older ones, then says it is all
    for (let i = 0; i < 22; i++) await sdk.cloud.connections.update("audited_aws", { display_name: `Name ${i}` });
    await page.getByRole("heading", { name: "Name 21", level: 1 }).waitFor({ timeout: T });
    await page.reload();
    await page.getByTestId("activity").waitFor({ timeout: T });
    assert.equal(await rows(page).count(), 20);
    await page.getByRole("button", { name: "Load more" }).click();
    await page.getByText("That is the whole trail: 25 events.").waitFor({ timeout: T });
    assert.equal(await rows(page).count(), 25);
    assert.deepEqual((await trail(page)).slice(-2), ["Credentials saved by dev", "Created by dev"]);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "That is the whole trail: 25 events.");
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("the consumers: none yet, then each component issued credentials, most recent first", async () => {
    const ws = "consumers";
    const tag = "used_aws";
    const sdk = new CloudConn({ address: API, token: TOKEN, workspace: ws });
    await sdk.cloud.connections.create({ provider: "aws", name: tag, scopes: ["storage"] });
    await sdk.cloud.connections.complete(tag, { role_arn: ROLE });
    assert.equal((await sdk.cloud.connections.validate(tag)).state, "succeeded");
    const { page, context, errors } = await open(ws);
    await page.locator(`.conn-row a[data-tag="${tag}"]`).click();
    await page.getByRole("tab", { name: "Activity" }).click();
    await page.getByRole("heading", { name: "Consumers", level: 2 }).waitFor();
    assert.equal(await page.getByTestId("no-consumers").textContent({ timeout: T }), "No component has issued credentials yet.");
    await axe(page, "Activity tab without consumers");

    // Issuing sends no watch event: Refresh (or coming back to the page) fetches them.
    await sdk.cloud.credentials.issue(tag, { scope: "storage", consumer: "billing-api/prd" });
    await page.getByRole("button", { name: "Refresh the consumers" }).click();
    const table = page.getByTestId("consumers");
    await table.waitFor({ timeout: T });
    const when = /^just now \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$/;
    const cells = () => table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    const first = await cells();
    assert.equal(first.length, 1);
    assert.equal(first[0][0], "billing-api/prd");
    assert.match(first[0][1], when);
    assert.match((await page.getByTestId("last-used").textContent()) ?? "", /^Last used just now \(.+ UTC\)$/);
    assert.equal(await page.getByTestId("no-consumers").count(), 0);

    // a second component, after a reload: the most recent on top; the trail shows each issue
    await sdk.cloud.credentials.issue(tag, { scope: "storage", consumer: "reports/stg" });
    await page.reload();
    await table.waitFor({ timeout: T });
    assert.deepEqual((await cells()).map((r) => r[0]), ["reports/stg", "billing-api/prd"]);
    await page.getByTestId("activity").waitFor({ timeout: T });
    assert.deepEqual((await trail(page)).slice(0, 2), ["Credentials issued by dev", "Credentials issued by dev"]);
    const details = (await rows(page).first().textContent()) ?? "";
    assert.ok(details.includes("consumer reports/stg") && details.includes("scope storage"), details);
    await page.screenshot({ path: `${SHOTS}consumers.png` });
    await axe(page, "Activity tab with consumers");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
