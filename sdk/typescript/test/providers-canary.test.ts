// No secret in what a provider object shows: String(), util.inspect (with
// hidden properties), JSON, console output, or its errors. The canaries are
// the actual secret values the server issued (the providers hold the same
// ones: the server serves a consumer its cached credential).

import assert from "node:assert/strict";
import { format, inspect } from "node:util";
import { describe, test } from "node:test";
import { CredentialRefresher } from "@cloudconn/sdk";
import type { IssuedCredentials } from "@cloudconn/sdk";
import { activeConnection } from "./sandbox.js";

const CONSUMER = "canary-test";

function secretsOf(issued: IssuedCredentials): string[] {
  const s = [
    issued.aws?.secretAccessKey,
    issued.aws?.sessionToken,
    issued.gcp?.accessToken,
    issued.azure?.accessToken,
    issued.neo4jAura?.accessToken,
    issued.mongodbAtlas?.password,
  ].filter((v): v is string => typeof v === "string" && v.length > 0);
  assert.ok(s.length > 0, `secrets of ${issued.provider}`);
  return s;
}

/** Everything a log line or a debugger could show of `value`. */
function shown(value: unknown): string {
  return [
    String(value),
    inspect(value, { depth: 20, showHidden: true, getters: false }),
    inspect({ nested: [value] }, { depth: 20 }),
    JSON.stringify(value) ?? "",
    JSON.stringify({ nested: value }),
    format("%s %o %O %j", value, value, value, value),
  ].join("\n");
}

describe("credential providers keep their secrets", () => {
  test("no issued secret in String/inspect/JSON/log output of any provider, its holder, or its errors", async () => {
    const cases = [
      { provider: "aws", tag: "c_aws", scope: "storage" },
      { provider: "gcp", tag: "c_gcp", scope: "storage" },
      { provider: "azure", tag: "c_azure", scope: "storage" },
      { provider: "mongodb_atlas", tag: "c_atlas", scope: "database" },
      { provider: "neo4j_aura", tag: "c_aura", scope: "database" },
    ] as const;
    for (const c of cases) {
      const cloud = await activeConnection(c.provider, c.tag, [c.scope]);
      const input = { scope: c.scope, consumer: CONSUMER };
      const creds = cloud.credentials;
      // The server serves this consumer its cached credential: the one the providers hold.
      const issued = await creds.issue(c.tag, input);
      const secrets = secretsOf(issued);
      const objects: unknown[] = [];
      const errors: unknown[] = [];
      let answered: string;
      switch (c.provider) {
        case "aws": {
          const p = creds.aws(c.tag, input);
          answered = (await p()).secretAccessKey; // the identity itself is the AWS SDK's to hold
          objects.push(p);
          break;
        }
        case "gcp": {
          const p = creds.gcp(c.tag, input);
          answered = (await p.getAccessToken()).token ?? "";
          await p.getRequestHeaders();
          objects.push(p);
          break;
        }
        case "azure": {
          const p = creds.azure(c.tag, input);
          answered = (await p.getToken("https://storage.azure.com/.default"))?.token ?? "";
          await p.getToken("https://management.azure.com/.default").catch((e: unknown) => errors.push(e));
          objects.push(p);
          break;
        }
        case "mongodb_atlas": {
          const p = creds.atlas(c.tag, { ...input, host: "cluster0.abcde.mongodb.net" });
          answered = decodeURIComponent(new URL(await p()).password);
          objects.push(p);
          break;
        }
        case "neo4j_aura": {
          const p = creds.aura(c.tag, input);
          answered = await p();
          objects.push(p);
          break;
        }
      }
      assert.ok(secrets.includes(answered), `${c.provider}: the provider holds the canary`);
      const holder = new CredentialRefresher(() => creds.issue(c.tag, input), c.tag);
      const held = JSON.stringify((await holder.get()).issued);
      assert.ok(secrets.every((v) => held.includes(v)), `${c.provider}: the holder holds the canaries`);
      objects.push(holder);
      // A refusal, through a fresh holder, once the connection is gone.
      await cloud.connections.delete(c.tag);
      await new CredentialRefresher(() => creds.issue(c.tag, input), c.tag).get().catch((e: unknown) => errors.push(e));
      assert.ok(errors.length > 0, `${c.provider}: an error to look at`);

      for (const value of [...objects, ...errors]) {
        const text = shown(value);
        for (const secret of secrets) {
          assert.ok(!text.includes(secret), `${c.provider}: a secret shows in ${text.slice(0, 200)}`);
        }
      }
      assert.match(String(objects[0]), new RegExp(c.tag));
    }
  });
});
