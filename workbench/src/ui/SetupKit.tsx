// The setup kit (docs/setup-kit.md) on the Setup tab: what the customer grants at
// the provider, step by step, each file in a <pre> with its Copy and
// Download buttons. It is generated for the connection's scopes and external
// id, so it is fetched again when those change. A deployment that cannot
// make the kit (AWS needs CLOUDCONN_AWS_PLATFORM_PRINCIPAL) answers
// FAILED_PRECONDITION / SETUP_NOT_CONFIGURED: that is a plain notice with
// the scopes' permissions from the catalogue, not an error.
import type { Connection, ProviderSpec, SetupInstructions } from "@cloudconn/sdk/browser";
import { useEffect, useState } from "preact/hooks";
import { showError, type ShownError } from "../errors";
import { Markdown } from "../markdown";
import type { Store } from "../store";
import { CopyButton } from "./CopyButton";
import { DownloadButton } from "./DownloadButton";

export function SetupKit({ store, conn, spec, kind }: { store: Store; conn: Connection; spec: ProviderSpec; kind: string }) {
  const [kit, setKit] = useState<SetupInstructions | null>(null);
  // Open until credentials were saved once; after that (a failed validation
  // being fixed) the form matters more, and the kit is one click away. Only
  // the initial value: the user's toggling is left alone.
  const [open] = useState(conn.credentials.revision === 0);
  const [err, setErr] = useState<ShownError | null>(null);
  const scopes = conn.scopes.join(",");
  useEffect(() => {
    let current = true;
    setErr(null);
    store.client.cloud.connections.setup(conn.tag, { kind }).then(
      (k) => current && setKit(k),
      (e) => current && setErr(showError(e)),
    );
    return () => {
      current = false;
    };
  }, [store, conn.tag, scopes, conn.externalId, kind]);

  if (err?.reason === "SETUP_NOT_CONFIGURED") {
    return (
      <section class="kit" aria-labelledby="kit-heading">
        <h2 id="kit-heading">Setup kit</h2>
        <p class="notice" data-testid="kit-not-configured">
          No setup kit from this server: {err.message}. Grant the permissions below by hand (or ask the server's operators).
        </p>
        <ScopePermissions conn={conn} spec={spec} />
      </section>
    );
  }
  return (
    <details class="kit" open={open} aria-busy={!kit && !err}>
      <summary>
        <h2 id="kit-heading">Setup kit{kit ? ` (${kit.steps.length} steps)` : ""}</h2>
      </summary>
      {err && (
        <p class="error banner" role="alert">
          The setup kit could not be loaded: {err.message}
        </p>
      )}
      {!kit && !err && <p>Loading the setup kit…</p>}
      {kit && (
        <>
          <p>What to grant at {spec.displayName || conn.provider}, for the scopes {conn.scopes.join(", ")}. Then save the credentials below.</p>
          <ol class="kit-steps">
            {kit.steps.map((step, i) => (
              <li key={step.title}>
                <h3>{step.title}</h3>
                <Markdown text={step.text} />
                {step.artifacts.map((a, j) => {
                  const id = `kit-${i}-${j}`;
                  return (
                    <div class="artifact" key={a.name}>
                      <div class="artifact-head">
                        <code class="artifact-name" id={`${id}-name`}>
                          {a.name}
                        </code>
                        <span class="artifact-actions">
                          <CopyButton text={a.content} what={a.name} target={id} />
                          <DownloadButton text={a.content} name={a.name} type={a.mediaType} />
                        </span>
                      </div>
                      <pre id={id} tabIndex={0} aria-labelledby={`${id}-name`} data-media-type={a.mediaType}>
                        {a.content}
                      </pre>
                    </div>
                  );
                })}
              </li>
            ))}
          </ol>
        </>
      )}
    </details>
  );
}

/** Each requested scope's provider permissions, from the catalogue. */
function ScopePermissions({ conn, spec }: { conn: Connection; spec: ProviderSpec }) {
  const wanted = spec.scopeSpecs.filter((s) => conn.scopes.includes(s.name));
  if (wanted.length === 0) return null;
  return (
    <dl class="scope-perms">
      {wanted.map((s) => (
        <>
          <dt>{s.name}</dt>
          <dd>
            {s.permissions.map((p, i) => (
              <>
                {i > 0 && ", "}
                <code>{p}</code>
              </>
            ))}
          </dd>
        </>
      ))}
    </dl>
  );
}
