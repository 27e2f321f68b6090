// Which transport an address means, seen from the wire: a listener that
// answers nothing records what each connection sends first. A bare
// host:port whose host is not loopback as written must open with a TLS
// ClientHello (never an HTTP request carrying the token); loopback and
// http:// stay plaintext.

import assert from "node:assert/strict";
import { lookup } from "node:dns/promises";
import { createServer, isIP, type AddressInfo, type Server } from "node:net";
import { hostname } from "node:os";
import { test } from "node:test";
import { CloudConn } from "@cloudconn/sdk";
import type { TransportKind } from "@cloudconn/sdk";

const CANARY = `REAL-TOKEN-CANARY-${process.pid}-${Date.now()}`;

/**
 * A name for this machine that the SDK cannot tell is loopback (it reads the
 * host as written and never resolves it) but that resolves to loopback only,
 * and the address to listen on: a listener there stands for "a server
 * elsewhere" while every byte stays on this machine. Debian's /etc/hosts maps
 * the hostname to 127.0.1.1. Without such a name the test fails rather than
 * fall back to an address off loopback, which tests must not send to.
 */
async function loopbackAlias(): Promise<{ name: string; ip: string }> {
  const name = hostname();
  const resolved = await lookup(name, { all: true }).catch(() => []);
  const ok =
    resolved.length > 0 &&
    name.toLowerCase() !== "localhost" &&
    isIP(name) === 0 &&
    resolved.every((a) => (a.family === 4 ? a.address.startsWith("127.") : a.address === "::1"));
  assert.ok(
    ok,
    "this test needs the hostname to be a name other than localhost that resolves to loopback only, as " +
      `Debian's /etc/hosts line \`127.0.1.1 ${name}\` makes it; ${name} resolves to ${JSON.stringify(resolved)}`,
  );
  return { name, ip: resolved[0]!.address };
}

/**
 * Listens on `host` and answers nothing; keeps what each connection sends
 * until it pauses for 300 ms (its first bytes may take longer on a loaded
 * machine), then closes it.
 */
async function recorder(host: string): Promise<{ server: Server; port: number; received: Promise<Buffer>[] }> {
  const received: Promise<Buffer>[] = [];
  const server = createServer((socket) => {
    const chunks: Buffer[] = [];
    received.push(
      new Promise((resolve) => {
        let timer = setTimeout(done, 5_000);
        function done() {
          resolve(Buffer.concat(chunks));
          socket.destroy();
        }
        socket.on("data", (c: Buffer) => {
          chunks.push(c);
          clearTimeout(timer);
          timer = setTimeout(done, 300);
        });
        socket.on("error", () => {});
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, received };
}

/** One call to `address` (it fails: nothing answers); what the listener got. */
async function firstBytes(host: string, address: (port: number) => string, transport: TransportKind): Promise<Buffer[]> {
  const rec = await recorder(host);
  try {
    const client = new CloudConn({ address: address(rec.port), token: CANARY, workspace: "acme", transport, timeoutMs: 10_000 });
    await assert.rejects(client.providers());
    return await Promise.all(rec.received);
  } finally {
    rec.server.close();
  }
}

for (const transport of ["grpc", "grpc-web"] as const) {
  test(`[${transport}] a bare host:port of another machine gets TLS, never the token in clear`, async () => {
    const { name, ip } = await loopbackAlias();
    const seen = await firstBytes(ip, (port) => `${name}:${port}`, transport);
    assert.ok(seen.length > 0, "the client connected");
    for (const bytes of seen) {
      assert.deepEqual([...bytes.subarray(0, 2)], [0x16, 0x03], `a TLS handshake first, not ${JSON.stringify(bytes.subarray(0, 16).toString())}`);
      assert.ok(!bytes.includes(CANARY), "the token crossed the network in clear");
    }
  });

  test(`[${transport}] loopback host:port and http:// are plaintext`, async () => {
    const { name, ip } = await loopbackAlias();
    for (const [host, address] of [
      ["127.0.0.1", (port: number) => `127.0.0.1:${port}`],
      [ip, (port: number) => `http://${name}:${port}`],
    ] as const) {
      const seen = await firstBytes(host, address, transport);
      const first = seen[0]?.toString("latin1") ?? "";
      const plaintext = transport === "grpc" ? first.startsWith("PRI * HTTP/2.0") : first.startsWith("POST /");
      assert.ok(plaintext, `${address(1)}: plaintext, got ${JSON.stringify(first.slice(0, 16))}`);
    }
  });
}

test("an address with another scheme is refused, naming the field", () => {
  assert.throws(
    () => new CloudConn({ address: "ftp://cloudconn.example.com", token: "t", workspace: "acme" }),
    (e: unknown) => e instanceof Error && "fieldViolations" in e && JSON.stringify(e.fieldViolations).includes("address"),
  );
});
