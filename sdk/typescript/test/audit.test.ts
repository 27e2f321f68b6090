// audit.list(): the trail newest first, one connection's or the workspace's,
// paged with tokens bound to the tag, details parsed, never a secret.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CloudConnError } from "@cloudconn/sdk";
import type { AuditEvent } from "@cloudconn/sdk";
import { PATHS, client, credentials, freshWorkspace } from "./helpers.js";

for (const path of PATHS) {
  describe(`[${path}] audit trail`, () => {
    test(`[${path}] audit.list({ tag }) lists one connection's changes newest first, with details parsed`, async () => {
      const cloudconn = client(path, freshWorkspace(`audit-${path}`));
      const { connections, audit } = cloudconn.cloud;
      const marker = `audit-${path}-${Date.now()}`;
      const started = Date.now();
      await connections.create({ provider: "azure", name: "prod_az", scopes: ["storage"], request_id: `req-${marker}` });
      await connections.create({ provider: "aws", name: "other_aws", scopes: ["storage"] });
      await connections.complete("prod_az", credentials("azure", marker));
      await connections.validate("prod_az", { wait: 0 });
      await connections.update("prod_az", { display_name: "Prod Azure" });

      const page = await audit.list({ tag: "prod_az" });
      assert.equal(page.nextPageToken, "");
      assert.deepEqual(
        page.events.map((e) => e.action),
        ["UpdateConnection", "ValidateConnection", "CompleteConnection", "CreateConnection"],
      );
      for (const e of page.events) {
        assert.equal(e.tag, "prod_az");
        assert.equal(e.actor, "dev"); // the dev token's subject
        assert.equal(e.outcome, "ok");
        assert.ok(e.time instanceof Date && e.time.getTime() >= started - 5_000, "a Date");
      }
      const times = page.events.map((e) => e.time?.getTime() ?? 0);
      assert.deepEqual(times, [...times].sort((a, b) => b - a), "newest first");
      const [updated, validated, saved, created] = page.events as [AuditEvent, AuditEvent, AuditEvent, AuditEvent];
      assert.deepEqual(created.details, { provider: "azure", scopes: ["storage"] });
      assert.equal(created.requestId, `req-${marker}`);
      assert.equal(saved.details["revision"], 1);
      assert.ok(Array.isArray(saved.details["fields"]) && saved.details["fields"].includes("client_secret"), "the saved fields are named");
      assert.equal(validated.details["revision"], 1);
      assert.deepEqual(updated.details, { changed: ["display_name"] });
      // the secret (which carries the marker) is in no event
      assert.ok(!JSON.stringify(page.events).includes(`secret-${marker}`));

      // the workspace's trail has the other connection too
      const all = await audit.list();
      assert.equal(all.events.length, 5);
      assert.deepEqual(all.events.filter((e) => e.tag === "other_aws").map((e) => e.action), ["CreateConnection"]);

      // a deleted connection's trail stays
      await connections.delete("prod_az");
      assert.equal((await audit.list({ tag: "prod_az", pageSize: 1 })).events[0]?.action, "DeleteConnection");
    });

    test(`[${path}] audit.list() pages with nextPageToken; a token is bound to its tag`, async () => {
      const { connections, audit } = client(path, freshWorkspace(`auditpages-${path}`)).cloud;
      await connections.create({ provider: "aws", name: "paged_aws", scopes: ["storage"] });
      for (const name of ["A", "B", "C", "D"]) {
        await connections.update("paged_aws", { display_name: name });
      }
      const seen: string[] = [];
      let pageToken = "";
      let pages = 0;
      do {
        const page = await audit.list({ tag: "paged_aws", pageSize: 2, pageToken });
        assert.ok(page.events.length <= 2);
        seen.push(...page.events.map((e) => (e.action === "UpdateConnection" ? "update" : "create")));
        pageToken = page.nextPageToken;
        pages += 1;
      } while (pageToken !== "");
      assert.equal(pages, 3); // 2 + 2 + 1
      assert.deepEqual(seen, ["update", "update", "update", "update", "create"]);

      const first = await audit.list({ tag: "paged_aws", pageSize: 1 });
      assert.notEqual(first.nextPageToken, "");
      await assert.rejects(audit.list({ tag: "another_tag", pageToken: first.nextPageToken }), (e: unknown) => {
        assert.ok(e instanceof CloudConnError);
        assert.equal(e.code, "INVALID_ARGUMENT");
        assert.equal(e.fieldViolations[0]?.field, "page_token");
        return true;
      });
    });

    test(`[${path}] audit.list() refuses an unknown option before sending`, async () => {
      const { audit } = client(path, freshWorkspace(`auditkeys-${path}`)).cloud;
      await assert.rejects(audit.list({ page_size: 5 } as never), (e: unknown) => {
        assert.ok(e instanceof CloudConnError);
        assert.equal(e.reason, "INVALID_ARGUMENT");
        assert.equal(e.fieldViolations[0]?.field, "page_size");
        return true;
      });
    });
  });
}
