// The seed's whole flow, for every provider, over every path: create →
// complete → validate → active → fetch → list → update → complete again
// with blank secrets (the stored ones are kept) → validate → delete.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CloudConnError } from "@cloudconn/sdk";
import { PATHS, PROVIDERS, blankSecrets, client, credentials, freshWorkspace, scopesFor } from "./helpers.js";

for (const path of PATHS) {
  describe(`[${path}] seed flow`, () => {
    for (const provider of PROVIDERS) {
      test(`[${path}] ${provider}: create → complete → validate → fetch → list → update → blank-keeps → delete`, async () => {
        const workspace = freshWorkspace(`flow-${path}-${provider}`);
        const connections = client(path, workspace).cloud.connections;
        const tag = `prod_${provider}`;
        const marker = `canary${Math.random().toString(36).slice(2, 10)}`;
        const seen: unknown[] = [];

        const created = await connections.create({ provider, name: tag, scopes: scopesFor(provider) });
        seen.push(created);
        assert.equal(created.tag, tag);
        assert.equal(created.workspace, workspace);
        assert.equal(created.provider, provider);
        assert.equal(created.status, "pending");
        assert.equal(created.displayName, tag);
        assert.deepEqual(created.scopes, scopesFor(provider));
        assert.ok(created.createTime instanceof Date);
        if (provider === "aws") {
          assert.ok(created.externalId.length > 0, "AWS connections carry an external id");
        }

        const creds = credentials(provider, marker);
        const completed = await connections.complete(tag, creds);
        seen.push(completed);
        assert.equal(completed.credentials.revision, 1);
        assert.equal(completed.credentials.activeRevision, 0);
        assert.equal(completed.status, "pending");

        const v = await connections.validate(tag);
        seen.push(v);
        assert.equal(v.state, "succeeded", JSON.stringify(v.error));
        assert.equal(v.error, undefined);
        assert.equal(v.revision, 1);
        assert.equal(v.connection.status, "active");
        assert.ok(v.scopeChecks.length > 0 && v.scopeChecks.every((c) => c.granted));
        assert.ok(v.warnings.some((w) => w.startsWith("Sandbox result")), "the dev server answers with its sandbox");

        const fetched = await connections.fetch(tag);
        seen.push(fetched);
        assert.equal(fetched.status, "active");
        assert.equal(fetched.credentials.activeRevision, 1);
        assert.equal(fetched.lastValidation?.state, "succeeded");

        const listed = await connections.list();
        seen.push(listed);
        assert.deepEqual(
          listed.map((c) => c.tag),
          [tag],
        );
        assert.equal((await connections.list({ provider, status: "active" })).length, 1);
        assert.equal((await connections.list({ status: "pending" })).length, 0);

        const updated = await connections.update(tag, {
          display_name: "Prod",
          description: "the production account",
          scopes: ["database"],
        });
        seen.push(updated);
        assert.equal(updated.displayName, "Prod");
        assert.equal(updated.description, "the production account");
        assert.deepEqual(updated.scopes, ["database"]);
        // Only the keys given change: the description stays.
        const renamed = await connections.update(tag, { display_name: "Production" });
        assert.equal(renamed.displayName, "Production");
        assert.equal(renamed.description, "the production account");
        assert.deepEqual(renamed.scopes, ["database"]);

        // Blank secrets keep the stored values: a new revision that still validates.
        const again = await connections.complete(tag, blankSecrets(provider, creds), { validate: true });
        seen.push(again);
        assert.equal(again.credentials.revision, 2);
        const v2 = await connections.validate(tag);
        seen.push(v2);
        assert.equal(v2.state, "succeeded", JSON.stringify(v2.error));
        assert.equal(v2.revision, 2);
        assert.equal(v2.connection.credentials.activeRevision, 2);
        assert.deepEqual(v2.connection.credentials.fields, fetched.credentials.fields);
        assert.deepEqual(v2.connection.credentials.secretFieldsSet, fetched.credentials.secretFieldsSet);

        for (const result of seen) {
          assert.ok(!JSON.stringify(result).includes(marker), "no result ever holds a secret value");
        }

        await connections.delete(tag);
        await assert.rejects(connections.fetch(tag), (e: unknown) => e instanceof CloudConnError && e.code === "NOT_FOUND");
        assert.deepEqual(await connections.list(), []);
      });
    }
  });
}
