// A token with connections:read only (signed here with the dev server's
// key): the page says so, names the token's scopes, and offers no control
// the server would refuse; reading (list, setup kit, validation, activity)
// works as for anyone.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CloudConn } from "@cloudconn/sdk";
import { API, ROLE, SHOTS, T, TOKEN, axe, devToken, open } from "./helpers.mjs";

describe("Workbench read-only", () => {
  test("a token without connections:write sees read-only UI", async () => {
    const ws = "readonly";
    const reader = devToken({ sub: "viewer", workspaces: ["*"], scope: "connections:read" });
    // set up with the dev (write) token; the reader really cannot write
    const writer = new CloudConn({ address: API, token: TOKEN, workspace: ws });
    await writer.cloud.connections.create({ provider: "aws", name: "ro_pending", scopes: ["storage"] });
    await writer.cloud.connections.create({ provider: "aws", name: "ro_active", scopes: ["storage"], display_name: "Active one" });
    await writer.cloud.connections.complete("ro_active", { role_arn: ROLE });
    assert.equal((await writer.cloud.connections.validate("ro_active")).state, "succeeded");
    const sdk = new CloudConn({ address: API, token: reader, workspace: ws });
    assert.equal((await sdk.cloud.connections.list()).length, 2);
    await assert.rejects(sdk.cloud.connections.delete("ro_pending"), (e) => e.reason === "PERMISSION_DENIED");

    const { page, context, errors } = await open(ws, { token: reader });
    // it says which scopes the token has, and what that means
    assert.match((await page.getByTestId("token-scopes").textContent()) ?? "", /Token viewer: connections:read\s*read-only/);
    await page.getByTestId("read-only").getByText("lacks connections:write").waitFor();
    await page.getByText("2 of 2 connections").waitFor({ timeout: T });
    assert.equal(await page.getByRole("link", { name: "Add connection" }).count(), 0);

    // a pending connection: the setup kit is there (reading), the form is not
    await page.locator('.conn-row a[data-tag="ro_pending"]').click();
    await page.getByRole("heading", { name: "ro_pending", level: 1 }).waitFor();
    await page.getByRole("tab", { name: "Setup", selected: true }).waitFor();
    // the keyless kit first; a reader may switch kits too (choosing what to read changes nothing)
    await page.getByRole("heading", { name: "Setup kit (2 steps)" }).waitFor({ timeout: T });
    await page.getByRole("radio", { name: /^Role with external id/ }).check();
    await page.getByRole("heading", { name: "Setup kit (4 steps)" }).waitFor({ timeout: T });
    await page.getByTestId("needs-write").getByText("Saving credentials needs a token with connections:write").waitFor();
    await page.getByText("No credentials saved yet.").waitFor();
    for (const name of ["Re-validate", "Remove", "Save credentials"]) {
      assert.equal(await page.getByRole("button", { name }).count(), 0, `no ${name} button`);
    }
    assert.equal(await page.getByLabel("role_arn").count(), 0);
    await page.screenshot({ path: `${SHOTS}read-only.png` });
    await axe(page, "Read-only Setup tab");

    // an active one: Settings and Credentials as text, Validation and Activity as for anyone
    await page.locator('.conn-row a[data-tag="ro_active"]').click();
    await page.getByRole("heading", { name: "Active one", level: 1 }).waitFor();
    const settings = page.getByRole("definition").filter({ hasText: "Active one" });
    await settings.waitFor();
    assert.equal(await page.getByRole("button", { name: "Save settings" }).count(), 0);
    assert.equal(await page.locator("main").locator("input, textarea, select").count(), 0, "no form controls");
    await page.getByText(ROLE).waitFor(); // the saved role ARN, as text
    await page.getByRole("tab", { name: "Validation" }).click();
    await page.getByTestId("validation-state").getByText("succeeded").waitFor();
    await page.getByRole("tab", { name: "Activity" }).click();
    await page.getByText("That is the whole trail: 3 events.").waitFor({ timeout: T });

    // Add connection by its address: explained, no form
    await page.goto(`${page.url().split("#")[0]}#/new`);
    await page.getByTestId("needs-write").getByText("Adding a connection needs a token with connections:write").waitFor();
    assert.equal(await page.getByRole("button", { name: "Create connection" }).count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
