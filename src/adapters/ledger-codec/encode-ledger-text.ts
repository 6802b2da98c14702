import { isDeepStrictEqual } from "node:util";
import { isScalar, parseDocument, visit } from "yaml";
import { updateNode } from "./edit-document.ts";
import type { BlockLayout, ItemLayout, LedgerLayout } from "./ledger-text.ts";
import { renderSequenceItem, renderTopLevel, renderYaml } from "./render-yaml.ts";
import { escapeInvisible, hasRawInvisible } from "./yaml-scalars.ts";

// Writing the ledger: copy what did not change, edit hand-commented pieces in place, render the rest.

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Re-renders `text` (hand-edited YAML) so it holds `value`, keeping its comments; null when the
 * result would not read back as exactly `value` or would hold raw invisible characters (the yaml
 * stringifier has such corners), in which case the caller writes the piece canonically.
 */
function editText(text: string, value: unknown, indent: number): string | null {
  const pad = " ".repeat(indent);
  try {
    const doc = parseDocument(text.split("\n").map((l) => (l.startsWith(pad) ? l.slice(indent) : l.trimStart())).join("\n"));
    if (doc.errors.length > 0) return null;
    doc.contents = updateNode(doc, doc.contents, value) as typeof doc.contents;
    // Strings with invisible characters go double-quoted, where they can be written as escapes.
    visit(doc, {
      Scalar(_key, node) {
        if (isScalar(node) && typeof node.value === "string" && hasRawInvisible(node.value)) node.type = "QUOTE_DOUBLE";
      },
    });
    const out = escapeInvisible(String(doc));
    const check = parseDocument(out, { uniqueKeys: true });
    if (check.errors.length > 0 || hasRawInvisible(out) || !isDeepStrictEqual(check.toJS({ maxAliasCount: 100 }), value)) return null;
    return out.replace(/\n$/, "").split("\n").map((l) => (l === "" ? l : pad + l)).join("\n");
  } catch {
    return null;
  }
}

/** Items with an id are matched by id; others by their whole value, so a removal moves no comment. */
function itemKey(value: unknown): string {
  if (typeof value === "object" && value !== null && "id" in value) return `id:${JSON.stringify((value).id)}`;
  return `value:${JSON.stringify(value)}`;
}

function renderItems(block: BlockLayout | undefined, next: readonly unknown[], origin: WeakMap<object, ItemLayout>, indent: number): ItemLayout[] {
  const prevByKey = new Map<string, ItemLayout[]>();
  for (const it of block?.items ?? []) {
    const key = itemKey(it.value);
    prevByKey.set(key, [...(prevByKey.get(key) ?? []), it]);
  }
  const pad = " ".repeat(indent);
  return next.map((value) => {
    const same = typeof value === "object" && value !== null ? origin.get(value) : undefined;
    if (same) return same;
    const prev = prevByKey.get(itemKey(value))?.shift();
    if (prev && sameJson(prev.value, value)) return prev;
    const edited = prev && !prev.canonical ? editText(prev.text, [value], indent) : null;
    const text = edited ?? renderSequenceItem(value, pad).join("\n");
    return { leading: prev?.leading ?? "", text, line: 0, value, canonical: edited === null };
  });
}

/**
 * Renders `next` as ledger text, and the layout of that text. With the layout of the text it came
 * from, unchanged pieces are copied verbatim (an item counts as unchanged when `origin` maps the
 * very object to it), changed canonical pieces are rendered canonically, and changed hand-edited
 * pieces are edited in place.
 */
export function encodeLedgerText(next: Record<string, unknown>, layout?: LedgerLayout, origin: WeakMap<object, ItemLayout> = new WeakMap()): { text: string; layout: LedgerLayout } {
  const blocks = layout?.blocks ?? [];
  const whole = blocks.length === 1 && blocks[0]?.key === "" ? blocks[0] : undefined;
  if (whole) {
    const text = editText(whole.text, next, 0) ?? renderYaml(next).replace(/\n$/, "");
    return { text: `${text}\n`, layout: { blocks: [{ ...whole, text, value: next }], trailer: "" } };
  }
  const byKey = new Map(blocks.map((b) => [b.key, b]));
  const keys = [...blocks.map((b) => b.key).filter((k) => next[k] !== undefined), ...Object.keys(next).filter((k) => !byKey.has(k) && next[k] !== undefined)];
  const chunks: string[] = [];
  const out: BlockLayout[] = [];
  for (const key of keys) {
    const value = next[key];
    const prev = byKey.get(key);
    const leading = prev?.leading ?? "";
    if (leading) chunks.push(leading);
    if (Array.isArray(value) && value.length > 0 && (prev?.items || !prev || prev.canonical)) {
      const indent = prev?.itemIndent ?? 2;
      const items = renderItems(prev, value, origin, indent);
      const header = (renderTopLevel(key, [])[0] as string).slice(0, -" []".length);
      chunks.push(header);
      for (const item of items) {
        if (item.leading) chunks.push(item.leading);
        chunks.push(item.text);
      }
      const trailing = prev?.items ? prev.text : "";
      if (trailing) chunks.push(trailing);
      out.push({ key, leading, text: trailing, line: 0, value, canonical: true, items, itemIndent: indent });
      continue;
    }
    let text: string;
    let canonical = true;
    if (prev && !prev.items && sameJson(prev.value, value)) {
      text = prev.text;
      canonical = prev.canonical;
    } else {
      const edited = prev && !prev.canonical && !prev.items ? editText(prev.text, { [key]: value }, 0) : null;
      canonical = edited === null;
      text = edited ?? renderTopLevel(key, value).join("\n");
    }
    chunks.push(text);
    out.push({ key, leading, text, line: 0, value, canonical });
  }
  const trailer = layout?.trailer ?? "";
  if (trailer) chunks.push(trailer);
  return { text: `${chunks.join("\n")}\n`, layout: { blocks: out, trailer } };
}
