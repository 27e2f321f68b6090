// What both entry points export besides CloudConn.

export type { CloudConnOptions, TransportKind } from "./client.js";
export { CloudConnBase } from "./client.js";
export type { Audit } from "./audit.js";
export type { Connections } from "./connections.js";
export { DEFAULT_VALIDATE_WAIT_SECONDS } from "./connections.js";
export type { Credentials } from "./credentials.js";
export { CloudConnError } from "./errors.js";
export type { FieldViolation, GrpcCodeName } from "./errors.js";
export type * from "./types.js";
