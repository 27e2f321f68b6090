// Browser transport: gRPC-Web over fetch. Browsers cannot speak plain gRPC
// (no access to HTTP/2 trailers), so "grpc" is refused.

import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { TransportKind } from "./client.js";
import { invalidArgument } from "./errors.js";

export function webTransport(kind: TransportKind | undefined, baseUrl: string, interceptors: Interceptor[]): Transport {
  if (kind === "grpc") {
    throw invalidArgument("transport", "browsers cannot speak gRPC over HTTP/2; use 'grpc-web' (the default)");
  }
  return createGrpcWebTransport({ baseUrl, interceptors });
}
