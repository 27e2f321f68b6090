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
export { CredentialRefresher, EXPIRY_MARGIN_MS } from "./providers/refresh.js";
export type { Clock, HeldCredentials, ProviderOptions } from "./providers/refresh.js";
export type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "./providers/aws.js";
export type { AzureAccessToken, AzureTokenCredential } from "./providers/azure.js";
export type { ConnectionStringFunction } from "./providers/atlas.js";
export type { BearerTokenFunction } from "./providers/aura.js";
