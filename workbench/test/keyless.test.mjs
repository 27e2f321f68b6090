// Keyless connections in the Workbench: the keyless kind offered first and
// chosen for a new connection, what the cloud must trust (the issuer and
// this connection's subject), the setup kit for that kind, and the flow to
// ACTIVE with nothing secret asked for.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SHOTS, T, addConnection, axe, open } from "./helpers.mjs";

describe("Workbench keyless connections", () => {
  test("AWS: web identity first and chosen, the trust it needs, its kit, ACTIVE with no secret", async () => {
    const { page, context, errors } = await open("keyless");
    await addConnection(page, { tag: "keyless_aws", scopes: ["storage"] });
    await page.getByRole("tab", { name: "Setup", selected: true }).waitFor({ timeout: T });

    const radios = page.getByTestId("kind-picker").getByRole("radio");
    assert.equal(await radios.count(), 2);
    const first = page.getByTestId("kind-picker").locator("label").first();
    assert.match((await first.textContent()) ?? "", /^Keyless .*recommended: no secret is stored$/);
    assert.equal(await radios.first().isChecked(), true, "keyless is chosen for a new connection");

    // What the customer's cloud must trust: the issuer, and this connection exactly.
    const trust = (await page.getByTestId("keyless-trust").textContent()) ?? "";
    assert.match(trust, /http:\/\/127\.0\.0\.1:\d+/);
    assert.match(trust, /workspace:[a-z0-9_-]+:connection:[0-9a-f-]{36}/);

    // The kit is the keyless one: an OIDC provider and a role trusting it on aud and sub.
    const kit = page.locator("details.kit");
    await kit.getByRole("heading", { name: "Setup kit (2 steps)" }).waitFor({ timeout: T });
    const policy = kit.locator(".artifact").filter({ has: page.locator(".artifact-name", { hasText: "trust-policy.json" }) }).locator("pre");
    const statement = JSON.parse((await policy.textContent()) ?? "").Statement[0];
    assert.equal(statement.Action, "sts:AssumeRoleWithWebIdentity");
    const sub = Object.entries(statement.Condition.StringEquals).find(([k]) => k.endsWith(":sub"))?.[1];
    assert.ok(trust.includes(sub), `the kit's subject ${sub} is the one shown`);

    // Only the kind's fields: no secret to type, and no external id to show.
    assert.equal(await page.locator("input[type=password], input[type=file]").count(), 0);
    assert.equal(await page.getByTestId("external-id").count(), 0);
    await page.getByTestId("kind-picker").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}keyless.png` });
    await page.getByLabel("role_arn").fill("arn:aws:iam::123456789012:role/app");
    await page.getByRole("button", { name: "Save credentials" }).click();
    await page.locator(".conn-header .badge-active").waitFor({ timeout: T });

    // Switching kind switches the kit (the external-id role) and the fields.
    await page.getByRole("tab", { name: "Settings" }).click();
    const picker = page.getByTestId("kind-picker");
    assert.equal(await picker.getByRole("radio", { name: /^Keyless/ }).isChecked(), true, "the saved kind");
    await picker.getByRole("radio", { name: /^Role with external id/ }).check();
    assert.equal(await page.getByTestId("keyless-trust").count(), 0);
    await page.getByTestId("external-id").waitFor();
    await axe(page, "Settings with the kind picker");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
