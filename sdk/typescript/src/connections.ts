// cloudconn.cloud.connections: the seed's calls, each one RPC (complete
// reads the connection first, to learn its provider).

import { Code, ConnectError } from "@connectrpc/connect";
import type { CallContext } from "./client.js";
import {
  connection,
  connectionEvent,
  credentialsCase,
  providerValue,
  providerWord,
  rejectUnknownKeys,
  setupInstructions,
  statusValue,
  validation,
} from "./convert.js";
import { invalidArgument, toCloudConnError } from "./errors.js";
import type {
  CompleteOptions,
  Connection,
  ConnectionEvent,
  CreateConnectionInput,
  CredentialsInput,
  EtagOptions,
  ListOptions,
  SetupInstructions,
  UpdateConnectionInput,
  ValidateOptions,
  ValidationResult,
  WatchOptions,
} from "./types.js";

/** How long `validate()` waits for the outcome unless told. */
export const DEFAULT_VALIDATE_WAIT_SECONDS = 60;

const CREATE_KEYS = ["provider", "name", "scopes", "display_name", "description", "request_id"] as const;
const UPDATE_KEYS = ["display_name", "description", "scopes"] as const;

export class Connections {
  readonly #ctx: CallContext;

  constructor(ctx: CallContext) {
    this.#ctx = ctx;
  }

