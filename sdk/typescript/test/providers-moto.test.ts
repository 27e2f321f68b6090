// The AWS provider with the AWS SDK against moto with IAM enforced: the
// fixture (sdk_moto_start in sdk/scripts/lib.sh) runs a second server whose
// AWS is a private moto that checks every request's SigV4 signature and
// policies, so only the session cloudconn minted for the connection gets in.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { AwsCredentialIdentityProvider } from "@cloudconn/sdk";
import { CloudConn } from "@cloudconn/sdk";

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through scripts/test.sh (sdk_moto_start)`);
  return v;
}

function s3(credentials: AwsCredentialIdentityProvider | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  return new S3Client({ region: "us-east-1", endpoint: env("CLOUDCONN_TEST_MOTO_ENDPOINT"), forcePathStyle: true, credentials });
}

describe("aws provider against moto (IAM enforced)", () => {
  test("CreateBucket, PutObject, ListBuckets, GetObject with the provider; a wrong secret is refused", async () => {
    const cloudconn = new CloudConn({
      address: env("CLOUDCONN_TEST_MOTO_ADDRESS"),
      token: env("CLOUDCONN_TEST_MOTO_TOKEN"),
      workspace: env("CLOUDCONN_TEST_MOTO_WORKSPACE"),
    });
    const tag = env("CLOUDCONN_TEST_MOTO_TAG");
    const credentials = cloudconn.cloud.credentials.aws(tag, { scope: "storage", consumer: "moto-test" });
    const client = s3(credentials);
    const bucket = `cc-ts-${process.pid}-${Date.now()}`;
    const body = `hello from the TypeScript SDK ${bucket} ✓`;

    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: "greeting.txt", Body: body }));
    const listed = await client.send(new ListBucketsCommand({}));
    assert.ok(listed.Buckets?.some((b) => b.Name === bucket), JSON.stringify(listed.Buckets));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "greeting.txt" }));
    assert.equal(await got.Body?.transformToString(), body);

    // The session's key with another secret: moto checks the signature.
    const real = await credentials();
    assert.ok(real.sessionToken && real.expiration && real.expiration.getTime() > Date.now());
    const forged = s3({ accessKeyId: real.accessKeyId, secretAccessKey: `${real.secretAccessKey}x`, sessionToken: real.sessionToken });
    await assert.rejects(forged.send(new ListBucketsCommand({})), (e: unknown) => e instanceof Error && e.name === "SignatureDoesNotMatch");
  });
});
