// The credential providers with each cloud's own SDK, against the --dev
// server's provider sandbox: S3 ListBuckets (the session key and token are
// checked), ARM through Azure's pipeline (the audience is checked), Cloud
// Storage through google-auth-library (the OAuth scope is checked), an Atlas
// connection string and an Aura token.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { Agent, createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3ClientConfig } from "@aws-sdk/client-s3";
import type { TokenCredential } from "@azure/core-auth";
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createEmptyPipeline,
  createPipelineRequest,
} from "@azure/core-rest-pipeline";
import { Storage } from "@google-cloud/storage";
import { CloudConnError } from "@cloudconn/sdk";
import { activeConnection, sandbox } from "./sandbox.js";

const CONSUMER = "billing-api/prd";

describe("credential providers with the clouds' SDKs (sandbox)", () => {
  test("aws: S3Client ListBuckets with the provider, which reports the session's expiry", async () => {
    const { aws } = await sandbox();
    const cloud = await activeConnection("aws", "prod_aws", ["storage"]);
    const credentials: S3ClientConfig["credentials"] = cloud.credentials.aws("prod_aws", { scope: "storage", consumer: CONSUMER });
    const s3 = new S3Client({ region: "us-east-1", endpoint: aws, forcePathStyle: true, credentials });
    const out = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(out.Buckets ?? [], []);

    const issued = await cloud.credentials.issue("prod_aws", { scope: "storage", consumer: CONSUMER });
    const identity = await cloud.credentials.aws("prod_aws", { scope: "storage", consumer: CONSUMER })();
    assert.equal(identity.accessKeyId, issued.aws?.accessKeyId, "the server's cached session, through the provider");
    assert.equal(identity.expiration?.getTime(), issued.expireTime.getTime(), "expiration is the session's own");

    // The sandbox refuses a session it did not mint: the test can fail.
    const forged = new S3Client({
      region: "us-east-1",
      endpoint: aws,
      forcePathStyle: true,
      credentials: { accessKeyId: "ASIAFORGED0000000000", secretAccessKey: "x", sessionToken: "y" },
    });
    await assert.rejects(forged.send(new ListBucketsCommand({})), /security token included in the request is invalid/);
  });

  describe("azure: TokenCredential through @azure/core-rest-pipeline's bearer policy", () => {
    // Azure's bearer policy sends tokens over https only, with no setting
    // to allow http (allowInsecureConnection does not reach it): the test
    // puts a TLS front (a certificate made here) before the sandbox's ARM.
    let dir = "";
    let front: ReturnType<typeof createServer> | undefined;
    let frontUrl = "";
    let agent: Agent | undefined;

    before(async () => {
      const { azure } = await sandbox();
      dir = mkdtempSync(join(tmpdir(), "cc-azure-tls-"));
      execFileSync("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      ], { stdio: "ignore" });
      const cert = readFileSync(join(dir, "cert.pem"));
      const target = new URL(azure);
      front = createServer({ key: readFileSync(join(dir, "key.pem")), cert }, (req, res) => {
        const upstream = httpRequest(
          { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        req.pipe(upstream);
      });
      await new Promise<void>((resolve) => front?.listen(0, "127.0.0.1", resolve));
      frontUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
      agent = new Agent({ ca: cert });
    });

    after(() => {
      front?.close();
      agent?.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    async function arm(credential: TokenCredential, scope: string) {
      const pipeline = createEmptyPipeline();
      pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: scope }));
      const sub = "66666666-7777-8888-9999-000000000000";
      const request = createPipelineRequest({ url: `${frontUrl}/subscriptions/${sub}?api-version=2022-12-01` });
      request.agent = agent;
      return pipeline.sendRequest(createDefaultHttpClient(), request);
    }

    test("a functions-scope connection's token reads a subscription from ARM (audience management)", async () => {
      const cloud = await activeConnection("azure", "prod_azure", ["functions"]);
      const credential: TokenCredential = cloud.credentials.azure("prod_azure", { scope: "functions", consumer: CONSUMER });
      const res = await arm(credential, "https://management.azure.com/.default");
      assert.equal(res.status, 200, res.bodyAsText ?? "");
      assert.equal(JSON.parse(res.bodyAsText ?? "{}").subscriptionId, "66666666-7777-8888-9999-000000000000");
      const issued = await cloud.credentials.issue("prod_azure", { scope: "functions", consumer: CONSUMER });
      assert.equal(issued.azure?.audience, "https://management.azure.com");
      const token = await credential.getToken(["https://management.azure.com//.default"]);
      assert.equal(token?.token, issued.azure?.accessToken, "the resource with or without its trailing slash");
      assert.ok((token?.refreshAfterTimestamp ?? 0) < (token?.expiresOnTimestamp ?? 0));
    });

    test("a storage-scope connection refuses a management token, naming both", async () => {
      const cloud = await activeConnection("azure", "prod_azure_st", ["storage"]);
      const credential = cloud.credentials.azure("prod_azure_st", { scope: "storage", consumer: CONSUMER });
      const refused = (e: unknown) =>
        e instanceof CloudConnError &&
        e.code === "INVALID_ARGUMENT" &&
        e.reason === "AUDIENCE_MISMATCH" &&
        e.message.includes("https://management.azure.com/.default") &&
        e.message.includes("https://storage.azure.com/.default");
      await assert.rejects(credential.getToken("https://management.azure.com/.default"), refused);
      await assert.rejects(arm(credential, "https://management.azure.com/.default"), refused);
      const storage = await credential.getToken("https://storage.azure.com/.default");
      assert.ok(storage?.token);
      // ARM itself refuses the storage token: without the check the pipeline would get a 401.
      const direct: TokenCredential = { getToken: async () => storage };
      assert.equal((await arm(direct, "https://management.azure.com/.default")).status, 401);
    });
  });

  test("gcp: @google-cloud/storage lists buckets with the OAuth2Client; tokeninfo shows devstorage.full_control", async () => {
    const { gcp } = await sandbox();
    const cloud = await activeConnection("gcp", "prod_gcp", ["storage"]);
    const authClient = cloud.credentials.gcp("prod_gcp", { scope: "storage", consumer: CONSUMER });
    const storage = new Storage({ authClient, projectId: "acme-prod-123", apiEndpoint: gcp, useAuthWithCustomEndpoint: true });
    const [buckets] = await storage.getBuckets();
    assert.deepEqual(buckets, []);

    const { token } = await authClient.getAccessToken();
    const info = (await (await fetch(`${gcp}/tokeninfo?access_token=${encodeURIComponent(token ?? "")}`)).json()) as { scope: string };
    assert.deepEqual(info.scope.split(" "), ["https://www.googleapis.com/auth/devstorage.full_control"]);

    // Without the provider the sandbox answers 401: the listing above can fail.
    const anonymous = new Storage({ projectId: "acme-prod-123", apiEndpoint: gcp, useAuthWithCustomEndpoint: false });
    await assert.rejects(anonymous.getBuckets());
  });

  test("atlas: a connection string with the temporary user, URL-escaped, for the host named", async () => {
    const cloud = await activeConnection("mongodb_atlas", "prod_atlas", ["database"]);
    const input = { scope: "database", consumer: CONSUMER };
    const uri = await cloud.credentials.atlas("prod_atlas", { ...input, host: "cluster0.abcde.mongodb.net" })();
    const issued = await cloud.credentials.issue("prod_atlas", input);
    const user = issued.mongodbAtlas;
    assert.ok(user && user.password.length > 0);
    const url = new URL(uri);
    assert.equal(url.protocol, "mongodb+srv:");
    assert.equal(url.host, "cluster0.abcde.mongodb.net");
    assert.equal(decodeURIComponent(url.username), user.username);
    assert.equal(decodeURIComponent(url.password), user.password);
    assert.equal(url.searchParams.get("authSource"), "admin");
    assert.ok(uri.includes(`:${encodeURIComponent(user.password)}@`));
    const seeded = await cloud.credentials.atlas("prod_atlas", { ...input, host: "10.0.0.5:27017" })();
    assert.ok(seeded.startsWith("mongodb://"), "a host:port is not an SRV name");
  });

  test("aura: the token function's token lists tenants at the sandbox's Aura API", async () => {
    const { aura } = await sandbox();
    const cloud = await activeConnection("neo4j_aura", "prod_aura", ["database"]);
    const token = cloud.credentials.aura("prod_aura", { scope: "database", consumer: CONSUMER });
    const res = await fetch(`${aura}/v1/tenants`, { headers: { authorization: `Bearer ${await token()}` } });
    assert.equal(res.status, 200);
    const wrong = await fetch(`${aura}/v1/tenants`, { headers: { authorization: "Bearer not-a-token" } });
    assert.equal(wrong.status, 401);
  });
});
