// A link's #token= (review: login CSRF). In a tab without a token the link
// signs it in, as the `--dev` link does. In a tab that already has one, a
// link with another token changes nothing until the user says so: the page
// names the link token's subject, workspaces and scopes, never the token,
// and keeps the tab's token unless told to switch. Both ways a link arrives:
// a new page load, and a same-tab link that changes only the hash.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { T, TOKEN, axe, devToken, open, pageUrl } from "./helpers.mjs";

const stored = (page) => page.evaluate(() => sessionStorage.getItem("cloudconn.token"));

/** The confirmation, checked: the link token's claims shown, the token nowhere on the page or in the address. */
async function assertOffered(page, attacker) {
  const dialog = page.getByRole("alertdialog", { name: "Switch to the link's token?" });
  await dialog.waitFor({ timeout: T });
  await page.waitForFunction(() => !location.hash.includes("token="));
  assert.equal(await dialog.getByTestId("claim-subject").first().textContent(), "mallory");
  assert.equal(await dialog.getByTestId("claim-workspaces").first().textContent(), "mallory-ws");
  assert.equal(await dialog.getByTestId("claim-scopes").first().textContent(), "connections:read connections:write");
  assert.equal(await dialog.getByTestId("claim-subject").nth(1).textContent(), "dev", "the tab's own token, for comparison");
  assert.ok(!(await page.content()).includes(attacker), "the link's token is never shown");
  assert.equal(await stored(page), TOKEN, "nothing is stored before the user says yes");
}

describe("Workbench token from a link", () => {
  test("a link's token replaces the tab's only when the user says so", async () => {
    const attacker = devToken({ sub: "mallory", workspaces: ["mallory-ws"], scope: "connections:read connections:write" });
    // A fresh tab: the --dev link's token is taken without asking.
    const { page, context, errors } = await open(null);
    assert.equal(await stored(page), TOKEN);
    assert.match((await page.getByTestId("token-scopes").textContent()) ?? "", /^Token dev:/);

    // A new page load from a crafted link: asked, and "keep" keeps.
    await page.goto("about:blank");
    await page.goto(pageUrl({ token: attacker }));
    await assertOffered(page, attacker);
    await axe(page, "the token confirmation");
    await page.getByRole("button", { name: "Keep this tab's token" }).click();
    await page.getByText("● live").waitFor({ timeout: T });
    assert.match((await page.getByTestId("token-scopes").textContent()) ?? "", /^Token dev:/);
    assert.equal(await stored(page), TOKEN);

    // A link followed in the open tab (only the hash changes): asked too.
    await page.evaluate((t) => {
      location.hash = `token=${t}`;
    }, attacker);
    await assertOffered(page, attacker);
    await page.getByRole("button", { name: "Switch to the link's token" }).click();
    // (mallory may not use this tab's workspace, so the page does not go live)
    await page.getByTestId("token-scopes").getByText("Token mallory:").waitFor({ timeout: T });
    assert.equal(await stored(page), attacker);

    // The tab's own token again in a link: nothing to ask.
    await page.goto("about:blank");
    await page.goto(pageUrl({ token: attacker }));
    await page.getByTestId("token-scopes").getByText("Token mallory:").waitFor({ timeout: T });
    assert.equal(await page.getByRole("alertdialog").count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