  /** Creates a connection in status "pending". */
  async create(input: CreateConnectionInput): Promise<Connection> {
    return this.#call(async (client, workspace, timeoutMs) => {
      rejectUnknownKeys(input, CREATE_KEYS, "create()'s input");
      const res = await client.createConnection(
        {
          workspace,
          provider: providerValue(input.provider),
          tag: input.name,
          scopes: input.scopes,
          displayName: input.display_name ?? "",
          description: input.description ?? "",
          requestId: input.request_id ?? "",
        },
        { timeoutMs },
      );
      return connection(res);
    });
  }

  /**
   * Saves a new credential revision from the provider's snake_case fields
   * (`{ role_arn }` for aws, …). A blank secret keeps the stored one.
   */
  async complete(tag: string, input: CredentialsInput, options: CompleteOptions = {}): Promise<Connection> {
    return this.#call(async (client, workspace, timeoutMs) => {
      const current = await client.getConnection({ workspace, tag }, { timeoutMs });
      const provider = providerWord(current.provider);
      if (provider === "unspecified") {
        throw invalidArgument("provider", `this SDK does not know the connection's provider (${current.provider})`);
      }
      const res = await client.completeConnection(
        {
          workspace,
          tag,
          credentials: credentialsCase(provider, input),
          validate: options.validate ?? false,
          etag: options.etag ?? "",
        },
        { timeoutMs },
      );
      return connection(res);
    });
  }

  /**
   * Validates the latest saved revision at the provider and waits for the
   * outcome (60 s unless `{ wait }` says; `{ wait: 0 }` returns at once). A
   * failed validation is a result (`state: "failed"`, `error`), not a throw.
   */
  async validate(tag: string, options: ValidateOptions = {}): Promise<ValidationResult> {
    const wait = options.wait ?? DEFAULT_VALIDATE_WAIT_SECONDS;
    if (!Number.isFinite(wait) || wait < 0) {
      throw invalidArgument("wait", "must be a number of seconds, 0 or more");
    }
    return this.#call(async (client, workspace, timeoutMs) => {
      const seconds = Math.floor(wait);
      const res = await client.validateConnection(
        { workspace, tag, wait: { seconds: BigInt(seconds), nanos: Math.round((wait - seconds) * 1e9) } },
        { timeoutMs: timeoutMs + wait * 1000 },
      );
      if (!res.validation || !res.connection) {
        throw new ConnectError("the server answered without a validation", Code.Internal);
      }
      return { ...validation(res.validation), connection: connection(res.connection) };
    });
  }

  /** One connection by tag. */
  async fetch(tag: string): Promise<Connection> {
    return this.#call(async (client, workspace, timeoutMs) => connection(await client.getConnection({ workspace, tag }, { timeoutMs })));
  }

  /**
   * The connection's setup kit (docs/setup-kit.md): ordered steps with the
   * policies, templates and scripts the customer applies at the provider,
   * generated for its scopes and external id. `kind` picks the credential
   * kind to set up (e.g. `web_identity`, keyless); by default the saved kind,
   * else the provider's default.
   */
  async setup(tag: string, options: { kind?: string } = {}): Promise<SetupInstructions> {
    const kind = options.kind ?? "";
    return this.#call(async (client, workspace, timeoutMs) =>
      setupInstructions(await client.getSetupInstructions({ workspace, tag, kind }, { timeoutMs })),
    );
  }

  /**
   * Every connection of the workspace (optionally of one provider or
   * status), ordered by tag: all pages are fetched before it returns.
   */
  async list(options: ListOptions = {}): Promise<Connection[]> {
    return this.#call(async (client, workspace, timeoutMs) => {
      const provider = options.provider === undefined ? 0 : providerValue(options.provider);
      const status = options.status === undefined ? 0 : statusValue(options.status);
      const all: Connection[] = [];
      let pageToken = "";
      do {
        const res = await client.listConnections(
          { workspace, provider, status, pageSize: options.pageSize ?? 0, pageToken },
          { timeoutMs },
        );
        all.push(...res.connections.map(connection));
        pageToken = res.nextPageToken;
      } while (pageToken !== "");
      return all;
    });
  }

  /** Changes only the keys given (display_name, description, scopes): they make the update mask. */
  async update(tag: string, input: UpdateConnectionInput, options: EtagOptions = {}): Promise<Connection> {
    return this.#call(async (client, workspace, timeoutMs) => {
      rejectUnknownKeys(input, UPDATE_KEYS, "update()'s input");
      const paths = UPDATE_KEYS.filter((k) => input[k] !== undefined);
      const res = await client.updateConnection(
        {
          workspace,
          tag,
          displayName: input.display_name,
          description: input.description,
          scopes: input.scopes ?? [],
          updateMask: { paths },
          etag: options.etag ?? "",
        },
        { timeoutMs },
      );
      return connection(res);
    });
  }

  /** Deletes the connection and every stored credential revision. */
  async delete(tag: string, options: EtagOptions = {}): Promise<void> {
    return this.#call(async (client, workspace, timeoutMs) => {
      await client.deleteConnection({ workspace, tag, etag: options.etag ?? "" }, { timeoutMs });
    });
  }

  /**
   * Live lifecycle events of the workspace (or of one tag), as an async
   * iterator: `for await (const e of watch()) { … }`. It runs until the
   * loop breaks, the signal aborts or the server ends it; a failure throws
   * a CloudConnError from the loop.
   */
  async *watch(options: WatchOptions = {}): AsyncGenerator<ConnectionEvent, void, undefined> {
    const { client, workspace } = this.#ctx;
    const { signal, onReady } = options;
    if (signal?.aborted) {
      return;
    }
    // Ending the loop early does not cancel a Connect stream by itself: our
    // own signal does, in `finally`, whichever way the loop ends.
    const controller = new AbortController();
    const forward = () => controller.abort();
    signal?.addEventListener("abort", forward);
    try {
      const stream = client.watchConnections(
        { workspace, tag: options.tag ?? "" },
        { signal: controller.signal, onHeader: onReady ? () => onReady() : undefined },
      );
      for await (const event of stream) {
        yield connectionEvent(event);
      }
    } catch (err) {
      if (controller.signal.aborted) {
        return; // the caller's signal ended it
      }
      throw toCloudConnError(err);
    } finally {
      signal?.removeEventListener("abort", forward);
      controller.abort();
    }
  }

  async #call<T>(fn: (client: CallContext["client"], workspace: string, timeoutMs: number) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#ctx.client, this.#ctx.workspace, this.#ctx.timeoutMs);
    } catch (err) {
      throw toCloudConnError(err);
    }
  }
}
