// What a browser needs beyond gRPC-Web itself: a CORS preflight the server
// answers for an allowed origin (scripts/test.sh sets CLOUDCONN_CORS_ORIGINS),
// and a browser build that refuses plain gRPC.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CloudConn as BrowserCloudConn } from "@cloudconn/sdk/browser";
import { CloudConnError } from "@cloudconn/sdk";
import { ADDRESS } from "./helpers.js";

const ORIGIN = process.env["CLOUDCONN_TEST_CORS_ORIGIN"] ?? "http://localhost:5173";

test("[browser] the server answers a CORS preflight for gRPC-Web from an allowed origin", async () => {
  const res = await fetch(`${ADDRESS}/cloudconn.v1.ConnectionService/ListConnections`, {
    method: "OPTIONS",
    headers: {
      Origin: ORIGIN,
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": "authorization,content-type,x-grpc-web,x-user-agent,grpc-timeout",
    },
  });
  assert.ok(res.status >= 200 && res.status < 300, `preflight status ${res.status}`);
  assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN);
  const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
  for (const h of ["authorization", "content-type", "x-grpc-web"]) {
    assert.ok(allowed === "*" || allowed.includes(h), `preflight allows ${h}: ${allowed}`);
  }
});

test("[browser] the browser build refuses plain gRPC", () => {
  assert.throws(
    () => new BrowserCloudConn({ address: ADDRESS, token: "t", workspace: "acme", transport: "grpc" }),
    (e: unknown) => e instanceof CloudConnError && e.fieldViolations[0]?.field === "transport",
  );
});
