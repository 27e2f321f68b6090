// The one refreshing holder every credential provider sits on: it decides
// when to ask IssueCredentials again, so the five providers only translate
// what it holds into their SDK's shape.

import { CloudConnError, toCloudConnError } from "../errors.js";
import type { GrpcCodeName } from "../errors.js";
import type { IssuedCredentials } from "../types.js";

/** Milliseconds since the epoch, like `Date.now`. */
export type Clock = () => number;

/** What every provider accepts besides its input. */
export interface ProviderOptions {
  /**
   * For tests only: the clock the refresh rule reads (default `Date.now`),
   * so a test can jump past the refresh point without waiting.
   */
  now?: Clock;
}

/** One credential as the holder keeps it. */
export interface HeldCredentials {
  readonly issued: IssuedCredentials;
  /** When it was received, by the holder's clock (ms). */
  readonly receivedAt: number;
  /** From then on the holder asks for a new one (ms). */
  readonly refreshAt: number;
  /** `issued.expireTime` in ms. */
  readonly expiresAt: number;
}

/**
 * A credential that expires within this much is treated as expired: the
 * component's and the provider's clocks may disagree by a few seconds.
 */
export const EXPIRY_MARGIN_MS = 10_000;

// The server's cache answers the same credential while at least a third of
// its lifetime remains; refreshing when 25–30 % of what we received is left
// is below that third, so a refresh always brings a new credential rather
// than the one we hold. The jitter spreads replicas of one component that
// received the same credential, so they do not all ask at the same instant.
const REFRESH_REMAINING = 0.25;
const REFRESH_JITTER = 0.05;

// Worth serving the held credential through: the server or its workers may
// be back on the next call. Anything else is an answer about the connection
// (deleted, inactive, no longer permitted) that no retry changes.
const TRANSIENT: ReadonlySet<GrpcCodeName> = new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"]);

const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");

/**
 * Holds the credentials of one (connection, scope, consumer) and refreshes
 * them ahead of expiry: served until `expireTime − R × (0.25 + j)`, where R
 * is how long they had left when received and j is drawn from [0, 0.05)
 * per credential; concurrent callers past that point share one call;
 * an expired credential (within 10 s) is never served.
 */
export class CredentialRefresher {
  readonly #issue: () => Promise<IssuedCredentials>;
  readonly #now: Clock;
  readonly #label: string;
  #held: HeldCredentials | undefined;
  #inflight: Promise<HeldCredentials> | undefined;

  /**
   * @param issue asks the server (e.g. `() => cloudconn.cloud.credentials.issue(tag, input)`).
   * @param label names them in errors and `toString` (never a secret).
   */
  constructor(issue: () => Promise<IssuedCredentials>, label: string, options: ProviderOptions = {}) {
    this.#issue = issue;
    this.#label = label;
    this.#now = options.now ?? Date.now;
  }

  /** The credential to use now: the held one, or a new one if past its refresh point. */
  async get(): Promise<HeldCredentials> {
    const held = this.#held;
    const now = this.#now();
    if (held && now < held.refreshAt && usable(held, now)) {
      return held;
    }
    // One call for every caller past the refresh point.
    this.#inflight ??= this.#refresh().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #refresh(): Promise<HeldCredentials> {
    let issued: IssuedCredentials;
    try {
      issued = await this.#issue();
    } catch (err) {
      const ce = toCloudConnError(err);
      const held = this.#held;
      if (held && TRANSIENT.has(ce.code) && usable(held, this.#now())) {
        return held;
      }
      this.#held = undefined;
      throw ce;
    }
    const receivedAt = this.#now();
    const expiresAt = issued.expireTime.getTime();
    const lifetime = expiresAt - receivedAt;
    const refreshAt = expiresAt - lifetime * (REFRESH_REMAINING + Math.random() * REFRESH_JITTER);
    const fresh: HeldCredentials = Object.freeze({ issued, receivedAt, refreshAt, expiresAt });
    if (!usable(fresh, receivedAt)) {
      // Only a clock far off the server's (or the provider's) gets here:
      // serving it would fail at the cloud anyway, and later than this.
      this.#held = undefined;
      throw new CloudConnError({
        code: "FAILED_PRECONDITION",
        reason: "CREDENTIALS_EXPIRED",
        message: `${this.#label}: IssueCredentials answered credentials that expire at ${issued.expireTime.toISOString()}, within ${EXPIRY_MARGIN_MS / 1000} s of this machine's clock (${new Date(receivedAt).toISOString()}): is the clock wrong?`,
      });
    }
    this.#held = fresh;
    return fresh;
  }

  toString(): string {
    return `CredentialRefresher(${this.#label})`;
  }

  toJSON(): { credentials: string } {
    return { credentials: this.#label };
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

function usable(held: HeldCredentials, now: number): boolean {
  return now < held.expiresAt - EXPIRY_MARGIN_MS;
}

/** Makes an object print as `text` in logs, `util.inspect`, `String()` and JSON, whatever it holds. */
export function describeAs<T extends object>(target: T, text: string): T {
  for (const [key, value] of [
    ["toString", () => text],
    ["toJSON", () => text],
    [inspectSymbol, () => text],
  ] as const) {
    Object.defineProperty(target, key, { value, enumerable: false, configurable: true, writable: true });
  }
  return target;
}

/** The connection is of another provider than the entry point called. */
export function wrongProvider(label: string, wanted: string, got: string): CloudConnError {
  return new CloudConnError({
    code: "FAILED_PRECONDITION",
    reason: "WRONG_PROVIDER",
    message: `${label} is a ${got} connection; credentials.${wanted}() needs a ${wanted} one`,
  });
}
