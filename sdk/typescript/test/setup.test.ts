// setup(tag): the connection's setup kit; providers() carries each scope's permissions.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CloudConnError } from "@cloudconn/sdk";
import { PATHS, client, freshWorkspace } from "./helpers.js";

for (const path of PATHS) {
  describe(`[${path}] setup kit`, () => {
    test(`[${path}] setup() returns the steps and files for the connection's scopes and external id`, async () => {
      const cloudconn = client(path, freshWorkspace(`setup-${path}`));
      const created = await cloudconn.cloud.connections.create({ provider: "aws", name: "prod_aws", scopes: ["storage"] });
      const kit = await cloudconn.cloud.connections.setup("prod_aws");
      assert.equal(kit.tag, "prod_aws");
      assert.equal(kit.provider, "aws");
      assert.deepEqual(kit.scopes, ["storage"]);
      const files = kit.steps.flatMap((s) => s.artifacts);
      const trust = files.find((a) => a.name === "trust-policy.json");
      assert.ok(trust, "a trust policy");
      assert.equal(trust.mediaType, "application/json");
      const policy = JSON.parse(trust.content) as { Statement: { Condition: { StringEquals: Record<string, string> } }[] };
      assert.equal(policy.Statement[0]?.Condition.StringEquals["sts:ExternalId"], created.externalId);
      const storage = (await cloudconn.providers()).find((p) => p.provider === "aws")?.scopeSpecs.find((s) => s.name === "storage");
      assert.deepEqual(storage?.permissions, ["s3:ListAllMyBuckets"]);
      assert.ok(files.find((a) => a.name === "permissions-policy.json")?.content.includes("s3:ListAllMyBuckets"));
    });

    test(`[${path}] a keyless connection: the kind's kit, then ACTIVE with no secret stored`, async () => {
      const cloudconn = client(path, freshWorkspace(`keyless-${path}`));
      const connections = cloudconn.cloud.connections;
      const created = await connections.create({ provider: "aws", name: "keyless_aws", scopes: ["storage"] });
      const kit = await connections.setup("keyless_aws", { kind: "web_identity" });
      const trust = kit.steps.flatMap((s) => s.artifacts).find((a) => a.name === "trust-policy.json");
      assert.ok(trust?.content.includes(`workspace:${created.workspace}:connection:${created.uid}`), "the kit trusts this connection");
      assert.ok(trust?.content.includes("sts:AssumeRoleWithWebIdentity"));
      const saved = await connections.complete("keyless_aws", {
        kind: "web_identity",
        role_arn: `arn:aws:iam::123456789012:role/sdk-keyless-${path}`,
      });
      assert.equal(saved.credentials.fields["kind"], "web_identity");
      assert.deepEqual(saved.credentials.secretFieldsSet, []);
      const done = await connections.validate("keyless_aws");
      assert.equal(done.connection.status, "active", JSON.stringify(done.error));
    });

    test(`[${path}] setup() of a missing connection throws CONNECTION_NOT_FOUND`, async () => {
      const cloudconn = client(path, freshWorkspace(`setup404-${path}`));
      await assert.rejects(cloudconn.cloud.connections.setup("nope"), (e: unknown) => {
        assert.ok(e instanceof CloudConnError);
        assert.equal(e.reason, "CONNECTION_NOT_FOUND");
        return true;
      });
    });
  });
}
