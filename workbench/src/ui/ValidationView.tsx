// The last validation: state, error + hint + missing permissions, per-scope
// checks, identity found, warnings.
import type { Validation } from "@cloudconn/sdk/browser";
import { time } from "../format";

export function ValidationView({ v }: { v?: Validation }) {
  if (!v) return <p>Never validated. Save credentials, then Re-validate.</p>;
  const identity = Object.entries(v.identity);
  return (
    <div class="validation">
      <p>
        <span class={`badge badge-v-${v.state}`} data-testid="validation-state">
          {v.state}
        </span>{" "}
        revision {v.revision}, {v.attempts} attempt{v.attempts === 1 ? "" : "s"}, ended {time(v.endTime)}
      </p>
      {v.error && (
        <div class="verror" role="alert">
          <p>
            <strong>{v.error.code}</strong>: {v.error.message}
          </p>
          {v.error.hint && (
            <p class="vhint">
              <strong>How to fix: </strong>
              {v.error.hint}
            </p>
          )}
          {v.error.missingPermissions.length > 0 && (
            <>
              <p>Missing permissions:</p>
              <ul class="perms">
                {v.error.missingPermissions.map((p) => (
                  <li>
                    <code>{p}</code>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      {v.scopeChecks.length > 0 && (
        <table>
          <caption>Scopes</caption>
          <thead>
            <tr>
              <th scope="col">Scope</th>
              <th scope="col">Granted</th>
              <th scope="col">Missing permissions</th>
            </tr>
          </thead>
          <tbody>
            {v.scopeChecks.map((s) => (
              <tr>
                <th scope="row">{s.scope}</th>
                <td>{s.granted ? "yes" : "no"}</td>
                <td>{s.missingPermissions.join(", ") || "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {identity.length > 0 && (
        <dl class="identity">
          {identity.map(([k, val]) => (
            <>
              <dt>{k}</dt>
              <dd>
                <code>{val}</code>
              </dd>
            </>
          ))}
        </dl>
      )}
      {v.warnings.length > 0 && (
        <ul class="warnings">
          {v.warnings.map((w) => (
            <li>{w}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
