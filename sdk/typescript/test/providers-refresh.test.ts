// The refreshing holder under a clock the test moves, against the real
// server: no call before the refresh point, one new credential past it,
// one call for many concurrent callers, never an expired credential, the
// held one kept through an outage, a refusal raised with its reason. And
// bad arguments refused when a provider is made.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CloudConnError, CredentialRefresher, EXPIRY_MARGIN_MS } from "@cloudconn/sdk";
import type { IssuedCredentials } from "@cloudconn/sdk";
import { activeConnection } from "./sandbox.js";

const INPUT = { scope: "storage", consumer: "refresh-test" };

/** A clock the test sets, starting at the real time (the server's credentials carry real expiry times). */
function testClock() {
  let offset = 0;
  const start = Date.now();
  return {
    now: () => start + offset,
    set: (at: number) => {
      offset = at - start;
    },
  };
}

/** Counts the IssueCredentials calls the holder makes; `fail` makes the next ones throw instead. */
function counting(issue: () => Promise<IssuedCredentials>) {
  const c = { calls: 0, fail: undefined as CloudConnError | undefined, issue: async () => {
    c.calls += 1;
    if (c.fail) throw c.fail;
    return issue();
  } };
  return c;
}

/** An ACTIVE AWS connection, and a holder on it whose clock and calls the test controls. */
async function setup() {
  const cloud = await activeConnection("aws", "prod_aws", ["storage"]);
  const clock = testClock();
  const issue = counting(() => cloud.credentials.issue("prod_aws", INPUT));
  const holder = new CredentialRefresher(issue.issue, "prod_aws/storage", { now: clock.now });
  return { cloud, clock, issue, holder };
}

const unavailable = () => new CloudConnError({ code: "UNAVAILABLE", reason: "WORKERS_UNAVAILABLE", message: "no worker answered" });

