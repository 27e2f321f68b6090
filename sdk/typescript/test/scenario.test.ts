// The scenario the three SDKs share (sdk/scenario/scenario.json), over every
// path: the Go and Java SDKs run the same file, so all three are held to one
// standard.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { CloudConnError } from "@cloudconn/sdk";
import type {
  ConnectionEvent,
  CreateConnectionInput,
  CredentialsInput,
  GrpcCodeName,
  IssueCredentialsInput,
  ProviderName,
  UpdateConnectionInput,
} from "@cloudconn/sdk";
import { PATHS, assertScheduledAfter, client, freshWorkspace, within } from "./helpers.js";

interface Expected {
  code: GrpcCodeName;
  reason: string;
}
interface Scenario {
  flow: {
    provider: ProviderName;
    create: CreateConnectionInput;
    complete: CredentialsInput;
    complete_blank: CredentialsInput;
    fields: Record<string, string>;
    secret_fields_set: string[];
    issue: IssueCredentialsInput;
  }[];
  update: UpdateConnectionInput;
  update_partial: UpdateConnectionInput;
  secret_marker: string;
  invalid_argument: Expected & { create: CreateConnectionInput; field_violations: string[] };
  not_found: Expected & { tag: string; complete: CredentialsInput; update: UpdateConnectionInput };
  already_exists: Expected & { create: CreateConnectionInput };
  etag_conflict: Expected & {
    create: CreateConnectionInput;
    update: UpdateConnectionInput;
    stale_update: UpdateConnectionInput;
    stale_complete: CredentialsInput;
  };
  watch: { create: CreateConnectionInput; complete: CredentialsInput; update: UpdateConnectionInput; events: string[] };
}

const scenario = JSON.parse(readFileSync(new URL("../../scenario/scenario.json", import.meta.url), "utf8")) as Scenario;

