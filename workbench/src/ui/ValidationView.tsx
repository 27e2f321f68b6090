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
        // Boxed and labelled like the other notices: plain coloured text was
        // easy to read past, and an expiry warning says what to do before a date.
        <ul class="notice warnings" aria-label="Warnings" data-testid="validation-warnings">
          {v.warnings.map((w) => (
            <li>
              <strong>Warning: </strong>
              {w}
            </li>
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

/**
 * How far off an expiry is: whole days up to ~3 months ("in 13 days" until 14
 * full days are left), as the server's expiry warning counts them, so the
 * notice and the warning under it name the same number (the general format
 * would say "in 2 weeks"); further off, or under a day, the general format
 * ("in 2 years", "in 5 hours").
 */
function left(at: Date, now = Date.now()): string {
  const days = Math.floor((at.getTime() - now) / 86_400_000);
  if (days < 1 || days > 90) return ahead(at, now);
  return `in ${days} day${days === 1 ? "" : "s"}`;
}

/** "Credential expires 2027-01-05 00:00:00 UTC (in 28 days)"; a value that is not a time is shown as it came. */
function Expiry({ value }: { value: string }) {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return <p class="notice expiry">Credential expires {value}</p>;
  const past = at.getTime() <= Date.now();
  return (
    <p class={`notice expiry${past ? " expired" : ""}`} data-testid="credential-expiry">
      Credential {past ? "expired" : "expires"} <time dateTime={at.toISOString()}>{time(at)}</time>
      {past ? "" : ` (${left(at)})`}
    </p>
  );
}
