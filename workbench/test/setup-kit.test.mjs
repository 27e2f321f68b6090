// The setup kit on the Setup tab: steps with their Markdown rendered, each
// file in a <pre> with a Copy button that really fills the clipboard (and
// still does through the fallback when the Clipboard API is missing) and a
// Download button that saves it under its name, the external id with its
// own button; and a server that cannot make the kit shows a notice, not an
// error.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { SHOTS, T, addConnection, axe, open } from "./helpers.mjs";

describe("Workbench setup kit", () => {
  test("AWS: the kit's steps, files, Copy and Download buttons; the external id prominent", async () => {
    const { page, context, errors } = await open("kit", { permissions: ["clipboard-read", "clipboard-write"] });
    await addConnection(page, { tag: "kit_aws", scopes: ["storage", "database"] });
    await page.getByRole("tab", { name: "Setup", selected: true }).waitFor();
    // The kit follows the kind chosen in the form; keyless is offered first.
    await page.getByRole("radio", { name: /^Role with external id/ }).check();
    const extid = (await page.getByTestId("external-id").textContent()) ?? "";
    assert.match(extid, /^[A-Za-z0-9_-]{32}$/);

    // the steps, in order, open while no credentials were saved
    const kit = page.locator("details.kit");
    await kit.getByRole("heading", { name: "Setup kit (4 steps)" }).waitFor({ timeout: T });
    assert.equal(await kit.getAttribute("open"), "");
    assert.deepEqual(await kit.locator(".kit-steps > li > h3").allTextContents(), [
      "Create the role cloudconn assumes",
      "Or: create it with CloudFormation",
      "Or: create it with the AWS CLI",
      "Save the role's ARN in cloudconn",
    ]);
    // Markdown: **bold** and `code` are elements, not literal asterisks and backticks
    const first = kit.locator(".kit-steps > li").first();
    assert.equal(await first.locator(".md strong").first().textContent(), "trust policy");
    assert.ok((await first.locator(".md code").allTextContents()).includes(extid));
    assert.ok(!((await first.locator(".md").textContent()) ?? "").includes("**"));

    // each file in a <pre>, named, with its Copy button
    const names = await kit.locator(".artifact-name").allTextContents();
    assert.deepEqual(names, ["trust-policy.json", "permissions-policy.json", "cloudformation.yaml", "deploy-stack.sh", "create-role.sh", "save.sh"]);
    const trust = kit.locator(".artifact").filter({ has: page.locator(".artifact-name", { hasText: "trust-policy.json" }) }).locator("pre");
    const policy = JSON.parse((await trust.textContent()) ?? "");
    assert.equal(policy.Statement[0].Condition.StringEquals["sts:ExternalId"], extid);
    await page.getByRole("button", { name: "Copy trust-policy.json" }).click();
    await page.getByRole("button", { name: "Copied trust-policy.json" }).waitFor();
    await page.getByRole("status").filter({ hasText: "Copied trust-policy.json" }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(JSON.parse(copied).Statement[0].Condition.StringEquals["sts:ExternalId"], extid);
    await page.getByRole("button", { name: "Copy permissions-policy.json" }).click();
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), /rds:DescribeDBInstances/);
    // each file downloads too, under its own name, with the same content
    for (const name of ["trust-policy.json", "create-role.sh"]) {
      const pre = kit.locator(".artifact").filter({ has: page.locator(".artifact-name", { hasText: name }) }).locator("pre");
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: `Download ${name}` }).click()]);
      assert.equal(download.suggestedFilename(), name);
      assert.equal(await readFile(await download.path(), "utf8"), await pre.textContent());
    }
    // the external id's own button
    await page.getByRole("button", { name: "Copy the external ID" }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), extid);

    await page.screenshot({ path: `${SHOTS}setup-kit.png` });
    await axe(page, "Setup tab with the kit");
    // once credentials are saved the kit folds away (the form matters then), one click from open
    await page.getByLabel("role_arn").fill("arn:aws:iam::123456789012:role/sandbox-denied");
    await page.getByRole("button", { name: "Save credentials" }).click();
    await page.locator(".conn-header .badge-failed").waitFor({ timeout: T });
    await page.reload();
    await page.getByRole("tab", { name: "Setup", selected: true }).waitFor({ timeout: T });
    await kit.getByRole("heading", { name: "Setup kit (4 steps)" }).waitFor({ timeout: T });
    assert.equal(await kit.getAttribute("open"), null);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("without the Clipboard API the Copy button still copies (execCommand fallback)", async () => {
    // The page loses navigator.clipboard, as on a plain-http origin; the test keeps it to read back.
    const init = () => {
      const real = navigator.clipboard;
      Object.defineProperty(window, "__clipboard", { value: real });
      Object.defineProperty(Navigator.prototype, "clipboard", { get: () => undefined, configurable: true });
    };
    const { page, context } = await open("kit_fallback", { permissions: ["clipboard-read", "clipboard-write"], init });
    assert.equal(await page.evaluate(() => navigator.clipboard === undefined), true);
    await addConnection(page, { tag: "fallback_aws" });
    await page.getByRole("radio", { name: /^Role with external id/ }).check();
    const extid = (await page.getByTestId("external-id").textContent()) ?? "";
    await page.getByRole("button", { name: "Copy the external ID" }).click();
    await page.getByRole("button", { name: "Copied the external ID" }).waitFor();
    // the focus is back on the button, not on the fallback's hidden textarea
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Copied the external ID");
    assert.equal(await page.evaluate(() => window.__clipboard.readText()), extid);
    await context.close();
  });

  test("a server without the AWS kit (SETUP_NOT_CONFIGURED) shows a notice and the scopes' permissions", async () => {
    const api = process.env.WB_API_REAL;
    assert.ok(api, "WB_API_REAL: scripts/test.sh starts a --providers real server");
    const { page, context, errors } = await open("kit_none", { api, token: process.env.WB_TOKEN_REAL });
    await addConnection(page, { tag: "nokit_aws", scopes: ["storage"] });
    await page.getByRole("radio", { name: /^Role with external id/ }).check();
    const notice = page.getByTestId("kit-not-configured");
    await notice.waitFor({ timeout: T });
    assert.match((await notice.textContent()) ?? "", /CLOUDCONN_AWS_PLATFORM_PRINCIPAL/);
    await page.locator(".scope-perms").getByText("s3:ListAllMyBuckets").waitFor();
    // not an error: no alert, and the rest of the tab is there
    assert.equal(await page.locator(".kit [role=alert]").count(), 0);
    await page.getByTestId("external-id").waitFor();
    await page.getByLabel("role_arn").waitFor();
    await axe(page, "Setup tab without a kit");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
