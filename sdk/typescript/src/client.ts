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
  /**
   * The server's address: "https://host[:port]" (TLS, Node's trusted roots or the browser's),
   * "http://host:port" (plaintext), or "host:port": plaintext only when the host is loopback
   * (127.0.0.0/8, ::1, localhost; as written, never resolved), TLS otherwise.
   */
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
    const baseUrl = baseUrlFor(options.address);
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

/** 127.0.0.0/8, ::1 or localhost, as written: a name's answer can change, the literal cannot. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * The URL the transport dials. A scheme given is kept; a bare "host:port" is
 * plaintext only on loopback, because the bearer token is added to every
 * request by an interceptor, which no transport check stops from going out
 * in clear: "cloudconn.example.com:443" must not mean that.
 */
export function baseUrlFor(address: string): string {
  if (/^https?:\/\//i.test(address)) return address;
  const wrong = () => invalidArgument("address", "must be https://host[:port], http://host:port or host:port");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) throw wrong();
  let host: string;
  try {
    host = new URL(`http://${address}`).hostname;
  } catch {
    throw wrong();
  }
  return `${isLoopbackHost(host) ? "http" : "https"}://${address}`;
}
