// The last validation: state, what started it, error + hint + missing
// permissions, when the credential expires (when the provider says),
// warnings, per-scope checks, identity found.
import type { Validation } from "@cloudconn/sdk/browser";
import { ahead, time } from "../format";

/** How each trigger reads; an unknown one ("unspecified": older rows) is not shown. */
const TRIGGERS: Partial<Record<Validation["trigger"], string>> = {
  manual: "manual",
  complete: "on save",
  scheduled: "scheduled check",
};

/** The identity key a provider's expiry comes in (RFC 3339): shown as its own line, not as raw identity. */
const EXPIRES = "credential_expire_time";

export function ValidationView({ v }: { v?: Validation }) {
  if (!v) return <p>Never validated. Save credentials, then Re-validate.</p>;
  const identity = Object.entries(v.identity).filter(([k]) => k !== EXPIRES);
  const trigger = TRIGGERS[v.trigger];
  const expires = v.identity[EXPIRES];
  return (
    <div class="validation">
      <p>
        <span class={`badge badge-v-${v.state}`} data-testid="validation-state">
          {v.state}
        </span>{" "}
        revision {v.revision}, {v.attempts} attempt{v.attempts === 1 ? "" : "s"}, ended {time(v.endTime)}
      </p>
      {trigger && (
        <p class="vtrigger">
          Trigger: <strong data-testid="validation-trigger">{trigger}</strong>
        </p>
      )}
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
      {expires && <Expiry value={expires} />}
      {/* Above the tables: an expiry warning must not be missed below a long scope list. */}
      {v.warnings.length > 0 && (
        <ul class="warnings">
          {v.warnings.map((w) => (
            <li>{w}</li>
          ))}
        </ul>
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
    </div>
  );
}

/** "Credential expires 2027-01-05 00:00:00 UTC (in 28 days)"; a value that is not a time is shown as it came. */
function Expiry({ value }: { value: string }) {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return <p class="notice expiry">Credential expires {value}</p>;
  const past = at.getTime() <= Date.now();
  return (
    <p class={`notice expiry${past ? " expired" : ""}`} data-testid="credential-expiry">
      Credential {past ? "expired" : "expires"} <time dateTime={at.toISOString()}>{time(at)}</time>
      {past ? "" : ` (${ahead(at)})`}
    </p>
  );
}
