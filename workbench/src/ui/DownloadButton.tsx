// A Download button: saves `text` as a file named `name` (a Blob behind an
// object URL, clicked through an <a download>), so a kit's files can be
// handed on as files rather than pasted into an editor.
import type { JSX } from "preact";

/** Long enough for the browser to have read the Blob; then its URL is revoked. */
const REVOKE_AFTER_MS = 10_000;

export function downloadText(text: string, name: string, type = "text/plain"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later, not at once: some browsers fetch the Blob after click() returns.
  window.setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}

/** "Download" (its accessible name: "Download trust-policy.json"). */
export function DownloadButton({ text, name, type }: { text: string; name: string; type?: string }): JSX.Element {
  return (
    <button type="button" class="copy-button" onClick={() => downloadText(text, name, type || undefined)}>
      Download<span class="sr-only"> {name}</span>
    </button>
  );
}
