// cloudconn.cloud.credentials: the run step (docs/run.md). Short-lived,
// least-privilege credentials for one scope of an ACTIVE connection; the
// token needs the `connections:use` scope.

import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { CallContext } from "./client.js";
import type { AccessToken as AccessTokenMessage, IssuedCredentials as IssuedMessage } from "./gen/cloudconn/v1/issued_credentials_pb.js";
import { providerWord, rejectUnknownKeys } from "./convert.js";
import { invalidArgument, toCloudConnError } from "./errors.js";
import type { AccessToken, AtlasProviderInput, IssueCredentialsInput, IssuedCredentials } from "./types.js";
import type { AwsCredentialIdentityProvider } from "./providers/aws.js";
import { awsProvider } from "./providers/aws.js";
import type { AzureTokenCredential } from "./providers/azure.js";
import { azureProvider } from "./providers/azure.js";
import type { ConnectionStringFunction } from "./providers/atlas.js";
import { atlasProvider } from "./providers/atlas.js";
import type { BearerTokenFunction } from "./providers/aura.js";
import { auraProvider } from "./providers/aura.js";
import type { OAuth2Client } from "google-auth-library";
import { gcpProvider } from "./providers/gcp.js";
import type { ProviderOptions } from "./providers/refresh.js";
import { CredentialRefresher } from "./providers/refresh.js";

const ISSUE_KEYS = ["scope", "consumer", "ttl_seconds"] as const;
const ATLAS_KEYS = [...ISSUE_KEYS, "host"] as const;

export class Credentials {
  readonly #ctx: CallContext;

  constructor(ctx: CallContext) {
    this.#ctx = ctx;
  }

  /**
   * Credentials for `input.scope` of the connection, for the component named
   * by `input.consumer` (audited, and shown on the connection). The server
   * serves the same ones again while a third of their lifetime remains, so
   * calling this before every use is cheap; ask again after `expireTime`.
   */
  async issue(tag: string, input: IssueCredentialsInput): Promise<IssuedCredentials> {
    const { client, workspace, timeoutMs } = this.#ctx;
    try {
      rejectUnknownKeys(input, ISSUE_KEYS, "issue()'s input");
      const ttl = input.ttl_seconds ?? 0;
      if (!Number.isInteger(ttl) || ttl < 0) {
        throw invalidArgument("ttl_seconds", "must be a whole number of seconds, 0 or more (0: 15 minutes)");
      }
      const res = await client.issueCredentials(
        { workspace, tag, scope: input.scope, consumer: input.consumer, ttl: { seconds: BigInt(ttl), nanos: 0 } },
        { timeoutMs },
      );
      return issued(res);
    } catch (err) {
      throw toCloudConnError(err);
    }
  }

  // The providers below are Node's (the browser build has them too, but a
  // page should not hold cloud credentials). Each holds one credential and
  // refreshes it when 25–30 % of what it received is left (README,
  // "Credential providers"); bad arguments fail here, not at first use.

  /** An AWS SDK v3 credentials provider: `new S3Client({ region, credentials: cloudconn.cloud.credentials.aws(tag, input) })`. */
  aws(tag: string, input: IssueCredentialsInput, options?: ProviderOptions): AwsCredentialIdentityProvider {
    return awsProvider(...this.#holder(tag, input, ISSUE_KEYS, options));
  }

  /** An Azure `TokenCredential` for the connection scope's audience (`<audience>/.default`). */
  azure(tag: string, input: IssueCredentialsInput, options?: ProviderOptions): AzureTokenCredential {
    return azureProvider(...this.#holder(tag, input, ISSUE_KEYS, options));
  }

  /** A google-auth-library `OAuth2Client` to pass as `authClient` (google-auth-library must be installed). */
  gcp(tag: string, input: IssueCredentialsInput, options?: ProviderOptions): OAuth2Client {
    return gcpProvider(...this.#holder(tag, input, ISSUE_KEYS, options));
  }

  /** A function answering a MongoDB connection string for `input.host` with a temporary database user. */
  atlas(tag: string, input: AtlasProviderInput, options?: ProviderOptions): ConnectionStringFunction {
    const { host, ...issueInput } = input ?? {};
    const held = this.#holder(tag, input, ATLAS_KEYS, options, issueInput);
    if (typeof host !== "string" || !/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$/.test(host)) {
      throw invalidArgument("host", "must be the cluster's host name (e.g. cluster0.abcde.mongodb.net), or host:port");
    }
    return atlasProvider(...held, host);
  }

  /** A function answering a Neo4j Aura API bearer token. */
  aura(tag: string, input: IssueCredentialsInput, options?: ProviderOptions): BearerTokenFunction {
    return auraProvider(...this.#holder(tag, input, ISSUE_KEYS, options));
  }

  /** Checks what `issue` would refuse, now rather than at first use, and makes the holder. */
  #holder(
    tag: string,
    input: object,
    keys: readonly string[],
    options: ProviderOptions | undefined,
    issueInput: IssueCredentialsInput = input as IssueCredentialsInput,
  ): [CredentialRefresher, string] {
    if (typeof tag !== "string" || tag === "") {
      throw invalidArgument("tag", "must be a connection's tag");
    }
    if (typeof input !== "object" || input === null) {
      throw invalidArgument("input", "must be { scope, consumer, ttl_seconds? }");
    }
    rejectUnknownKeys(input, keys, "a credential provider's input");
    for (const key of ["scope", "consumer"] as const) {
      const value: unknown = issueInput[key];
      if (typeof value !== "string" || value === "") {
        throw invalidArgument(key, "must be a non-empty string");
      }
    }
    const ttl: unknown = issueInput.ttl_seconds ?? 0;
    if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 0) {
      throw invalidArgument("ttl_seconds", "must be a whole number of seconds, 0 or more (0: 15 minutes)");
    }
    const label = `${tag}/${issueInput.scope} for ${issueInput.consumer}`;
    const frozen: IssueCredentialsInput = { scope: issueInput.scope, consumer: issueInput.consumer, ttl_seconds: ttl };
    return [new CredentialRefresher(() => this.issue(tag, frozen), label, options), label];
  }
}

function accessToken(t: AccessTokenMessage): AccessToken {
  return { accessToken: t.accessToken, tokenType: t.tokenType, scopes: [...t.scopes], audience: t.audience };
}

function issued(m: IssuedMessage): IssuedCredentials {
  const out: IssuedCredentials = {
    tag: m.tag,
    provider: providerWord(m.provider),
    scope: m.scope,
    revision: Number(m.revision),
    expireTime: m.expireTime ? timestampDate(m.expireTime) : new Date(0),
  };
  const c = m.credentials;
  switch (c.case) {
    case "aws":
      out.aws = {
        accessKeyId: c.value.accessKeyId,
        secretAccessKey: c.value.secretAccessKey,
        sessionToken: c.value.sessionToken,
        region: c.value.region,
        assumedRoleArn: c.value.assumedRoleArn,
      };
      break;
    case "gcp":
      out.gcp = accessToken(c.value);
      break;
    case "azure":
      out.azure = accessToken(c.value);
      break;
    case "neo4jAura":
      out.neo4jAura = accessToken(c.value);
      break;
    case "mongodbAtlas":
      out.mongodbAtlas = {
        username: c.value.username,
        password: c.value.password,
        database: c.value.database,
        roles: [...c.value.roles],
      };
      break;
    default:
      break;
  }
  return out;
}