async function expectFailure(p: Promise<unknown>, want: Expected): Promise<CloudConnError> {
  const err = await p.then(
    () => assert.fail(`expected ${want.code} / ${want.reason}, but the call succeeded`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CloudConnError, `a CloudConnError, not ${String(err)}`);
  assert.equal(err.code, want.code, err.message);
  assert.equal(err.reason, want.reason, err.message);
  return err;
}

for (const path of PATHS) {
  describe(`[${path}] scenario`, () => {
    for (const step of scenario.flow) {
      test(`[${path}] ${step.provider}: create → complete → validate → fetch → list → update → blank keeps → delete`, async () => {
        const connections = client(path, freshWorkspace(`sc-${path}-${step.provider}`)).cloud.connections;
        const tag = step.create.name;
        const results: unknown[] = [];

        const created = await connections.create(step.create);
        results.push(created);
        assert.equal(created.provider, step.provider);
        assert.equal(created.status, "pending");
        assert.equal(created.nextValidationTime, undefined, "a pending connection is not scheduled");

        const completed = await connections.complete(tag, step.complete);
        results.push(completed);
        assert.equal(completed.credentials.revision, 1);
        assert.deepEqual(completed.credentials.fields, step.fields);
        assert.deepEqual(completed.credentials.secretFieldsSet, step.secret_fields_set);

        const v = await connections.validate(tag);
        results.push(v);
        assert.equal(v.state, "succeeded", JSON.stringify(v.error));
        assert.equal(v.connection.status, "active");
        assert.equal(v.trigger, "manual");
        assertScheduledAfter(v);

        const fetched = await connections.fetch(tag);
        results.push(fetched);
        assert.equal(fetched.credentials.activeRevision, 1);
        const listed = await connections.list();
        assert.deepEqual(
          listed.map((c) => c.tag),
          [tag],
        );

        const updated = await connections.update(tag, scenario.update);
        assert.equal(updated.displayName, scenario.update.display_name);
        assert.equal(updated.description, scenario.update.description);
        assert.deepEqual(updated.scopes, scenario.update.scopes);
        const partial = await connections.update(tag, scenario.update_partial);
        assert.equal(partial.displayName, scenario.update_partial.display_name);
        assert.equal(partial.description, scenario.update.description, "keys not given stay");

        const again = await connections.complete(tag, step.complete_blank, { validate: true });
        results.push(again);
        assert.equal(again.credentials.revision, 2);
        assert.equal(again.lastValidation?.trigger, "complete", "the validation complete() queued");
        const v2 = await connections.validate(tag);
        results.push(v2);
        assert.equal(v2.state, "succeeded", JSON.stringify(v2.error));
        assert.equal(v2.connection.credentials.activeRevision, 2);
        assert.deepEqual(v2.connection.credentials.fields, step.fields, "blank fields keep the stored values");
        assert.deepEqual(v2.connection.credentials.secretFieldsSet, step.secret_fields_set);

        for (const r of results) {
          assert.ok(!JSON.stringify(r).includes(scenario.secret_marker), "no result holds a secret value");
        }
        await connections.delete(tag);
        await expectFailure(connections.fetch(tag), scenario.not_found);
      });
    }

    test(`[${path}] invalid argument names every bad field`, async () => {
      const connections = client(path, freshWorkspace(`sc-inv-${path}`)).cloud.connections;
      const want = scenario.invalid_argument;
      const err = await expectFailure(connections.create(want.create), want);
      assert.deepEqual(
        err.fieldViolations.map((f) => f.field),
        want.field_violations,
      );
    });

    test(`[${path}] not found on every call that names a tag`, async () => {
      const connections = client(path, freshWorkspace(`sc-nf-${path}`)).cloud.connections;
      const nf = scenario.not_found;
      await expectFailure(connections.fetch(nf.tag), nf);
      await expectFailure(connections.complete(nf.tag, nf.complete), nf);
      await expectFailure(connections.validate(nf.tag), nf);
      await expectFailure(connections.update(nf.tag, nf.update), nf);
      await expectFailure(connections.delete(nf.tag), nf);
    });

    test(`[${path}] already exists`, async () => {
      const connections = client(path, freshWorkspace(`sc-ae-${path}`)).cloud.connections;
      await connections.create(scenario.already_exists.create);
      await expectFailure(connections.create(scenario.already_exists.create), scenario.already_exists);
    });

    test(`[${path}] a stale etag is refused on update, complete and delete`, async () => {
      const connections = client(path, freshWorkspace(`sc-etag-${path}`)).cloud.connections;
      const ec = scenario.etag_conflict;
      const created = await connections.create(ec.create);
      const changed = await connections.update(ec.create.name, ec.update, { etag: created.etag });
      const stale = { etag: created.etag };
      await expectFailure(connections.update(ec.create.name, ec.stale_update, stale), ec);
      await expectFailure(connections.complete(ec.create.name, ec.stale_complete, stale), ec);
      await expectFailure(connections.delete(ec.create.name, stale), ec);
      await connections.delete(ec.create.name, { etag: changed.etag });
    });

    test(`[${path}] watch receives the lifecycle events`, async () => {
      const connections = client(path, freshWorkspace(`sc-watch-${path}`)).cloud.connections;
      const w = scenario.watch;
      let ready!: () => void;
      const isReady = new Promise<void>((resolve) => (ready = resolve));
      const seen: ConnectionEvent[] = [];
      const loop = (async () => {
        for await (const e of connections.watch({ tag: w.create.name, onReady: () => ready() })) {
          seen.push(e);
          if (seen.length === w.events.length) {
            break;
          }
        }
      })();
      await within(10_000, "watch ready", isReady);
      await connections.create(w.create);
      await connections.complete(w.create.name, w.complete);
      assert.equal((await connections.validate(w.create.name)).state, "succeeded");
      await connections.update(w.create.name, w.update);
      await connections.delete(w.create.name);
      await within(10_000, "the events", loop);
      assert.deepEqual(
        seen.map((e) => e.type),
        w.events,
      );
    });

    test(`[${path}] credentials.issue for every provider, recorded as a consumer`, async () => {
      for (const step of scenario.flow) {
        const cloud = client(path, freshWorkspace(`sc-issue-${path}`)).cloud;
        const tag = step.create.name;
        await cloud.connections.create(step.create);
        await cloud.connections.complete(tag, step.complete);
        assert.equal((await cloud.connections.validate(tag)).state, "succeeded");
        const issued = await cloud.credentials.issue(tag, step.issue);
        assert.equal(issued.tag, tag);
        assert.equal(issued.provider, step.provider);
        assert.equal(issued.scope, step.issue.scope);
        assert.ok(issued.expireTime.getTime() > Date.now(), `expires in the future: ${issued.expireTime.toISOString()}`);
        const kinds: Record<ProviderName, unknown> = {
          aws: issued.aws,
          gcp: issued.gcp,
          azure: issued.azure,
          mongodb_atlas: issued.mongodbAtlas,
          neo4j_aura: issued.neo4jAura,
        };
        for (const [provider, value] of Object.entries(kinds)) {
          assert.equal(value !== undefined, provider === step.provider, `${step.provider}: ${provider} credentials`);
        }
        const fetched = await cloud.connections.fetch(tag);
        assert.deepEqual(
          fetched.consumers.map((c) => c.consumer),
          [step.issue.consumer],
        );
      }
    });
  });
}
