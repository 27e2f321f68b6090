// Neo4j Aura: a function answering a bearer token for the Aura API
// (`Authorization: Bearer ${await token()}`).

import type { CredentialRefresher } from "./refresh.js";
import { describeAs, wrongProvider } from "./refresh.js";

/** Answers a bearer token valid for at least 10 s more, refreshed ahead of expiry. */
export type BearerTokenFunction = () => Promise<string>;

export function auraProvider(holder: CredentialRefresher, label: string): BearerTokenFunction {
  const token: BearerTokenFunction = async () => {
    const { issued } = await holder.get();
    if (!issued.neo4jAura) {
      throw wrongProvider(label, "aura", issued.provider);
    }
    return issued.neo4jAura.accessToken;
  };
  return describeAs(token, `[Aura token function ${label}]`);
}
