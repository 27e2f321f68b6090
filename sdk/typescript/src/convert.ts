// Between the generated proto messages and the SDK's plain objects: enums as
// the seed's lower-case words, int64 as number, timestamps as Date.

import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import * as pb from "./gen/cloudconn/v1/connection_pb.js";
import {
  CompleteConnectionRequestSchema,
  type SetupInstructions as SetupInstructionsMessage,
} from "./gen/cloudconn/v1/connection_service_pb.js";
import { invalidArgument } from "./errors.js";
import type {
  AuditEvent,
  Connection,
  ConnectionEvent,
  ConnectionStatusName,
  CredentialsView,
  ProviderName,
  ProviderSpec,
  SetupInstructions,
  Unspecified,
  Validation,
  ValidationStateName,
  ValidationTriggerName,
} from "./types.js";

const PROVIDERS: Record<ProviderName, pb.Provider> = {
  aws: pb.Provider.AWS,
  gcp: pb.Provider.GCP,
  azure: pb.Provider.AZURE,
  mongodb_atlas: pb.Provider.MONGODB_ATLAS,
  neo4j_aura: pb.Provider.NEO4J_AURA,
};

const STATUSES: Record<ConnectionStatusName, pb.ConnectionStatus> = {
  pending: pb.ConnectionStatus.PENDING,
  active: pb.ConnectionStatus.ACTIVE,
  failed: pb.ConnectionStatus.FAILED,
};

const VALIDATION_STATES: Record<ValidationStateName, pb.ValidationState> = {
  queued: pb.ValidationState.QUEUED,
  running: pb.ValidationState.RUNNING,
  succeeded: pb.ValidationState.SUCCEEDED,
  failed: pb.ValidationState.FAILED,
  superseded: pb.ValidationState.SUPERSEDED,
};

const VALIDATION_TRIGGERS: Record<ValidationTriggerName, pb.ValidationTrigger> = {
  manual: pb.ValidationTrigger.MANUAL,
  complete: pb.ValidationTrigger.COMPLETE,
  scheduled: pb.ValidationTrigger.SCHEDULED,
};

function wordOf<W extends string>(table: Record<W, number>, value: number): W | Unspecified {
  for (const [word, v] of Object.entries(table) as [W, number][]) {
    if (v === value) {
      return word;
    }
  }
  return "unspecified";
}

function valueOf<W extends string>(table: Record<W, number>, field: string, word: unknown): number {
  if (typeof word === "string" && Object.prototype.hasOwnProperty.call(table, word)) {
    return table[word as W];
  }
  throw invalidArgument(field, `must be one of ${Object.keys(table).join(", ")} (got ${JSON.stringify(word)})`);
}

export const providerValue = (word: unknown, field = "provider"): pb.Provider => valueOf(PROVIDERS, field, word);
export const statusValue = (word: unknown, field = "status"): pb.ConnectionStatus => valueOf(STATUSES, field, word);
export const providerWord = (v: pb.Provider): ProviderName | Unspecified => wordOf(PROVIDERS, v);

function date(ts: Timestamp | undefined): Date | undefined {
  return ts ? timestampDate(ts) : undefined;
}

function credentialsView(v: pb.CredentialsView | undefined): CredentialsView {
  return {
    fields: { ...(v?.fields ?? {}) },
    secretFieldsSet: [...(v?.secretFieldsSet ?? [])],
    revision: Number(v?.revision ?? 0n),
    activeRevision: Number(v?.activeRevision ?? 0n),
    updateTime: date(v?.updateTime),
  };
}

export function validation(v: pb.Validation): Validation {
  return {
    id: v.id,
    state: wordOf(VALIDATION_STATES, v.state),
    revision: Number(v.revision),
    attempts: v.attempts,
    createTime: date(v.createTime),
    startTime: date(v.startTime),
    endTime: date(v.endTime),
    error: v.error
      ? {
          code: v.error.code,
          message: v.error.message,
          hint: v.error.hint,
          retryable: v.error.retryable,
          missingPermissions: [...v.error.missingPermissions],
        }
      : undefined,
    scopeChecks: v.scopeChecks.map((c) => ({
      scope: c.scope,
      granted: c.granted,
      missingPermissions: [...c.missingPermissions],
    })),
    identity: { ...v.identity },
    warnings: [...v.warnings],
    trigger: wordOf(VALIDATION_TRIGGERS, v.trigger),
  };
}

