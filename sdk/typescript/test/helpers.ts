// Shared by the tests: the server scripts/test.sh started, clients over each
// transport, and well-formed credentials for each provider.

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { CloudConn } from "@cloudconn/sdk";
import { CloudConn as BrowserCloudConn } from "@cloudconn/sdk/browser";
import type { CredentialsInput, ProviderName, ValidationResult } from "@cloudconn/sdk";

function env(name: string): string {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the tests through scripts/test.sh, which starts the server`);
  }
  return v;
}

export const ADDRESS = env("CLOUDCONN_TEST_ADDRESS");
export const TOKEN = env("CLOUDCONN_TEST_TOKEN");

/**
 * How a test reaches the server: Node over gRPC (HTTP/2), Node over gRPC-Web
 * (HTTP/1.1), and the browser build (gRPC-Web over fetch, run here on Node's
 * fetch).
 */
export type Path = "grpc" | "grpc-web" | "browser";
export const PATHS: readonly Path[] = ["grpc", "grpc-web", "browser"];

export type AnyCloudConn = CloudConn | BrowserCloudConn;

let workspaceSeq = 0;

/** A workspace no other test uses, so tests never see each other's connections. */
export function freshWorkspace(label: string): string {
  workspaceSeq += 1;
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 40);
  return `t${process.pid}-${workspaceSeq}-${slug}`.slice(0, 63);
}

export function client(path: Path, workspace: string, token = TOKEN): AnyCloudConn {
  if (path === "browser") {
    return new BrowserCloudConn({ address: ADDRESS, token, workspace });
  }
  return new CloudConn({ address: ADDRESS, token, workspace, transport: path });
}

export const PROVIDERS: readonly ProviderName[] = ["aws", "gcp", "azure", "mongodb_atlas", "neo4j_aura"];

export function scopesFor(provider: ProviderName): string[] {
  return provider === "mongodb_atlas" || provider === "neo4j_aura" ? ["database"] : ["storage", "database"];
}

const gcpKey = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
}).privateKey;

/** A service account key file; the sandbox steers on the client_email's local part. */
export function serviceAccountJson(localPart: string, marker: string): string {
  return JSON.stringify({
    type: "service_account",
    project_id: "acme-prod-123",
    private_key_id: `0123456789abcdef-${marker}`,
    private_key: gcpKey,
    client_email: `${localPart}@acme-prod-123.iam.gserviceaccount.com`,
    client_id: "100000000000000000001",
  });
}

/**
 * Complete credentials for `provider`. `steer` is the sandbox's word
 * ("sandbox-denied", …) or anything else for success; every secret carries
 * `marker`, so a test can check no result ever holds it.
 */
export function credentials(provider: ProviderName, marker: string, steer = "ok"): CredentialsInput {
  const secret = steer === "ok" ? `secret-${marker}` : steer;
  switch (provider) {
    case "aws":
      return { role_arn: `arn:aws:iam::123456789012:role/${steer === "ok" ? "DuctapeAccess" : steer}` };
    case "gcp":
      return {
        project_id: "acme-prod-123",
        service_account_json: serviceAccountJson(steer === "ok" ? "cloudconn" : steer, marker),
      };
    case "azure":
      return {
        tenant_id: "11111111-2222-3333-4444-555555555555",
        subscription_id: "66666666-7777-8888-9999-000000000000",
        client_id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        client_secret: secret,
      };
    case "mongodb_atlas":
      return { project_id: "5f1b2c3d4e5f6a7b8c9d0e1f", atlas_public_key: "abcdefgh", atlas_private_key: secret };
    case "neo4j_aura":
      return { aura_client_id: "aura-client-1", aura_client_secret: secret };
  }
}

/** The same credentials with every secret blank (the server keeps the stored ones). */
export function blankSecrets(provider: ProviderName, creds: CredentialsInput): CredentialsInput {
  const secrets: Record<ProviderName, string[]> = {
    aws: [],
    gcp: ["service_account_json"],
    azure: ["client_secret"],
    mongodb_atlas: ["atlas_private_key"],
    neo4j_aura: ["aura_client_secret"],
  };
  const copy: Record<string, string> = { ...(creds as Record<string, string>) };
  for (const key of secrets[provider]) {
    copy[key] = "";
  }
  return copy;
}

/** Resolves with the promise's value, or rejects after `ms`. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The re-validation interval the server runs with: scripts/test.sh passes
 * its environment on, and the server's default is a day.
 */
const REVALIDATE_INTERVAL_MS = Number(process.env.CLOUDCONN_REVALIDATE_INTERVAL_MS ?? 86_400_000);

/**
 * After a successful validation the connection is scheduled one interval
 * (± 10 %) after the outcome, or not at all when the schedule is off.
 */
export function assertScheduledAfter(v: ValidationResult): void {
  const next = v.connection.nextValidationTime;
  if (REVALIDATE_INTERVAL_MS === 0) {
    assert.equal(next, undefined, "re-validation is off: nothing is scheduled");
    return;
  }
  assert.ok(next instanceof Date && v.endTime instanceof Date, `scheduled after the outcome: ${String(next)}`);
  const after = next.getTime() - v.endTime.getTime();
  const slack = 5_000;
  assert.ok(
    after >= REVALIDATE_INTERVAL_MS * 0.9 - slack && after <= REVALIDATE_INTERVAL_MS * 1.1 + slack,
    `next validation ${next.toISOString()} is not an interval (${REVALIDATE_INTERVAL_MS} ms ± 10 %) after ${v.endTime.toISOString()}`,
  );
}
