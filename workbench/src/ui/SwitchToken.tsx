// A link brought a token other than the tab's: who it is, and the choice.
// The token itself is never shown (it may be copied from the screen), only
// what it says about itself; the server decides what it may do.
import type { TokenInfo } from "../session";

function describe(t: TokenInfo) {
  const workspaces = t.workspaces === null ? "not stated" : t.workspaces.includes("*") ? "every workspace" : t.workspaces.join(", ") || "none";
  const scopes = t.scopes === null ? "unknown" : t.scopes.join(" ") || "none";
  return (
    <dl class="token-claims">
      <dt>Subject</dt>
      <dd data-testid="claim-subject">{t.subject || (t.scopes === null ? "unknown (not a readable token)" : "not stated")}</dd>
      <dt>Workspaces</dt>
      <dd data-testid="claim-workspaces">{workspaces}</dd>
      <dt>Scopes</dt>
      <dd data-testid="claim-scopes">{scopes}</dd>
    </dl>
  );
}

export function SwitchToken(props: { current: TokenInfo | null; offered: TokenInfo; onSwitch: () => void; onKeep: () => void }) {
  return (
    <main class="token-page">
      <section class="panel" role="alertdialog" aria-labelledby="switch-title" aria-describedby="switch-why" data-testid="switch-token">
        <h1 id="switch-title">Switch to the link's token?</h1>
        <p id="switch-why">
          The link you followed carries a different token from the one this tab uses. Everything you do after switching is done as that token's subject, in its workspaces: switch only if
          you expected this link to sign you in.
        </p>
        <h2>The link's token</h2>
        {describe(props.offered)}
        {props.current && (
          <>
            <h2>This tab's token</h2>
            {describe(props.current)}
          </>
        )}
        <div class="actions">
          <button type="button" class="primary" onClick={props.onKeep} autoFocus>
            Keep this tab's token
          </button>
          <button type="button" onClick={props.onSwitch}>
            Switch to the link's token
          </button>
        </div>
      </section>
    </main>
  );
}
