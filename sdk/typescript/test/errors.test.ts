// Every failure is a CloudConnError that callers branch on by `reason` (or
// `code`); a FAILED validation is a result, not an exception.

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, test } from "node:test";
import { CloudConn, CloudConnError } from "@cloudconn/sdk";
import type { CredentialsInput, GrpcCodeName, ProviderName } from "@cloudconn/sdk";
import { PATHS, client, credentials, freshWorkspace, scopesFor } from "./helpers.js";

/** Asserts `p` rejects with a CloudConnError of this code and reason; returns it. */
async function failure(p: Promise<unknown>, code: GrpcCodeName, reason: string): Promise<CloudConnError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CloudConnError, `a CloudConnError, not ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.reason, reason, err.message);
    assert.ok(err.message.length > 0);
    return err;
  }
  assert.fail(`expected ${code} / ${reason}, but the call succeeded`);
}

async function activeConnection(path: (typeof PATHS)[number], label: string, provider: ProviderName) {
  const workspace = freshWorkspace(label);
  const connections = client(path, workspace).cloud.connections;
  const tag = `c_${provider}`;
  await connections.create({ provider, name: tag, scopes: scopesFor(provider) });
  await connections.complete(tag, credentials(provider, "m"));
  const v = await connections.validate(tag);
  assert.equal(v.connection.status, "active");
  return { connections, tag, workspace };
}

for (const path of PATHS) {
  describe(`[${path}] errors`, () => {
    test(`[${path}] invalid argument: code, reason and every field violation`, async () => {
      const connections = client(path, freshWorkspace(`inv-${path}`)).cloud.connections;
      const err = await failure(connections.create({ provider: "gcp", name: "Bad!", scopes: [] }), "INVALID_ARGUMENT", "INVALID_ARGUMENT");
      assert.deepEqual(
        err.fieldViolations.map((v) => v.field),
        ["tag", "scopes"],
      );
      assert.ok(err.fieldViolations.every((v) => v.description.length > 0));
      assert.equal(err.domain, "cloudconn.v1");
    });

    test(`[${path}] invalid argument found before sending: unknown provider word, unknown credential key`, async () => {
      const connections = client(path, freshWorkspace(`inv2-${path}`)).cloud.connections;
      const bad = await failure(
        connections.create({ provider: "oracle" as ProviderName, name: "db", scopes: ["database"] }),
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
      );
      assert.deepEqual(bad.fieldViolations.map((v) => v.field), ["provider"]);
      await connections.create({ provider: "azure", name: "az", scopes: ["storage"] });
      const wrongKey = await failure(
        connections.complete("az", { role_arn: "arn:aws:iam::123456789012:role/x" } as CredentialsInput),
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
      );
      assert.deepEqual(wrongKey.fieldViolations.map((v) => v.field), ["role_arn"]);
      const camel = await failure(
        connections.update("az", { displayName: "x" } as object),
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
      );
      assert.deepEqual(camel.fieldViolations.map((v) => v.field), ["displayName"]);
    });

    test(`[${path}] not found on every call that names a tag`, async () => {
      const connections = client(path, freshWorkspace(`nf-${path}`)).cloud.connections;
      await failure(connections.fetch("nope"), "NOT_FOUND", "CONNECTION_NOT_FOUND");
      await failure(connections.complete("nope", { role_arn: "arn:aws:iam::123456789012:role/x" }), "NOT_FOUND", "CONNECTION_NOT_FOUND");
      await failure(connections.validate("nope"), "NOT_FOUND", "CONNECTION_NOT_FOUND");
      await failure(connections.update("nope", { description: "x" }), "NOT_FOUND", "CONNECTION_NOT_FOUND");
      await failure(connections.delete("nope"), "NOT_FOUND", "CONNECTION_NOT_FOUND");
    });

    test(`[${path}] already exists`, async () => {
      const connections = client(path, freshWorkspace(`ae-${path}`)).cloud.connections;
      await connections.create({ provider: "aws", name: "prod_aws", scopes: ["storage"] });
      await failure(connections.create({ provider: "aws", name: "prod_aws", scopes: ["storage"] }), "ALREADY_EXISTS", "TAG_ALREADY_EXISTS");
    });

    test(`[${path}] a stale etag is ABORTED / ETAG_MISMATCH on update, complete and delete`, async () => {
      const connections = client(path, freshWorkspace(`etag-${path}`)).cloud.connections;
      const created = await connections.create({ provider: "aws", name: "prod_aws", scopes: ["storage"] });
      const changed = await connections.update("prod_aws", { description: "one" }, { etag: created.etag });
      assert.notEqual(changed.etag, created.etag);
      const stale = { etag: created.etag };
      await failure(connections.update("prod_aws", { description: "two" }, stale), "ABORTED", "ETAG_MISMATCH");
      await failure(connections.complete("prod_aws", { role_arn: "arn:aws:iam::123456789012:role/x" }, stale), "ABORTED", "ETAG_MISMATCH");
      await failure(connections.delete("prod_aws", stale), "ABORTED", "ETAG_MISMATCH");
      await connections.delete("prod_aws", { etag: changed.etag });
    });

    test(`[${path}] failed precondition: validating before any credentials`, async () => {
      const connections = client(path, freshWorkspace(`fp-${path}`)).cloud.connections;
      await connections.create({ provider: "aws", name: "prod_aws", scopes: ["storage"] });
      await failure(connections.validate("prod_aws"), "FAILED_PRECONDITION", "NO_CREDENTIALS");
    });

    test(`[${path}] unauthenticated with a bad token, the cause in metadata`, async () => {
      const cc = client(path, freshWorkspace(`auth-${path}`), "not-a-token");
      const err = await failure(cc.cloud.connections.list(), "UNAUTHENTICATED", "UNAUTHENTICATED");
      assert.equal(typeof err.metadata["cause"], "string");
      await failure(cc.providers(), "UNAUTHENTICATED", "UNAUTHENTICATED");
    });

    test(`[${path}] a failed validation is a result with error {code, message, hint}, not a throw`, async () => {
      const { connections, tag } = await activeConnection(path, `fail-${path}`, "aws");
      // The denied rotation of the README's tour and docs/example-session.md: revision 2 fails, revision 1 stays active.
      const rotated = await connections.complete(tag, credentials("aws", "m", "sandbox-denied"), { validate: true });
      assert.equal(rotated.credentials.revision, 2);
      const v = await connections.validate(tag);
      assert.equal(v.state, "failed");
      assert.equal(v.error?.code, "ACCESS_DENIED");
      assert.ok(v.error.message.length > 0 && v.error.hint.length > 0);
      assert.ok(v.error.missingPermissions.length > 0);
      assert.equal(v.connection.status, "active");
      assert.equal(v.connection.credentials.activeRevision, 1);

      // A connection that never went active goes FAILED (other providers: the secret steers).
      const azure = client(path, freshWorkspace(`fail2-${path}`)).cloud.connections;
      await azure.create({ provider: "azure", name: "az", scopes: ["storage"] });
      await azure.complete("az", credentials("azure", "m", "sandbox-wrong-secret"));
      const bad = await azure.validate("az");
      assert.equal(bad.state, "failed");
      assert.equal(bad.error?.code, "INVALID_CREDENTIALS");
      assert.equal(bad.connection.status, "failed");
    });

    test(`[${path}] validate { wait: 0 } returns at once, before the outcome`, async () => {
      const connections = client(path, freshWorkspace(`nowait-${path}`)).cloud.connections;
      await connections.create({ provider: "neo4j_aura", name: "aura", scopes: ["database"] });
      await connections.complete("aura", credentials("neo4j_aura", "m"));
      const v = await connections.validate("aura", { wait: 0 });
      assert.ok(["queued", "running", "succeeded"].includes(v.state), v.state);
      const done = await connections.validate("aura");
      assert.equal(done.state, "succeeded");
    });
  });
}

test("a server that is not there is UNAVAILABLE, reason = code (no ErrorInfo)", async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
  const cc = new CloudConn({ address: `http://127.0.0.1:${port}`, token: "t", workspace: "acme" });
  const err = await failure(cc.cloud.connections.list(), "UNAVAILABLE", "UNAVAILABLE");
  assert.deepEqual(err.fieldViolations, []);
});

test("constructor options are checked", () => {
  assert.throws(
    () => new CloudConn({ address: "", token: "t", workspace: "acme" }),
    (e: unknown) => e instanceof CloudConnError && e.reason === "INVALID_ARGUMENT" && e.fieldViolations[0]?.field === "address",
  );
});
