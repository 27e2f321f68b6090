// The SDK's public shapes: plain objects with camelCase fields, enums as the
// seed's lower-case words. Inputs take the seed's snake_case keys.

/** A cloud provider, as the seed spells it. */
export type ProviderName = "aws" | "gcp" | "azure" | "mongodb_atlas" | "neo4j_aura";

/** A connection's lifecycle status. */
export type ConnectionStatusName = "pending" | "active" | "failed";

/** The state of one validation run. */
export type ValidationStateName = "queued" | "running" | "succeeded" | "failed" | "superseded";

/**
 * What started a validation: `validate()` ("manual"), `complete()` with
 * `{ validate: true }` ("complete"), or the server's re-validation schedule
 * ("scheduled").
 */
export type ValidationTriggerName = "manual" | "complete" | "scheduled";

/**
 * An enum value this SDK does not know (a newer server, or an unset field)
 * reads as "unspecified".
 */
export type Unspecified = "unspecified";

/** A workspace's link to one cloud provider account. Never holds a secret. */
export interface Connection {
  workspace: string;
  /** The connection's name in the seed (`name` on create): fixed forever. */
  tag: string;
  uid: string;
  provider: ProviderName | Unspecified;
  displayName: string;
  description: string;
  scopes: string[];
  status: ConnectionStatusName | Unspecified;
  /** AWS only: the `sts:ExternalId` the role's trust policy must require. */
  externalId: string;
  credentials: CredentialsView;
  /** The most recent validation, if any. */
  lastValidation?: Validation;
  /** Changes on every change; pass it as `{ etag }` to make a change conditional. */
  etag: string;
  createTime?: Date;
  updateTime?: Date;
  /** Who was issued credentials in the last 30 days, newest first (`fetch` fills it; `list` does not). */
  consumers: Consumer[];
  /** The last time credentials were issued for it. */
  lastUsedTime?: Date;
  /**
   * When the server's schedule validates it again. Absent unless the
   * connection is active and the server's re-validation is on.
   */
  nextValidationTime?: Date;
}

/** A component that was issued credentials for a connection. */
export interface Consumer {
  consumer: string;
  lastUsedTime?: Date;
}

/** Input of `credentials.issue(tag, input)`. */
export interface IssueCredentialsInput {
  /** One of the connection's scopes: storage, database, messaging, functions. */
  scope: string;
  /** Who will use them, e.g. "billing-api/prd": 1–64 of A–Z a–z 0–9 _ . @ / -. */
  consumer: string;
  /** Lifetime asked for; 0 or absent: 15 minutes. Capped by the server (1 h by default) and the provider. */
  ttl_seconds?: number;
}

/** Input of `credentials.atlas(tag, input)`: `issue`'s, and the cluster to connect to. */
export interface AtlasProviderInput extends IssueCredentialsInput {
  /** The cluster's host, e.g. "cluster0.abcde.mongodb.net" (an SRV name), or "host:port". */
  host: string;
}

/** An OAuth bearer token (GCP, Azure, Neo4j Aura). */
export interface AccessToken {
  accessToken: string;
  tokenType: string;
  /** GCP: the OAuth scopes granted. */
  scopes: string[];
  /** Azure: the resource it is for. */
  audience: string;
}

/**
 * Short-lived credentials: the only SDK result holding secret values. Exactly
 * one of `aws`, `gcp`, `azure`, `mongodbAtlas`, `neo4jAura` is set.
 */
export interface IssuedCredentials {
  tag: string;
  provider: ProviderName | Unspecified;
  scope: string;
  /** The active credential revision they came from. */
  revision: number;
  expireTime: Date;
  aws?: { accessKeyId: string; secretAccessKey: string; sessionToken: string; region: string; assumedRoleArn: string };
  gcp?: AccessToken;
  azure?: AccessToken;
  /** A temporary database user, removed at `expireTime`. */
  mongodbAtlas?: { username: string; password: string; database: string; roles: string[] };
  neo4jAura?: AccessToken;
}

/** What the server knows about the saved credentials, without secret values. */
export interface CredentialsView {
  /** Non-secret values, keyed by the seed's snake_case names (`role_arn`, `tenant_id`, …). */
  fields: Record<string, string>;
  /** Names of the secret fields that hold a value (`client_secret`, …), never the values. */
  secretFieldsSet: string[];
  /** Latest saved revision, 0 = none. */
  revision: number;
  /** Revision in use, 0 = none. */
  activeRevision: number;
  updateTime?: Date;
}

