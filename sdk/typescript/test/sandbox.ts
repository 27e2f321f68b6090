// The --dev server's provider sandbox (sandbox/src), for the credential
// providers' tests to send the clouds' own SDKs to. The server announces no
// sandbox address: its stand-ins listen on loopback ports of the server's
// process, found here from /proc and told apart by how each answers.

import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { ADDRESS, client, credentials, freshWorkspace } from "./helpers.js";
import type { ProviderName } from "@cloudconn/sdk";

export interface SandboxUrls {
  aws: string;
  gcp: string;
  azure: string;
  aura: string;
}

/** Loopback TCP ports the process `pid` listens on. */
function listeningPorts(pid: string): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      const [local, state, inode] = [f[1], f[3], f[9]];
      if (local && state === "0A" && inode && inodes.has(inode)) {
        ports.push(parseInt(local.split(":")[1] ?? "0", 16));
      }
    }
  }
  return ports;
}

async function answer(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

let found: Promise<SandboxUrls> | undefined;

export function sandbox(): Promise<SandboxUrls> {
  found ??= discover();
  return found;
}

async function discover(): Promise<SandboxUrls> {
  const pid = process.env.CLOUDCONN_TEST_SERVER_PID;
  if (!pid) throw new Error("CLOUDCONN_TEST_SERVER_PID is not set: run the tests through scripts/test.sh");
  const own = Number(new URL(ADDRESS).port);
  const urls: Partial<SandboxUrls> = {};
  for (const port of listeningPorts(pid).filter((p) => p !== own)) {
    const base = `http://127.0.0.1:${port}`;
    const tokeninfo = await answer(`${base}/tokeninfo`);
    if (tokeninfo.body.includes("MissingAuthenticationToken")) urls.aws = base;
    else if (tokeninfo.status === 400 && tokeninfo.body.includes("invalid_token")) urls.gcp = base;
    else if ((await answer(`${base}/subscriptions/x?api-version=1`)).body.includes("InvalidAuthenticationToken")) urls.azure = base;
    else if ((await answer(`${base}/v1/tenants`)).status === 401) urls.aura = base;
  }
  const { aws, gcp, azure, aura } = urls;
  if (!aws || !gcp || !azure || !aura) {
    throw new Error(`found only ${JSON.stringify(urls)} of the sandbox among the server's ports`);
  }
  return { aws, gcp, azure, aura };
}

/** An ACTIVE connection in a workspace of its own; returns its client's `cloud`. */
export async function activeConnection(provider: ProviderName, tag: string, scopes: string[], marker = "canary") {
  const cloud = client("grpc", freshWorkspace(`prov-${tag}`)).cloud;
  await cloud.connections.create({ provider, name: tag, scopes });
  await cloud.connections.complete(tag, credentials(provider, marker));
  const v = await cloud.connections.validate(tag);
  if (v.state !== "succeeded") throw new Error(`${tag} did not validate: ${JSON.stringify(v.error)}`);
  return cloud;
}
