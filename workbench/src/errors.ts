// CloudConnError → what the page shows: a message, and field violations keyed
// by the form's field names (the server's path's last segment: `aws.role_arn`
// → `role_arn`, `scopes[0]` → `scopes`).
import { CloudConnError } from "@cloudconn/sdk/browser";

export interface ShownError {
  message: string;
  fields: Record<string, string>;
  reason?: string;
}

export function fieldKey(path: string): string {
  const last = path.split(".").pop() ?? path;
  return last.replace(/\[\d+\]$/, "");
}

export function showError(err: unknown): ShownError {
  if (err instanceof CloudConnError) {
    const fields: Record<string, string> = {};
    for (const v of err.fieldViolations ?? []) {
      const k = fieldKey(v.field);
      fields[k] = fields[k] ? `${fields[k]}; ${v.description}` : v.description;
    }
    if (err.reason === "TAG_ALREADY_EXISTS" && !fields["tag"]) fields["tag"] = err.message;
    return { message: err.message || err.code, fields, reason: err.reason };
  }
  return { message: err instanceof Error ? err.message : String(err), fields: {} };
}
