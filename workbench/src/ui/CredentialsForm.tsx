// The provider's credential form, generated from the catalogue: secrets as
// password inputs ("set" when already saved; blank keeps it), a file picker for
// key files (GCP's service_account_json). What was typed is sent once and the
// form is cleared. With more than one credential kind, only the chosen kind's
// fields are shown and sent, with the kind (the parent shows the KindPicker).
import type { Connection, CredentialsInput, ProviderSpec } from "@cloudconn/sdk/browser";
import { useState } from "preact/hooks";
import { showError, type ShownError } from "../errors";
import type { Store } from "../store";
import { kindSpec } from "../kinds";
import { described, Field } from "./Field";

const isFileField = (name: string) => name.endsWith("_json");

export function CredentialsForm({
  store,
  conn,
  spec,
  kind,
}: {
  store: Store;
  conn: Connection;
  spec: ProviderSpec;
  kind: string;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [validate, setValidate] = useState(true);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ShownError | null>(null);
  const [saved, setSaved] = useState("");
  const [formKey, setFormKey] = useState(0);
  const first = conn.credentials.revision === 0;
  // The chosen kind's fields (all of them for a provider with one kind).
  const chosen = kindSpec(spec, kind);
  const fields = spec.fields.filter((f) => f.name !== "kind" && (!chosen || chosen.fields.includes(f.name)));
  const set = (k: string, v: string) => setValues((cur) => ({ ...cur, [k]: v }));

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    setSaved("");
    const input: Record<string, string> = {};
    if (spec.kinds.length > 1) input["kind"] = kind;
    for (const f of fields) {
      const v = f.secret ? values[f.name] ?? "" : values[f.name] ?? conn.credentials.fields[f.name] ?? "";
      if (v !== "") input[f.name] = v;
    }
    try {
      const c = await store.client.cloud.connections.complete(conn.tag, input as CredentialsInput, { validate, etag: conn.etag });
      store.upsert(c);
      setValues({}); // secrets are sent once, never kept
      setFormKey((k) => k + 1); // also clears the file inputs
      setSaved(`Saved as revision ${c.credentials.revision}${validate ? "; validating…" : "."}`);
    } catch (x) {
      setErr(showError(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form key={formKey} class="creds" onSubmit={submit} noValidate aria-label="Credentials">
      {fields.map((f) => {
        const id = `cred-${f.name}`;
        const isSet = conn.credentials.secretFieldsSet.includes(f.name);
        const error = err?.fields[f.name];
        const hint = [f.description, f.secret && isSet ? "Set — leave blank to keep the saved value." : ""].filter(Boolean).join(" ");
        const label = `${f.name}${f.required ? "" : " (optional)"}${f.secret && isSet ? " (set)" : ""}`;
        if (f.secret && isFileField(f.name)) {
          return (
            <Field id={id} label={label} hint={hint || "The key file (JSON)."} error={error}>
              <input
                {...described(id, "x", error)}
                type="file"
                accept="application/json,.json"
                onChange={async (e) => {
                  const file = e.currentTarget.files?.[0];
                  set(f.name, file ? await file.text() : "");
                }}
              />
            </Field>
          );
        }
        return (
          <Field id={id} label={label} hint={hint || undefined} error={error}>
            <input
              {...described(id, hint || undefined, error)}
              name={f.name}
              type={f.secret ? "password" : "text"}
              autoComplete={f.secret ? "new-password" : "off"}
              spellcheck={false}
              placeholder={f.secret && isSet ? "•••••• (set)" : ""}
              value={f.secret ? values[f.name] ?? "" : values[f.name] ?? conn.credentials.fields[f.name] ?? ""}
              onInput={(e) => set(f.name, e.currentTarget.value)}
            />
          </Field>
        );
      })}
      <label class="check">
        <input type="checkbox" checked={validate} onChange={(e) => setValidate(e.currentTarget.checked)} />
        Validate after saving
      </label>
      {err && Object.keys(err.fields).length === 0 && (
        <p class="error banner" role="alert">
          {err.message}
        </p>
      )}
      {saved && (
        <p class="ok" role="status">
          {saved}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Saving…" : first ? "Save credentials" : "Save new credentials"}
        </button>
      </div>
    </form>
  );
}
