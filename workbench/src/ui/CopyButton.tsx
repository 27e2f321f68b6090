// A Copy button: the Clipboard API where the page may use it, else the old
// select-and-execCommand way (plain-http pages off loopback are not a
// secure context, so navigator.clipboard is missing there), else it selects
// the text for the user to copy. The outcome is announced to screen readers.
import { useEffect, useRef, useState } from "preact/hooks";

/** Copies `text`; true when the browser says it did. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // refused (no permission, not focused): try the fallback
  }
  const active = document.activeElement as HTMLElement | null;
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.setAttribute("aria-hidden", "true");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  active?.focus(); // the textarea took focus: give it back to the button
  return ok;
}

/** Selects the element's text, so the user can copy it when the page cannot. */
function selectContents(id: string | undefined): void {
  const el = id ? document.getElementById(id) : null;
  if (!el) return;
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = window.getSelection();
  sel?.removeAllRanges();
  sel?.addRange(range);
}

type State = "idle" | "copied" | "failed";

/**
 * `what` completes the button's accessible name ("Copy trust-policy.json");
 * `target` is the id of the element holding the text, selected when copying
 * is impossible.
 */
export function CopyButton({ text, what, target }: { text: string; what: string; target?: string }) {
  const [state, setState] = useState<State>("idle");
  const timer = useRef<number>();
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const copy = async () => {
    const ok = await copyText(text);
    if (!ok) selectContents(target);
    setState(ok ? "copied" : "failed");
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setState("idle"), 4000);
  };
  return (
    <span class="copy">
      <button type="button" class="copy-button" onClick={copy}>
        {state === "copied" ? "Copied" : "Copy"}
        <span class="sr-only"> {what}</span>
      </button>
      {/* Visible only when it asks the user to act; the button already says "Copied". */}
      <span class={state === "failed" ? "copy-status error" : "copy-status sr-only"} role="status">
        {state === "copied" ? `Copied ${what}` : state === "failed" ? "Could not copy: the text is selected, press Ctrl+C (⌘C)" : ""}
      </span>
    </span>
  );
}
