// Google Cloud client libraries: an `OAuth2Client` of google-auth-library
// (an optional peer dependency) to pass as `authClient`, e.g.
// `new Storage({ authClient, projectId })`.

import type { OAuth2Client } from "google-auth-library";
import { CloudConnError } from "../errors.js";
import type { CredentialRefresher } from "./refresh.js";
import { describeAs, wrongProvider } from "./refresh.js";

type GoogleAuthLibrary = typeof import("google-auth-library");

// OAuth2Client refreshes through `refreshHandler` only once its own copy is
// within this much of expiry; "always" hands every decision to the holder,
// whose rule is ours and whose clock a test can move. Asking the holder is
// a memory read until its refresh point.
const ALWAYS_ASK_MS = 1e15;

/**
 * google-auth-library, loaded with `require` from this package's location:
 * synchronously, so `credentials.gcp()` returns the client itself like the
 * other entry points, and only when called, so users of the other clouds
 * need not install it (and bundlers of the browser build never see it).
 */
function loadGoogleAuth(): GoogleAuthLibrary {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const nodeModule = getBuiltin?.("node:module") as typeof import("node:module") | undefined;
  if (!nodeModule) {
    throw missing("credentials.gcp() runs on Node 20.16 or later (it loads google-auth-library with process.getBuiltinModule)");
  }
  try {
    return nodeModule.createRequire(import.meta.url)("google-auth-library") as GoogleAuthLibrary;
  } catch (err) {
    throw missing(
      "credentials.gcp() needs google-auth-library, an optional peer dependency of @cloudconn/sdk: npm install google-auth-library",
      err,
    );
  }
}

function missing(message: string, cause?: unknown): CloudConnError {
  return new CloudConnError({ code: "FAILED_PRECONDITION", reason: "MISSING_DEPENDENCY", message, cause });
}

export function gcpProvider(holder: CredentialRefresher, label: string): OAuth2Client {
  const { OAuth2Client } = loadGoogleAuth();
  const client = new OAuth2Client({ eagerRefreshThresholdMillis: ALWAYS_ASK_MS });
  // The client keeps the last token in `credentials`, a plain field that
  // util.inspect and JSON.stringify would print: keep it, but out of sight.
  let kept: OAuth2Client["credentials"] = {};
  Object.defineProperty(client, "credentials", {
    get: () => kept,
    set: (value: OAuth2Client["credentials"]) => {
      kept = value;
    },
    enumerable: false,
    configurable: true,
  });
  client.refreshHandler = async () => {
    const { issued, expiresAt } = await holder.get();
    if (!issued.gcp) {
      throw wrongProvider(label, "gcp", issued.provider);
    }
    return { access_token: issued.gcp.accessToken, expiry_date: expiresAt };
  };
  return describeAs(client, `[Google OAuth2Client ${label}]`);
}