export function connection(c: pb.Connection): Connection {
  return {
    workspace: c.workspace,
    tag: c.tag,
    uid: c.uid,
    provider: providerWord(c.provider),
    displayName: c.displayName,
    description: c.description,
    scopes: [...c.scopes],
    status: wordOf(STATUSES, c.status),
    externalId: c.externalId,
    credentials: credentialsView(c.credentials),
    lastValidation: c.lastValidation ? validation(c.lastValidation) : undefined,
    etag: c.etag,
    createTime: date(c.createTime),
    updateTime: date(c.updateTime),
    consumers: c.consumers.map((u) => ({ consumer: u.consumer, lastUsedTime: date(u.lastUsedTime) })),
    lastUsedTime: date(c.lastUsedTime),
    nextValidationTime: date(c.nextValidationTime),
  };
}

export function connectionEvent(e: pb.ConnectionEvent): ConnectionEvent {
  return {
    id: e.id,
    type: e.type,
    time: date(e.time),
    connection: e.connection ? connection(e.connection) : undefined,
  };
}

export function auditEvent(e: pb.AuditEvent): AuditEvent {
  return {
    id: e.id,
    workspace: e.workspace,
    actor: e.actor,
    action: e.action,
    tag: e.tag,
    requestId: e.requestId,
    outcome: e.outcome,
    time: date(e.time),
    details: details(e.detailsJson),
  };
}

/** `details_json` as an object; never throws (a bad value is kept, not lost). */
function details(json: string): Record<string, unknown> {
  if (json === "") {
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    value = json;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}

export function providerSpec(p: pb.ProviderSpec): ProviderSpec {
  return {
    provider: providerWord(p.provider),
    displayName: p.displayName,
    fields: p.fields.map((f) => ({
      name: f.name,
      secret: f.secret,
      required: f.required,
      pattern: f.pattern,
      description: f.description,
    })),
    scopes: [...p.scopes],
    scopeSpecs: p.scopeSpecs.map((s) => ({ name: s.name, permissions: [...s.permissions] })),
    kinds: p.kinds.map((k) => ({
      name: k.name,
      displayName: k.displayName,
      description: k.description,
      keyless: k.keyless,
      fields: [...k.fields],
      issuerUrl: k.issuerUrl,
    })),
    defaultKind: p.defaultKind,
  };
}

export function setupInstructions(k: SetupInstructionsMessage): SetupInstructions {
  return {
    tag: k.tag,
    provider: providerWord(k.provider),
    scopes: [...k.scopes],
    steps: k.steps.map((step) => ({
      title: step.title,
      text: step.text,
      artifacts: step.artifacts.map((a) => ({ name: a.name, mediaType: a.mediaType, content: a.content })),
    })),
  };
}

/** Throws INVALID_ARGUMENT for a key of `input` that is not in `allowed`. */
export function rejectUnknownKeys(input: object, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) {
      throw invalidArgument(key, `not a field of ${what} (expected ${allowed.join(", ")})`);
    }
  }
}

/** The oneof `credentials` of CompleteConnectionRequest, one case per provider. */
export interface CredentialsCase {
  case: "aws" | "gcp" | "azure" | "mongodbAtlas" | "neo4jAura";
  value: Record<string, string>;
}

/**
 * Builds the request's credentials for `provider` from the seed's snake_case
 * keys, read off the proto (the oneof case of CompleteConnectionRequest whose
 * proto name is the provider word, and its message's fields). Blank or
 * missing values are sent blank: the server keeps the stored value.
 */
export function credentialsCase(provider: ProviderName, input: object): CredentialsCase {
  const oneofField = CompleteConnectionRequestSchema.oneofs
    .find((o) => o.name === "credentials")
    ?.fields.find((f) => f.name === provider);
  if (!oneofField || oneofField.fieldKind !== "message") {
    throw invalidArgument("provider", `no credentials message for ${provider}`);
  }
  const fields = oneofField.message.fields;
  rejectUnknownKeys(
    input,
    fields.map((f) => f.name),
    `${provider} credentials`,
  );
  const value: Record<string, string> = {};
  for (const f of fields) {
    const v: unknown = (input as Record<string, unknown>)[f.name];
    if (v !== undefined && v !== null && typeof v !== "string") {
      throw invalidArgument(f.name, "must be a string");
    }
    value[f.localName] = v ?? "";
  }
  return { case: oneofField.localName as CredentialsCase["case"], value };
}
