// @cloudconn/sdk for Node 20+: gRPC over HTTP/2 by default, gRPC-Web with
// `transport: 'grpc-web'`. Browsers load browser.ts instead (the package's
// "browser" export condition); both export the same API.

import type { CloudConnOptions } from "./client.js";
import { CloudConnBase } from "./client.js";
import { nodeTransport } from "./transport.js";

export class CloudConn extends CloudConnBase {
  constructor(options: CloudConnOptions) {
    super(options, nodeTransport);
  }
}

export * from "./exports.js";