describe("credential refresh (injected clock, real server)", () => {
  test("no call before the refresh point; one new credential past it, for many concurrent callers", async () => {
    const { clock, issue, holder } = await setup();

    const first = await holder.get();
    assert.equal(issue.calls, 1);
    const lifetime = first.expiresAt - first.receivedAt;
    assert.ok(lifetime > 14 * 60_000, `a 15-minute session: ${lifetime} ms`);
    // Served until 25–30 % of what was received is left.
    assert.ok(first.refreshAt >= first.expiresAt - lifetime * 0.3, `refreshAt ${first.refreshAt - first.expiresAt}`);
    assert.ok(first.refreshAt <= first.expiresAt - lifetime * 0.25, `refreshAt ${first.refreshAt - first.expiresAt}`);

    // (a) Just before the refresh point: the held credential, no call.
    clock.set(first.refreshAt - 1);
    for (let i = 0; i < 5; i++) assert.equal(await holder.get(), first);
    await Promise.all(Array.from({ length: 20 }, () => holder.get()));
    assert.equal(issue.calls, 1, "no IssueCredentials call before the refresh point");

    // (b, c) Past it, still well before expiry: 25 concurrent callers, one call.
    clock.set(first.refreshAt + 1);
    const all = await Promise.all(Array.from({ length: 25 }, () => holder.get()));
    assert.equal(issue.calls, 2, "25 callers past the refresh point share one call");
    const second = all[0];
    assert.ok(second && all.every((h) => h === second), "every caller gets the same new credential");
    assert.notEqual(second, first);
    assert.equal(second.receivedAt, first.refreshAt + 1);
    assert.ok(second.expiresAt - EXPIRY_MARGIN_MS > clock.now(), "fetched before expiry");
    // Its refresh point is measured from when it was received.
    const left = second.expiresAt - second.receivedAt;
    assert.ok(second.refreshAt >= second.expiresAt - left * 0.3 && second.refreshAt <= second.expiresAt - left * 0.25);
    assert.equal(await holder.get(), second);
    assert.equal(issue.calls, 2);
  });

  test("never an expired credential; an outage keeps the held one only while it is valid", async () => {
    const { clock, issue, holder } = await setup();
    const first = await holder.get();

    // Past the refresh point, the server unavailable: the held one, still valid, is served.
    issue.fail = unavailable();
    clock.set(first.refreshAt + 1000);
    assert.equal(await holder.get(), first);
    assert.equal(issue.calls, 2, "it did try");
    assert.equal(await holder.get(), first);
    assert.equal(issue.calls, 3, "and tries again on the next call");

    // Within the margin of expiry: the outage's error, never the credential.
    clock.set(first.expiresAt - EXPIRY_MARGIN_MS + 1);
    await assert.rejects(holder.get(), (e: unknown) => e instanceof CloudConnError && e.code === "UNAVAILABLE");

    // The server answers again, but its credential (the same cached one: it
    // is fresh by the server's clock) is expired by ours: refused, not served.
    issue.fail = undefined;
    clock.set(first.expiresAt + 60_000);
    await assert.rejects(
      holder.get(),
      (e: unknown) => e instanceof CloudConnError && e.reason === "CREDENTIALS_EXPIRED" && !e.message.includes(first.issued.aws?.secretAccessKey ?? "?"),
    );
    // Back at a sane time, a valid one comes again.
    clock.set(first.receivedAt + 1000);
    const again = await holder.get();
    assert.ok(again.expiresAt - EXPIRY_MARGIN_MS > clock.now());
  });

  test("any other error drops the held credential; a deleted connection surfaces as CONNECTION_NOT_FOUND", async () => {
    const { cloud, clock, issue, holder } = await setup();
    const first = await holder.get();

    issue.fail = new CloudConnError({ code: "PERMISSION_DENIED", reason: "PERMISSION_DENIED", message: "no connections:use" });
    clock.set(first.refreshAt + 1);
    await assert.rejects(holder.get(), (e: unknown) => e instanceof CloudConnError && e.code === "PERMISSION_DENIED");
    // Dropped: even before the old refresh point, the next call asks again.
    issue.fail = undefined;
    clock.set(first.receivedAt);
    const calls = issue.calls;
    await holder.get();
    assert.equal(issue.calls, calls + 1, "the dropped credential is not served again");

    // Through the public entry point and the server's own refusal.
    const credentials = cloud.credentials.aws("prod_aws", INPUT, { now: clock.now });
    const held = await credentials();
    await cloud.connections.delete("prod_aws");
    assert.equal((await credentials()).accessKeyId, held.accessKeyId, "before the refresh point, the held one");
    clock.set((held.expiration?.getTime() ?? 0) - 60_000);
    await assert.rejects(
      credentials(),
      (e: unknown) => e instanceof CloudConnError && e.code === "NOT_FOUND" && e.reason === "CONNECTION_NOT_FOUND",
    );
    clock.set(first.receivedAt);
    await assert.rejects(credentials(), (e: unknown) => e instanceof CloudConnError && e.reason === "CONNECTION_NOT_FOUND", "dropped, asked again");
  });

  test("bad arguments fail when the provider is made, naming the field", async () => {
    const cloud = await activeConnection("neo4j_aura", "prod_aura", ["database"]);
    const c = cloud.credentials;
    const field = (name: string) => (e: unknown) =>
      e instanceof CloudConnError && e.code === "INVALID_ARGUMENT" && e.fieldViolations[0]?.field === name;
    const ok = { scope: "database", consumer: "x" };
    assert.throws(() => c.aws("", ok), field("tag"));
    assert.throws(() => c.azure("prod_aura", { consumer: "x" } as never), field("scope"));
    assert.throws(() => c.gcp("prod_aura", { scope: "database" } as never), field("consumer"));
    assert.throws(() => c.aura("prod_aura", { ...ok, ttl_seconds: -1 }), field("ttl_seconds"));
    assert.throws(() => c.aura("prod_aura", { ...ok, ttl_seconds: 1.5 }), field("ttl_seconds"));
    assert.throws(() => c.atlas("prod_aura", ok as never), field("host"));
    assert.throws(() => c.atlas("prod_aura", { ...ok, host: "mongodb+srv://u:p@x" }), field("host"));
    assert.throws(() => c.aws("prod_aura", { ...ok, scopes: ["x"] } as never), field("scopes"));
    // A provider of the wrong cloud says so at first use.
    await assert.rejects(c.aws("prod_aura", ok)(), (e: unknown) => e instanceof CloudConnError && e.reason === "WRONG_PROVIDER");
  });
});
