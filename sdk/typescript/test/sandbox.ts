// The --dev server's provider sandbox (sandbox/src), for the credential
// providers' tests to send the clouds' own SDKs to: where its stand-ins
// listen, from the client file the server writes (scripts/test.sh exports
// them as CLOUDCONN_TEST_SANDBOX_<PROVIDER>).

import { client, credentials, freshWorkspace } from "./helpers.js";
import type { ProviderName } from "@cloudconn/sdk";

export interface SandboxUrls {
  aws: string;
  gcp: string;
  azure: string;
  aura: string;
}

function url(provider: string): string {
  const name = `CLOUDCONN_TEST_SANDBOX_${provider}`;
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through scripts/test.sh`);
  return v;
}

export async function sandbox(): Promise<SandboxUrls> {
  return { aws: url("AWS"), gcp: url("GCP"), azure: url("AZURE"), aura: url("NEO4J_AURA") };
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