/** One validation run of one credential revision. */
export interface Validation {
  id: string;
  state: ValidationStateName | Unspecified;
  /** The credential revision validated. */
  revision: number;
  attempts: number;
  createTime?: Date;
  startTime?: Date;
  endTime?: Date;
  /** Set when the state is "failed": why, and what to change. */
  error?: ValidationError;
  /** One entry per requested scope. */
  scopeChecks: ScopeCheck[];
  /** Provider identity found: account_id, arn, project_number, … */
  identity: Record<string, string>;
  /**
   * Non-fatal findings (and, against `--dev`, the sandbox notice), e.g. a
   * credential that expires soon.
   */
  warnings: string[];
  /** What started it. */
  trigger: ValidationTriggerName | Unspecified;
}

/** Why a validation failed. */
export interface ValidationError {
  /** INVALID_CREDENTIALS, ACCESS_DENIED, RESOURCE_NOT_FOUND, EXTERNAL_ID_MISMATCH, … */
  code: string;
  message: string;
  hint: string;
  retryable: boolean;
  missingPermissions: string[];
}

/** Whether a requested scope is usable with the validated credentials. */
export interface ScopeCheck {
  scope: string;
  granted: boolean;
  missingPermissions: string[];
}

/** What `validate()` returns: the validation, and the connection after it. */
export interface ValidationResult extends Validation {
  connection: Connection;
}

/** One lifecycle event from `watch()`. */
export interface ConnectionEvent {
  /** Stable per event: de-duplicate on it. */
  id: string;
  /** `cloudconn.connection.<event>.v1`, e.g. `cloudconn.connection.updated.v1`. */
  type: string;
  time?: Date;
  /** The connection after the change (for `deleted`, as it was). */
  connection?: Connection;
}

/** One entry of the audit trail: a change someone made, never a secret. */
export interface AuditEvent {
  id: string;
  workspace: string;
  /** Who: the token's subject (`sub` claim). */
  actor: string;
  /** The call, e.g. "CreateConnection", "CompleteConnection", "ValidateConnection", "UpdateConnection", "DeleteConnection". */
  action: string;
  tag: string;
  /** The caller's idempotency key, "" when none was given. */
  requestId: string;
  /** "ok" for a change that committed. */
  outcome: string;
  time?: Date;
  /**
   * The server's `details_json`, parsed: non-secret facts of the change
   * (`{ revision, fields }` for a save, `{ changed }` for an update, …).
   * `{}` when empty; a value that is not a JSON object is kept as `{ value }`.
   */
  details: Record<string, unknown>;
}

/** `audit.list()` options. */
export interface AuditListOptions {
  /** Only this connection's events (default: the whole workspace's). */
  tag?: string;
  /** Events per page (the server's `page_size`: 0 means 50, at most 1000). */
  pageSize?: number;
  /** A previous page's `nextPageToken`, with the same `tag`. */
  pageToken?: string;
}

/** One page of the audit trail, newest first. */
export interface AuditPage {
  events: AuditEvent[];
  /** Pass as `pageToken` for the next (older) page; "" on the last page. */
  nextPageToken: string;
}

/** The catalogue entry of one provider. */
export interface ProviderSpec {
  provider: ProviderName | Unspecified;
  displayName: string;
  fields: FieldSpec[];
  scopes: string[];
  /** Per scope, the provider permissions it needs (what validation checks). */
  scopeSpecs: ScopeSpec[];
  /** How a connection may sign in (its credentials' `kind`), keyless first. */
  kinds: CredentialKindSpec[];
  /** What a blank `kind` means on a first completion. */
  defaultKind: string;
}

/** One way of signing in to a provider (docs/keyless.md). */
export interface CredentialKindSpec {
  /** The credentials' `kind` value, e.g. `web_identity`. */
  name: string;
  displayName: string;
  description: string;
  /** Stores no secret: the server's OpenID Connect tokens stand in for one. */
  keyless: boolean;
  /** The fields this kind uses, besides `kind`. */
  fields: string[];
  /** For a keyless kind on a server that is an issuer: what the customer's cloud must trust. */
  issuerUrl: string;
}

