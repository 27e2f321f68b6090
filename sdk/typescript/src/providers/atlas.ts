// MongoDB Atlas: a function answering a connection string with a temporary
// database user, for the cluster host the caller names (the run step mints
// users per project; which cluster to reach is the component's business).

import type { CredentialRefresher } from "./refresh.js";
import { describeAs, wrongProvider } from "./refresh.js";

/** Answers a `mongodb+srv://` (or, for a host with a port, `mongodb://`) URI whose user is valid for at least 10 s more. */
export type ConnectionStringFunction = () => Promise<string>;

export function atlasProvider(holder: CredentialRefresher, label: string, host: string): ConnectionStringFunction {
  // An SRV name takes no port; a host:port is a plain seed list entry.
  const scheme = /:\d+$/.test(host) ? "mongodb" : "mongodb+srv";
  const connectionString: ConnectionStringFunction = async () => {
    const { issued } = await holder.get();
    const user = issued.mongodbAtlas;
    if (!user) {
      throw wrongProvider(label, "atlas", issued.provider);
    }
    const auth = `${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}`;
    const authSource = encodeURIComponent(user.database || "admin");
    return `${scheme}://${auth}@${host}/?authSource=${authSource}&retryWrites=true&w=majority`;
  };
  return describeAs(connectionString, `[Atlas connection string function ${label} @ ${host}]`);
}
