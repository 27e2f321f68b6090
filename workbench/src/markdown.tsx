// A small Markdown renderer for the setup kit's step texts, built from
// Preact elements, never from HTML strings: whatever the text holds (a
// connection's description, a tag, a hostile `<script>`) ends up as text
// nodes, so nothing can be injected. It covers what the server's kits use
// and a little more: paragraphs, "- " and "1. " lists, fenced code blocks,
// `code`, **bold**, *emphasis* and [links](https://…) (http and https only).
// Anything else is shown as the literal text. A library (marked, markdown-it)
// would need an HTML sanitiser and several times these bytes.
import type { ComponentChildren, VNode } from "preact";

type Block = { kind: "p"; text: string } | { kind: "ul" | "ol"; items: string[] } | { kind: "pre"; text: string };

const BULLET = /^\s*[-*]\s+/;
const NUMBER = /^\s*\d+[.)]\s+/;
const FENCE = /^\s*```/;

/** Splits Markdown into blocks: fenced code, lists, and paragraphs (blank-line separated). */
export function blocks(md: string): Block[] {
  const out: Block[] = [];
  const lines = md.replace(/\r\n?/g, "\n").split("\n");
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push({ kind: "p", text: para.join(" ") });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (FENCE.test(line)) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !FENCE.test(lines[i] ?? ""); i++) code.push(lines[i] ?? "");
      out.push({ kind: "pre", text: code.join("\n") });
    } else if (BULLET.test(line) || NUMBER.test(line)) {
      flush();
      const kind = BULLET.test(line) ? "ul" : "ol";
      const marker = kind === "ul" ? BULLET : NUMBER;
      const items: string[] = [];
      for (; i < lines.length && marker.test(lines[i] ?? ""); i++) items.push((lines[i] ?? "").replace(marker, ""));
      i--;
      out.push({ kind, items });
    } else if (line.trim() === "") {
      flush();
    } else {
      para.push(line.trim());
    }
  }
  flush();
  return out;
}

// One alternative per inline form; the first to match at a position wins.
const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s][^*]*?)\*|\[([^\]]+)\]\(([^)\s]+)\)/g;

/** Inline Markdown → Preact children (strings and elements only). */
export function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    const start = m.index ?? 0;
    if (start > at) out.push(text.slice(at, start));
    const [whole, code, bold, em, label, url] = m;
    if (code !== undefined) out.push(<code>{code}</code>);
    else if (bold !== undefined) out.push(<strong>{inline(bold)}</strong>);
    else if (em !== undefined) out.push(<em>{inline(em)}</em>);
    else if (label !== undefined && url !== undefined && /^https?:\/\//i.test(url)) {
      out.push(
        <a href={url} target="_blank" rel="noopener noreferrer">
          {inline(label)}
        </a>,
      );
    } else out.push(whole);
    at = start + whole.length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

export function Markdown({ text }: { text: string }): VNode {
  return (
    <div class="md">
      {blocks(text).map((b) => {
        switch (b.kind) {
          case "p":
            return <p>{inline(b.text)}</p>;
          case "pre":
            return (
              <pre tabIndex={0}>
                <code>{b.text}</code>
              </pre>
            );
          default: {
            const List = b.kind; // "ul" or "ol"
            return (
              <List>
                {b.items.map((item) => (
                  <li>{inline(item)}</li>
                ))}
              </List>
            );
          }
        }
      })}
    </div>
  );
}