/** What one scope needs at its provider. */
export interface ScopeSpec {
  name: string;
  permissions: string[];
}

/** A connection's setup kit: what the customer grants at the provider. */
export interface SetupInstructions {
  tag: string;
  provider: ProviderName | Unspecified;
  scopes: string[];
  steps: SetupStep[];
}

/** One step: Markdown text, and files to copy as they are. */
export interface SetupStep {
  title: string;
  text: string;
  artifacts: SetupArtifact[];
}

/** e.g. `trust-policy.json` (`application/json`), `setup.sh` (`application/x-sh`). */
export interface SetupArtifact {
  name: string;
  mediaType: string;
  content: string;
}

/** One credential field of a provider. */
export interface FieldSpec {
  /** The seed's snake_case name, as `complete()` takes it. */
  name: string;
  secret: boolean;
  required: boolean;
  pattern: string;
  description: string;
}

/** `connections.create()` input. */
export interface CreateConnectionInput {
  provider: ProviderName;
  /** The tag: `^[a-z][a-z0-9_]{1,62}$`, unique in the workspace, fixed forever. */
  name: string;
  scopes: string[];
  display_name?: string;
  description?: string;
  /** Idempotency key: a retry with the same key returns the first call's connection. */
  request_id?: string;
}

// Credentials, one shape per provider, with the seed's snake_case keys. A
// blank (or missing) field keeps the stored value; the first completion must
// set every required field (see `providers()`).
export interface AwsCredentialsInput {
  role_arn?: string;
  /** `assume_role` (with the external id; the default) or `web_identity` (keyless). */
  kind?: "assume_role" | "web_identity";
}
export interface GcpCredentialsInput {
  project_id?: string;
  /** Secret, `service_account_key` only: the service account key file (JSON text). */
  service_account_json?: string;
  /** `service_account_key` (the default) or `workload_identity` (keyless). */
  kind?: "service_account_key" | "workload_identity";
  /** `workload_identity`: `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`. */
  workload_identity_provider?: string;
  /** `workload_identity`: the service account to impersonate. */
  service_account_email?: string;
}
export interface AzureCredentialsInput {
  tenant_id?: string;
  subscription_id?: string;
  client_id?: string;
  /** Secret, `client_secret` only. */
  client_secret?: string;
  /** `client_secret` (the default) or `federated` (keyless). */
  kind?: "client_secret" | "federated";
}
export interface MongoDbAtlasCredentialsInput {
  project_id?: string;
  atlas_public_key?: string;
  /** Secret. */
  atlas_private_key?: string;
}
export interface Neo4jAuraCredentialsInput {
  aura_client_id?: string;
  /** Secret. */
  aura_client_secret?: string;
}
export type CredentialsInput =
  | AwsCredentialsInput
  | GcpCredentialsInput
  | AzureCredentialsInput
  | MongoDbAtlasCredentialsInput
  | Neo4jAuraCredentialsInput;

export interface CompleteOptions {
  /** Also start a validation of the new revision (it runs in the background; `validate()` waits for it). */
  validate?: boolean;
  /** Fail with ABORTED / ETAG_MISMATCH unless the connection's etag is still this. */
  etag?: string;
}

export interface ValidateOptions {
  /** Seconds to wait for the outcome: 60 by default, 0 returns at once (state "queued"). The server caps it at 300. */
  wait?: number;
}

export interface ListOptions {
  provider?: ProviderName;
  status?: ConnectionStatusName;
  /** Connections per request (the server's `page_size`: 0 means 50, at most 1000). Every page is fetched either way. */
  pageSize?: number;
}

/** `connections.update()` input: only the keys given are changed (they make the update mask). */
export interface UpdateConnectionInput {
  /** "" reverts to the tag. */
  display_name?: string;
  description?: string;
  scopes?: string[];
}

export interface EtagOptions {
  /** Fail with ABORTED / ETAG_MISMATCH unless the connection's etag is still this. */
  etag?: string;
}

export interface WatchOptions {
  /** Only this connection (default: every connection of the workspace). */
  tag?: string;
  /** Ends the stream (the loop then ends without an error). `break` in `for await` ends it too. */
  signal?: AbortSignal;
  /**
   * Called once the server has joined the stream: every change committed
   * after this is delivered.
   */
  onReady?: () => void;
}
