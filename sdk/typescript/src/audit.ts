// cloudconn.cloud.audit: the workspace's audit trail (who changed what,
// when), newest first, one page per call: the trail only grows, so callers
// page through as far back as they need rather than fetch it all.

import type { CallContext } from "./client.js";
import { auditEvent, rejectUnknownKeys } from "./convert.js";
import { toCloudConnError } from "./errors.js";
import type { AuditListOptions, AuditPage } from "./types.js";

const LIST_KEYS = ["tag", "pageSize", "pageToken"] as const;

export class Audit {
  readonly #ctx: CallContext;

  constructor(ctx: CallContext) {
    this.#ctx = ctx;
  }

  /**
   * One page of the trail, newest first: the whole workspace's, or one
   * connection's (`tag`). Pass the page's `nextPageToken` back as
   * `pageToken` (with the same `tag`) for the next, older page; it is ""
   * on the last page.
   */
  async list(options: AuditListOptions = {}): Promise<AuditPage> {
    const { client, workspace, timeoutMs } = this.#ctx;
    try {
      rejectUnknownKeys(options, LIST_KEYS, "audit.list()'s options");
      const res = await client.listAuditEvents(
        { workspace, tag: options.tag ?? "", pageSize: options.pageSize ?? 0, pageToken: options.pageToken ?? "" },
        { timeoutMs },
      );
      return { events: res.auditEvents.map(auditEvent), nextPageToken: res.nextPageToken };
    } catch (err) {
      throw toCloudConnError(err);
    }
  }
}
