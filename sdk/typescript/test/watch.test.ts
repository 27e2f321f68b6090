// watch() is an async iterator of live events, over every path.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CloudConnError } from "@cloudconn/sdk";
import type { ConnectionEvent } from "@cloudconn/sdk";
import { PATHS, client, freshWorkspace, within } from "./helpers.js";

for (const path of PATHS) {
  describe(`[${path}] watch`, () => {
    test(`[${path}] watch() sees a change made after it is ready`, async () => {
      const workspace = freshWorkspace(`watch-${path}`);
      const connections = client(path, workspace).cloud.connections;
      let ready!: () => void;
      const isReady = new Promise<void>((resolve) => (ready = resolve));
      const events = connections.watch({ onReady: () => ready() });
      const first = events.next();
      await within(10_000, "watch ready", isReady);
      await connections.create({ provider: "aws", name: "watched", scopes: ["storage"] });
      const created = await within(10_000, "created event", first);
      assert.equal(created.done, false);
      const e = created.value as ConnectionEvent;
      assert.equal(e.type, "cloudconn.connection.created.v1");
      assert.equal(e.connection?.tag, "watched");
      assert.equal(e.connection?.status, "pending");
      assert.ok(e.id.length > 0 && e.time instanceof Date);

      await connections.update("watched", { display_name: "Watched" });
      const updated = await within(10_000, "updated event", events.next());
      assert.equal(updated.value?.type, "cloudconn.connection.updated.v1");
      assert.equal(updated.value?.connection?.displayName, "Watched");
      await events.return(undefined); // what `break` does in a for-await loop
    });

    test(`[${path}] watch({ tag }) sees only that connection; for-await and break`, async () => {
      const workspace = freshWorkspace(`watchtag-${path}`);
      const connections = client(path, workspace).cloud.connections;
      await connections.create({ provider: "aws", name: "one", scopes: ["storage"] });
      await connections.create({ provider: "aws", name: "two", scopes: ["storage"] });
      let ready!: () => void;
      const isReady = new Promise<void>((resolve) => (ready = resolve));
      const seen: ConnectionEvent[] = [];
      const loop = (async () => {
        for await (const e of connections.watch({ tag: "two", onReady: () => ready() })) {
          seen.push(e);
          if (e.connection?.description === "watched") {
            break;
          }
        }
      })();
      await within(10_000, "watch ready", isReady);
      await connections.update("one", { description: "not watched" });
      await connections.update("two", { description: "watched" });
      await within(10_000, "the loop", loop);
      // The creations may still be on their way from the outbox when the
      // watch starts, so "two"'s own may come first; "one"'s never do.
      assert.ok(seen.length >= 1);
      assert.ok(
        seen.every((e) => e.connection?.tag === "two"),
        seen.map((e) => `${e.type} ${e.connection?.tag}`).join(", "),
      );
      assert.equal(seen.at(-1)?.type, "cloudconn.connection.updated.v1");
    });

    test(`[${path}] an aborted signal ends the loop quietly`, async () => {
      const connections = client(path, freshWorkspace(`watchabort-${path}`)).cloud.connections;
      const controller = new AbortController();
      let ready!: () => void;
      const isReady = new Promise<void>((resolve) => (ready = resolve));
      const loop = (async () => {
        let n = 0;
        for await (const _ of connections.watch({ signal: controller.signal, onReady: () => ready() })) {
          n += 1;
        }
        return n;
      })();
      await within(10_000, "watch ready", isReady);
      controller.abort();
      assert.equal(await within(10_000, "the loop to end", loop), 0);
    });

    test(`[${path}] a refused watch throws a CloudConnError from the loop`, async () => {
      const connections = client(path, freshWorkspace(`watchauth-${path}`), "not-a-token").cloud.connections;
      const err = await within(10_000, "the refusal", connections.watch().next()).then(
        () => assert.fail("the watch was not refused"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof CloudConnError, String(err));
      assert.equal(err.code, "UNAUTHENTICATED", err.message);
      assert.equal(err.reason, "UNAUTHENTICATED", err.message);
    });
  });
}
