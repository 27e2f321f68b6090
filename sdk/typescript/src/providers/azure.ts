// Azure SDK for JavaScript: a `TokenCredential` (@azure/core-auth's shape)
// for any client or pipeline, e.g. `bearerTokenAuthenticationPolicy`.

import { CloudConnError } from "../errors.js";
import type { CredentialRefresher } from "./refresh.js";
import { describeAs, wrongProvider } from "./refresh.js";

/** @azure/core-auth's `AccessToken`. */
export interface AzureAccessToken {
  token: string;
  /** When it expires (ms since the epoch). */
  expiresOnTimestamp: number;
  /** When this credential will fetch a new one (ms since the epoch): ask again from then on. */
  refreshAfterTimestamp?: number;
  tokenType?: "Bearer" | "pop";
}

/** @azure/core-auth's `TokenCredential`, structurally (its options are not needed here). */
export interface AzureTokenCredential {
  getToken(scopes: string | string[], options?: object): Promise<AzureAccessToken | null>;
}

/** `https://management.azure.com/` and `https://management.azure.com` name one resource. */
function resource(s: string): string {
  return s.replace(/\/+$/, "").toLowerCase();
}

class CloudConnTokenCredential implements AzureTokenCredential {
  readonly #holder: CredentialRefresher;
  readonly #label: string;

  constructor(holder: CredentialRefresher, label: string) {
    this.#holder = holder;
    this.#label = label;
  }

  /**
   * A token of the connection scope's audience. An Entra ID token is for one
   * resource, so scopes naming another (a storage scope's connection asked
   * for a management token) are refused rather than answered with a token
   * the service would reject.
   */
  async getToken(scopes: string | string[]): Promise<AzureAccessToken> {
    const { issued, expiresAt, refreshAt } = await this.#holder.get();
    const azure = issued.azure;
    if (!azure) {
      throw wrongProvider(this.#label, "azure", issued.provider);
    }
    const asked = typeof scopes === "string" ? [scopes] : scopes;
    const gives = `${azure.audience.replace(/\/+$/, "")}/.default`;
    const other = asked.filter((s) => !s.endsWith("/.default") || resource(s.slice(0, -"/.default".length)) !== resource(azure.audience));
    if (asked.length === 0 || other.length > 0) {
      const description = `asked for ${JSON.stringify(asked)}, but ${this.#label} gives tokens for ${gives} only (audience ${azure.audience}): issue for the scope whose audience the client needs`;
      throw new CloudConnError({
        code: "INVALID_ARGUMENT",
        reason: "AUDIENCE_MISMATCH",
        message: `invalid fields: scopes; scopes: ${description}`,
        fieldViolations: [{ field: "scopes", description }],
      });
    }
    return { token: azure.accessToken, expiresOnTimestamp: expiresAt, refreshAfterTimestamp: refreshAt, tokenType: "Bearer" };
  }
}

export function azureProvider(holder: CredentialRefresher, label: string): AzureTokenCredential {
  return describeAs(new CloudConnTokenCredential(holder, label), `[Azure TokenCredential ${label}]`);
}
