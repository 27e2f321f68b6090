// The entry object: the address, the token and the workspace given once.

import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { ConnectionService } from "./gen/cloudconn/v1/connection_service_pb.js";
import { Audit } from "./audit.js";
import { Connections } from "./connections.js";
import { Credentials } from "./credentials.js";
import { providerSpec } from "./convert.js";
import { invalidArgument, toCloudConnError } from "./errors.js";
import type { ProviderSpec } from "./types.js";

/** "grpc": gRPC over HTTP/2 (Node's default); "grpc-web": gRPC-Web (browsers' default, and the only one there). */
export type TransportKind = "grpc" | "grpc-web";

export interface CloudConnOptions {
  /** The server's gRPC address, e.g. "http://127.0.0.1:50051" (no scheme: http). */
  address: string;
  /** Sent as `authorization: Bearer <token>` on every call. */
  token: string;
  /** Every call is scoped to this workspace. */
  workspace: string;
  transport?: TransportKind;
  /** Deadline of each unary call in milliseconds (default 30 000); `validate` adds its wait to it. */
  timeoutMs?: number;
}

/** Makes the transport for one environment (Node or browser). */
export type TransportFactory = (kind: TransportKind | undefined, baseUrl: string, interceptors: Interceptor[]) => Transport;

export type ServiceClient = Client<typeof ConnectionService>;

/** What every call needs: the generated client, the workspace, the deadline. */
export interface CallContext {
  client: ServiceClient;
  workspace: string;
  timeoutMs: number;
}

/**
 * The client. Construct the environment's subclass, `CloudConn` from
 * `@cloudconn/sdk` (Node and browsers get the right one through the
 * package's export conditions).
 */
export class CloudConnBase {
  readonly cloud: { readonly connections: Connections; readonly credentials: Credentials; readonly audit: Audit };
  readonly #ctx: CallContext;

  protected constructor(options: CloudConnOptions, makeTransport: TransportFactory) {
    for (const key of ["address", "token", "workspace"] as const) {
      if (typeof options[key] !== "string" || options[key] === "") {
        throw invalidArgument(key, "must be a non-empty string");
      }
    }
    const baseUrl = /^[a-z]+:\/\//i.test(options.address) ? options.address : `http://${options.address}`;
    const bearer = `Bearer ${options.token}`;
    const auth: Interceptor = (next) => (req) => {
      req.header.set("authorization", bearer);
      return next(req);
    };
    const transport = makeTransport(options.transport, baseUrl, [auth]);
    this.#ctx = {
      client: createClient(ConnectionService, transport),
      workspace: options.workspace,
      timeoutMs: options.timeoutMs ?? 30_000,
    };
    this.cloud = {
      connections: new Connections(this.#ctx),
      credentials: new Credentials(this.#ctx),
      audit: new Audit(this.#ctx),
    };
  }

  /** The provider catalogue: each provider's credential fields and allowed scopes. */
  async providers(): Promise<ProviderSpec[]> {
    try {
      const res = await this.#ctx.client.listProviders({}, { timeoutMs: this.#ctx.timeoutMs });
      return res.providers.map(providerSpec);
    } catch (err) {
      throw toCloudConnError(err);
    }
  }
}
