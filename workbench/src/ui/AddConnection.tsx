// Cloud sidebar → Add connection: provider and scopes from the catalogue,
// the tag checked as you type, the server's field errors on their fields.
import type { ProviderName } from "@cloudconn/sdk/browser";
import { useState } from "preact/hooks";
import { showError, type ShownError } from "../errors";
import { navigate } from "../route";
import type { Store } from "../store";
import { described, Field, ScopesField } from "./Field";
import { NeedsWrite } from "./ReadOnly";

/** The tag rule (proto CreateConnectionRequest.tag; docs/api.md). */
export const TAG_PATTERN = /^[a-z][a-z0-9_]{1,62}$/;

export function tagProblem(tag: string): string | undefined {
  if (tag === "") return undefined;
  if (!/^[a-z]/.test(tag)) return "Starts with a lower-case letter.";
  if (/[^a-z0-9_]/.test(tag)) return "Only lower-case letters, digits and _.";
  if (tag.length < 2) return "At least 2 characters.";
  if (tag.length > 63) return "At most 63 characters.";
  return TAG_PATTERN.test(tag) ? undefined : "Does not match ^[a-z][a-z0-9_]{1,62}$.";
}

export function AddConnection({ store }: { store: Store }) {
  const providers = store.providers;
  const [provider, setProvider] = useState<string>("");
  const spec = providers.find((p) => p.provider === provider) ?? providers[0];
  const [tag, setTag] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [description, setDescription] = useState("");
  const [scopes, setScopes] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ShownError | null>(null);

  if (!store.canWrite) {
    return (
      <section class="panel" aria-labelledby="new-heading">
        <h1 id="new-heading">Add connection</h1>
        <NeedsWrite what="Adding a connection" />
      </section>
    );
  }
  if (store.loading) return <p>Loading the provider catalogue…</p>;
  if (!spec) return <p role="alert">The provider catalogue could not be loaded.</p>;

  const tagErr = tagProblem(tag) ?? err?.fields["tag"];
  const scopeErr = err?.fields["scopes"];
  const submit = async (e: Event) => {
    e.preventDefault();
    if (tag === "" || tagProblem(tag)) {
      setErr({ message: "Fix the tag.", fields: { tag: tagProblem(tag) ?? "Required." } });
      document.getElementById("new-tag")?.focus();
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const c = await store.client.cloud.connections.create({
        provider: spec.provider as ProviderName,
        name: tag,
        scopes: scopes.filter((s) => spec.scopes.includes(s)),
        display_name: displayName || undefined,
        description: description || undefined,
        request_id: crypto.randomUUID(),
      });
      store.upsert(c);
      navigate({ name: "connection", tag: c.tag, tab: "setup" });
    } catch (x) {
      setErr(showError(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="new-heading">
      <h1 id="new-heading">Add connection</h1>
      <form onSubmit={submit} noValidate>
        <fieldset class="providers">
          <legend>Provider</legend>
          {providers.map((p) => (
            <label class="radio">
              <input
                type="radio"
                name="provider"
                value={p.provider}
                checked={p.provider === spec.provider}
                onChange={() => {
                  setProvider(p.provider);
                  setScopes((s) => s.filter((x) => p.scopes.includes(x)));
                }}
              />
              {p.displayName || p.provider}
            </label>
          ))}
          {err?.fields["provider"] && <p class="error" role="alert">{err.fields["provider"]}</p>}
        </fieldset>
        <Field id="new-tag" label="Tag" hint="Fixed after creation: lower-case letters, digits and _, 2–63 characters, e.g. prod_aws." error={tagErr}>
          <input
            {...described("new-tag", "x", tagErr)}
            name="tag"
            required
            autoComplete="off"
            spellcheck={false}
            value={tag}
            onInput={(e) => setTag(e.currentTarget.value)}
          />
        </Field>
        <Field id="new-display-name" label="Display name (optional)" hint="Defaults to the tag." error={err?.fields["display_name"]}>
          <input {...described("new-display-name", "x", err?.fields["display_name"])} value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} />
        </Field>
        <Field id="new-description" label="Description (optional)" error={err?.fields["description"]}>
          <textarea {...described("new-description", undefined, err?.fields["description"])} rows={2} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <ScopesField id="new-scopes" options={spec.scopes} value={scopes} onChange={setScopes} error={scopeErr} />
        {err && Object.keys(err.fields).length === 0 && (
          <p class="error banner" role="alert">
            {err.message}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Creating…" : "Create connection"}
          </button>
          <a class="button" href="#/">
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}
