// A labelled form control with its hint and error, wired for screen readers.
import type { ComponentChildren } from "preact";

export function Field(props: { id: string; label: string; hint?: string; error?: string; children: ComponentChildren }) {
  const { id, label, hint, error, children } = props;
  return (
    <div class={`field${error ? " has-error" : ""}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** aria-describedby / aria-invalid for the control inside a Field. */
export function described(id: string, hint?: string, error?: string) {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return { id, "aria-describedby": ids || undefined, "aria-invalid": error ? true : undefined };
}
