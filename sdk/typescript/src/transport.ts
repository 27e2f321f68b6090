// Node transports: gRPC over HTTP/2 by default, gRPC-Web over HTTP/1.1 on
// request (the browser's protocol, handy for proving that path from Node).

import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import type { TransportKind } from "./client.js";

export function nodeTransport(kind: TransportKind | undefined, baseUrl: string, interceptors: Interceptor[]): Transport {
  if (kind === "grpc-web") {
    return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors });
  }
  return createGrpcTransport({ baseUrl, interceptors });
}
