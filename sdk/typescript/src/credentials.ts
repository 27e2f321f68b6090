// cloudconn.cloud.credentials: the run step (docs/run.md). Short-lived,
// least-privilege credentials for one scope of an ACTIVE connection; the
// token needs the `connections:use` scope.

import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { CallContext } from "./client.js";
import type { AccessToken as AccessTokenMessage, IssuedCredentials as IssuedMessage } from "./gen/cloudconn/v1/issued_credentials_pb.js";
import { providerWord, rejectUnknownKeys } from "./convert.js";
import { invalidArgument, toCloudConnError } from "./errors.js";
import type { AccessToken, IssueCredentialsInput, IssuedCredentials } from "./types.js";

const ISSUE_KEYS = ["scope", "consumer", "ttl_seconds"] as const;

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
