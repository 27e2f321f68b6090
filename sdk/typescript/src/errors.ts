// Every failure of an SDK call is a CloudConnError. Callers branch on
// `reason` (google.rpc.ErrorInfo.reason, stable) or `code`, never on text.

import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "./gen/google/rpc/error_details_pb.js";

/** gRPC status code names, as the gRPC spec spells them. */
export type GrpcCodeName =
  | "OK"
  | "CANCELLED"
  | "UNKNOWN"
  | "INVALID_ARGUMENT"
  | "DEADLINE_EXCEEDED"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "RESOURCE_EXHAUSTED"
  | "FAILED_PRECONDITION"
  | "ABORTED"
  | "OUT_OF_RANGE"
  | "UNIMPLEMENTED"
  | "INTERNAL"
  | "UNAVAILABLE"
  | "DATA_LOSS"
  | "UNAUTHENTICATED";

const CODE_NAMES: Record<Code, GrpcCodeName> = {
  [Code.Canceled]: "CANCELLED",
  [Code.Unknown]: "UNKNOWN",
  [Code.InvalidArgument]: "INVALID_ARGUMENT",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.NotFound]: "NOT_FOUND",
  [Code.AlreadyExists]: "ALREADY_EXISTS",
  [Code.PermissionDenied]: "PERMISSION_DENIED",
  [Code.ResourceExhausted]: "RESOURCE_EXHAUSTED",
  [Code.FailedPrecondition]: "FAILED_PRECONDITION",
  [Code.Aborted]: "ABORTED",
  [Code.OutOfRange]: "OUT_OF_RANGE",
  [Code.Unimplemented]: "UNIMPLEMENTED",
  [Code.Internal]: "INTERNAL",
  [Code.Unavailable]: "UNAVAILABLE",
  [Code.DataLoss]: "DATA_LOSS",
  [Code.Unauthenticated]: "UNAUTHENTICATED",
};

/** One bad request field (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  field: string;
  description: string;
}

export interface CloudConnErrorInit {
  code: GrpcCodeName;
  reason?: string;
  message: string;
  fieldViolations?: FieldViolation[];
  metadata?: Record<string, string>;
  domain?: string;
  retryDelayMs?: number;
  cause?: unknown;
}

export class CloudConnError extends Error {
  /** The gRPC status code name, e.g. "INVALID_ARGUMENT", "NOT_FOUND", "UNAVAILABLE". */
  readonly code: GrpcCodeName;
  /**
   * The stable machine reason from google.rpc.ErrorInfo: INVALID_ARGUMENT,
   * CONNECTION_NOT_FOUND, TAG_ALREADY_EXISTS, ETAG_MISMATCH,
   * UNAUTHENTICATED, … When the server sent none (the call never reached
   * it, e.g. a refused connection), it is the code name.
   */
  readonly reason: string;
  /** Every bad field (google.rpc.BadRequest), for INVALID_ARGUMENT. */
  readonly fieldViolations: FieldViolation[];
  /** google.rpc.ErrorInfo.metadata, e.g. `{ cause: "…" }` for UNAUTHENTICATED. */
  readonly metadata: Record<string, string>;
  /** google.rpc.ErrorInfo.domain ("cloudconn.v1"), or "" when there was none. */
  readonly domain: string;
  /** google.rpc.RetryInfo: how long to wait before retrying, when the server said. */
  readonly retryDelayMs: number | undefined;

  constructor(init: CloudConnErrorInit) {
    super(init.message, { cause: init.cause });
    this.name = "CloudConnError";
    this.code = init.code;
    this.reason = init.reason || init.code;
    this.fieldViolations = init.fieldViolations ?? [];
    this.metadata = init.metadata ?? {};
    this.domain = init.domain ?? "";
    this.retryDelayMs = init.retryDelayMs;
  }
}

/** A caller's mistake found before any request is sent. */
export function invalidArgument(field: string, description: string): CloudConnError {
  return new CloudConnError({
    code: "INVALID_ARGUMENT",
    reason: "INVALID_ARGUMENT",
    message: `invalid fields: ${field}; ${field}: ${description}`,
    fieldViolations: [{ field, description }],
  });
}

/** Turns whatever a call threw into a CloudConnError (one already is passes through). */
export function toCloudConnError(err: unknown): CloudConnError {
  if (err instanceof CloudConnError) {
    return err;
  }
  const ce = ConnectError.from(err);
  const info = ce.findDetails(ErrorInfoSchema)[0];
  const fieldViolations = ce
    .findDetails(BadRequestSchema)
    .flatMap((bad) => bad.fieldViolations.map((v) => ({ field: v.field, description: v.description })));
  const retry = ce.findDetails(RetryInfoSchema)[0]?.retryDelay;
  return new CloudConnError({
    code: CODE_NAMES[ce.code] ?? "UNKNOWN",
    reason: info?.reason,
    message: ce.rawMessage,
    fieldViolations,
    metadata: info ? { ...info.metadata } : {},
    domain: info?.domain,
    retryDelayMs: retry ? Number(retry.seconds) * 1000 + Math.round(retry.nanos / 1e6) : undefined,
    cause: ce,
  });
}
