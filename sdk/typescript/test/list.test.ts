// list() returns every page; providers() is the catalogue.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PATHS, PROVIDERS, client, freshWorkspace, scopesFor } from "./helpers.js";

for (const path of PATHS) {
  describe(`[${path}] list and providers`, () => {
    test(`[${path}] list() follows next_page_token across pages, with filters`, async () => {
      const connections = client(path, freshWorkspace(`pages-${path}`)).cloud.connections;
      const tags: string[] = [];
      for (let i = 0; i < 7; i++) {
        const provider = i % 2 === 0 ? "aws" : "neo4j_aura";
        const tag = `conn_${String(i).padStart(2, "0")}`;
        await connections.create({ provider, name: tag, scopes: scopesFor(provider) });
        tags.push(tag);
      }
      const all = await connections.list({ pageSize: 3 }); // 3 + 3 + 1
      assert.deepEqual(
        all.map((c) => c.tag),
        tags,
      );
      const aws = await connections.list({ pageSize: 2, provider: "aws" });
      assert.deepEqual(
        aws.map((c) => c.tag),
        ["conn_00", "conn_02", "conn_04", "conn_06"],
      );
      assert.equal((await connections.list({ pageSize: 1, status: "pending" })).length, 7);
      assert.equal((await connections.list({ status: "active" })).length, 0);
    });

    test(`[${path}] list() with the server's default page size (50) returns all of 55`, async () => {
      const connections = client(path, freshWorkspace(`page50-${path}`)).cloud.connections;
      const created = await Promise.all(
        Array.from({ length: 55 }, (_, i) =>
          connections.create({ provider: "azure", name: `az_${String(i).padStart(2, "0")}`, scopes: ["storage"] }),
        ),
      );
      assert.equal(created.length, 55);
      const all = await connections.list();
      assert.equal(all.length, 55);
      assert.equal(new Set(all.map((c) => c.tag)).size, 55);
      assert.equal(all[54]?.tag, "az_54");
    });

    test(`[${path}] providers() lists the five providers with snake_case fields`, async () => {
      const providers = await client(path, freshWorkspace(`providers-${path}`)).providers();
      assert.deepEqual(
        providers.map((p) => p.provider),
        PROVIDERS,
      );
      const aws = providers.find((p) => p.provider === "aws");
      assert.deepEqual(aws?.fields.map((f) => f.name), ["role_arn", "kind"]);
      // Keyless first, with the issuer it needs (`--dev` is its own); a blank kind is the secret one.
      assert.deepEqual(aws?.kinds.map((k) => [k.name, k.keyless]), [["web_identity", true], ["assume_role", false]]);
      assert.equal(aws?.defaultKind, "assume_role");
      assert.match(aws?.kinds[0]?.issuerUrl ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
      const azure = providers.find((p) => p.provider === "azure");
      assert.deepEqual(azure?.fields.filter((f) => f.secret).map((f) => f.name), ["client_secret"]);
      assert.ok(azure?.scopes.includes("storage"));
    });
  });
}
