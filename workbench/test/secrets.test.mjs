// Secret fields: password inputs, "set" once saved, blank keeps the stored
// value, the form cleared after sending; GCP's key file through a file picker;
// and the whole add flow by keyboard alone.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { T, addConnection, open } from "./helpers.mjs";

const add = (page, provider, tag, scope = "storage") => addConnection(page, { tag, provider, scopes: [scope] });

describe("Workbench secrets and keyboard", () => {
  test("Azure: the secret is a password input, sent once, then shown as set; blank keeps it", async () => {
    const { page, context } = await open("secrets");
    await add(page, "Microsoft Azure", "prod_azure");
    // Keyless is offered first; this test is about the secret kind.
    await page.getByRole("radio", { name: /^Client secret/ }).check();
    const guid = "0f8fad5b-d9cb-469f-a165-70867728950e";
    await page.getByLabel("tenant_id").fill(guid);
    await page.getByLabel("subscription_id").fill(guid);
    await page.getByLabel("client_id").fill(guid);
    const secret = page.getByLabel(/^client_secret/);
    assert.equal(await secret.getAttribute("type"), "password");
    await secret.fill("sandbox-wrong-secret");
    await page.getByRole("button", { name: "Save credentials" }).click();
    await page.locator(".conn-header .badge-failed").waitFor({ timeout: T });
    await page.getByText("INVALID_CREDENTIALS").first().waitFor();
    // cleared, and marked as set
    await page.getByLabel("client_secret (set)").waitFor();
    assert.equal(await page.getByLabel("client_secret (set)").inputValue(), "");
    assert.equal(await page.getByLabel("tenant_id").inputValue(), guid);
    // a new secret makes it active; then a save with the secret blank keeps it
    await page.getByLabel("client_secret (set)").fill("a-good-secret");
    await page.getByRole("button", { name: "Save new credentials" }).click();
    await page.locator(".conn-header .badge-active").waitFor({ timeout: T });
    await page.getByRole("tab", { name: "Settings" }).click();
    await page.getByLabel("client_secret (set)").waitFor(); // Settings → Credentials once active
    await page.getByRole("button", { name: "Save new credentials" }).click();
    await page.getByText(/Saved as revision 3/).waitFor({ timeout: T });
    await page.getByRole("tab", { name: "Validation" }).click();
    await page.getByTestId("validation-state").getByText("succeeded").waitFor({ timeout: T });
    await context.close();
  });

  test("GCP: the key file comes from a file picker", async () => {
    const { page, context } = await open("gcp");
    await add(page, "Google Cloud", "prod_gcp");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const key = {
      type: "service_account",
      project_id: "my-project-123",
      private_key_id: "0123456789abcdef",
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: "cloudconn@my-project-123.iam.gserviceaccount.com",
      client_id: "123456789012345678901",
      token_uri: "https://oauth2.googleapis.com/token",
    };
    await page.getByRole("radio", { name: /^Service account key/ }).check();
    await page.getByLabel("project_id").fill("my-project-123");
    const file = page.getByLabel(/^service_account_json/);
    assert.equal(await file.getAttribute("type"), "file");
    await file.setInputFiles({ name: "key.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(key)) });
    await page.getByRole("button", { name: "Save credentials" }).click();
    await page.getByLabel("service_account_json (set)").waitFor({ timeout: T });
    await page.locator(".conn-header .badge-active").waitFor({ timeout: T });
    await context.close();
  });

  test("keyboard only: add a connection and open it", async () => {
    const { page, context } = await open("keys");
    await page.getByRole("link", { name: "Add connection" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Add connection" }).waitFor();
    await page.getByRole("radio", { name: "Amazon Web Services" }).focus();
    await page.keyboard.press("Tab"); // → tag
    assert.equal(await page.evaluate(() => document.activeElement?.id), "new-tag");
    await page.keyboard.type("kb_aws");
    await page.getByRole("checkbox", { name: "storage" }).focus();
    await page.keyboard.press("Space");
    await page.keyboard.press("Enter"); // submits the form
    await page.getByRole("heading", { name: "kb_aws", level: 1 }).waitFor({ timeout: T });
    // the tabs follow the arrow keys
    await page.getByRole("tab", { name: "Setup" }).focus();
    await page.keyboard.press("ArrowRight");
    await page.getByRole("tab", { name: "Validation", selected: true }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-validation");
    await context.close();
  });
});
