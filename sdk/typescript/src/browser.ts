// @cloudconn/sdk for browsers: gRPC-Web over fetch. Same API as index.ts.

import type { CloudConnOptions } from "./client.js";
import { CloudConnBase } from "./client.js";
import { webTransport } from "./transport-web.js";

export class CloudConn extends CloudConnBase {
  constructor(options: CloudConnOptions) {
    super(options, webTransport);
  }
}

export * from "./exports.js";
