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

/** The scopes as checkboxes (Add connection, Settings), with the server's error on them. */
export function ScopesField(props: { id: string; options: string[]; value: string[]; onChange: (update: (cur: string[]) => string[]) => void; error?: string }) {
  const { id, options, value, onChange, error } = props;
  return (
    <fieldset class="scopes" aria-describedby={error ? `${id}-error` : undefined}>
      <legend>Scopes</legend>
      {options.map((s) => (
        <label class="check">
          <input
            type="checkbox"
            name="scopes"
            value={s}
            checked={value.includes(s)}
            onChange={(e) => {
              const on = e.currentTarget.checked;
              onChange((cur) => (on ? [...cur, s] : cur.filter((x) => x !== s)));
            }}
          />
          {s}
        </label>
      ))}
      {error && (
        <p class="error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
