import { parseDocument } from "yaml";
import { updateNode } from "./edit-document.ts";
import { NotCanonical, readCanonical, readCanonicalItem } from "./read-yaml.ts";
import { renderSequenceItem, renderTopLevel } from "./render-yaml.ts";

/**
 * The ledger file as blocks (one per top-level key) and, for block sequences such as `tasks`, one
 * item per element. Each piece keeps its exact text, so a write re-renders only what changed and
 * every comment on an unchanged piece survives byte for byte. Pieces in the canonical subset are
 * read by the fast reader; anything else (comments inside, other styles) by the `yaml` package.
 */
export interface ItemLayout {
  /** Comment and blank lines before the item. */
  leading: string[];
  lines: string[];
  /** 1-based line of the item's dash in the file. */
  line: number;
  value: unknown;
  canonical: boolean;
}

export interface BlockLayout {
  key: string;
  leading: string[];
  /** Lines of the block (header included) when it is not itemized. */
  lines: string[];
  line: number;
  value: unknown;
  canonical: boolean;
  /** Present when the value is a block sequence split into items. */
  items?: ItemLayout[];
  itemIndent?: number;
}

export interface LedgerLayout {
  blocks: BlockLayout[];
  trailer: string[];
}

/** A YAML syntax error with the 1-based line it was found on. */
export class YamlSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const TOP_KEY = /^(?:[A-Za-z_][A-Za-z0-9_-]*|"(?:[^"\\]|\\.)*"):(?: |$)/;

function isTrivia(line: string): boolean {
  const t = line.trimStart();
  return t === "" || t.startsWith("#");
}

/** Blank, or a comment no deeper than `indent` (deeper `#` lines may be block-scalar content). */
function isTriviaAt(line: string, indent: number): boolean {
  const t = line.trimStart();
  return t === "" || (t.startsWith("#") && line.length - t.length <= indent);
}

/** Parses text with the full `yaml` parser; `offset` maps its lines back to the file's. */
function parseFull(text: string, offset: number): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) throw new YamlSyntaxError((err.linePos?.[0]?.line ?? 1) + offset, err.message.split("\n")[0] ?? err.message);
  return doc.toJS({ maxAliasCount: 100 });
}

function parseItem(lines: string[], start: number, indent: number): { value: unknown; canonical: boolean } {
  try {
    return { value: readCanonicalItem(lines, 0, lines.length, indent), canonical: true };
  } catch (err) {
    if (!(err instanceof NotCanonical)) throw err;
  }
  const value = parseFull(lines.join("\n"), start);
  if (!Array.isArray(value) || value.length !== 1) throw new YamlSyntaxError(start + 1, "a sequence item could not be read on its own");
  return { value: value[0], canonical: false };
}

function splitItems(block: BlockLayout, body: string[], firstLine: number): void {
  const first = body.findIndex((l) => !isTrivia(l));
  if (first < 0) return;
  const dash = body[first] as string;
  const indent = dash.length - dash.trimStart().length;
  if (dash[indent] !== "-" || !(dash.length === indent + 1 || dash[indent + 1] === " ")) return;
  const starts: number[] = [];
  for (let i = first; i < body.length; i++) {
    const l = body[i] as string;
    if (l[indent] === "-" && l.length - l.trimStart().length === indent) starts.push(i);
  }
  const items: ItemLayout[] = [];
  let leadingStart = 0;
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k] as number;
    let e = k + 1 < starts.length ? (starts[k + 1] as number) : body.length;
    while (e > s + 1 && isTriviaAt(body[e - 1] as string, indent)) e--;
    const lines = body.slice(s, e);
    const parsed = parseItem(lines, firstLine + s, indent);
    items.push({ leading: body.slice(leadingStart, s), lines, line: firstLine + s + 1, ...parsed });
    leadingStart = e;
  }
  block.items = items;
  block.itemIndent = indent;
  block.value = items.map((i) => i.value);
  block.lines = body.slice(leadingStart); // trailing trivia after the last item
}

/** Splits and parses ledger text. Throws YamlSyntaxError (with a line) on invalid YAML. */
export function decodeLedgerText(text: string): { raw: unknown; layout: LedgerLayout } {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const blocks: BlockLayout[] = [];
  let leading: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (isTrivia(line)) {
      leading.push(line);
      i++;
      continue;
    }
    if (!TOP_KEY.test(line)) return decodeWhole(text);
    let e = i + 1;
    while (e < lines.length && (isTrivia(lines[e] as string) || (lines[e] as string).startsWith(" ") || (lines[e] as string).startsWith("-"))) e++;
    let end = e;
    while (end > i + 1 && isTrivia(lines[end - 1] as string) && !(lines[end - 1] as string).startsWith(" ")) end--;
    const blockLines = lines.slice(i, end);
    const block: BlockLayout = { key: "", leading, lines: blockLines, line: i + 1, value: undefined, canonical: true };
    const header = blockLines[0] as string;
    const colon = header.startsWith('"') ? header.indexOf('":') + 1 : header.indexOf(":");
    block.key = header.startsWith('"') ? (JSON.parse(header.slice(0, colon)) as string) : header.slice(0, colon);
    if (header.length === colon + 1) splitItems(block, blockLines.slice(1), i + 1);
    if (!block.items) {
      try {
        block.value = (readCanonical(blockLines) as Record<string, unknown>)[block.key];
      } catch (err) {
        if (!(err instanceof NotCanonical)) throw err;
        block.canonical = false;
        block.value = (parseFull(blockLines.join("\n"), i) as Record<string, unknown> | null)?.[block.key];
      }
    }
    if (blocks.some((b) => b.key === block.key)) throw new YamlSyntaxError(i + 1, `duplicate top-level key "${block.key}"`);
    blocks.push(block);
    leading = [];
    i = end;
  }
  const raw = Object.fromEntries(blocks.map((b) => [b.key, b.value]));
  return { raw, layout: { blocks, trailer: leading } };
}

/** Fallback for files that do not split into top-level blocks: one block holding the document. */
function decodeWhole(text: string): { raw: unknown; layout: LedgerLayout } {
  const raw = parseFull(text, 0);
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return { raw, layout: { blocks: [{ key: "", leading: [], lines, line: 1, value: raw, canonical: false }], trailer: [] } };
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** Re-renders `lines` (non-canonical YAML) so they hold `value`, keeping comments. */
function editLines(lines: string[], value: unknown, dedent: number): string[] {
  const doc = parseDocument(lines.map((l) => l.slice(dedent)).join("\n"));
  doc.contents = updateNode(doc, doc.contents, value) as typeof doc.contents;
  const pad = " ".repeat(dedent);
  return String(doc).replace(/\n$/, "").split("\n").map((l) => (l === "" ? l : pad + l));
}

function itemKey(value: unknown, index: number): string {
  if (typeof value === "object" && value !== null && "id" in value) return `id:${String((value).id)}`;
  return `ix:${index}`;
}

function renderItems(block: BlockLayout, next: unknown[], origin: WeakMap<object, ItemLayout>): string[] {
  const indent = block.itemIndent ?? 2;
  const prevByKey = new Map((block.items ?? []).map((it, ix) => [itemKey(it.value, ix), it]));
  const out: string[] = [];
  next.forEach((value, ix) => {
    const same = typeof value === "object" && value !== null ? origin.get(value) : undefined;
    const prev = same ?? prevByKey.get(itemKey(value, ix));
    if (prev) out.push(...prev.leading);
    if (prev && (same !== undefined || sameJson(prev.value, value))) out.push(...prev.lines);
    else if (prev && !prev.canonical) out.push(...editLines(prev.lines, [value], indent));
    else out.push(...renderSequenceItem(value, " ".repeat(indent)));
  });
  return out;
}

/**
 * Renders `next` as ledger text. With the layout of the text it came from, unchanged pieces are
 * copied verbatim (an item counts as unchanged when `origin` maps the very object to it), changed
 * canonical pieces are rendered canonically, and changed hand-edited pieces are edited in place.
 */
export function encodeLedgerText(next: Record<string, unknown>, layout?: LedgerLayout, origin: WeakMap<object, ItemLayout> = new WeakMap()): string {
  const blocks = layout?.blocks ?? [];
  if (blocks.length === 1 && blocks[0]?.key === "") {
    const whole = blocks[0];
    return `${editLines(whole.lines, next, 0).join("\n")}\n`;
  }
  const out: string[] = [];
  const keys = [...blocks.map((b) => b.key).filter((k) => next[k] !== undefined), ...Object.keys(next).filter((k) => !blocks.some((b) => b.key === k))];
  for (const key of keys) {
    const value = next[key];
    if (value === undefined) continue;
    const prev = blocks.find((b) => b.key === key);
    if (!prev) {
      out.push(...renderTopLevel(key, value));
      continue;
    }
    out.push(...prev.leading);
    if (prev.items && Array.isArray(value) && value.length > 0) {
      out.push((renderTopLevel(key, [])[0] as string).slice(0, -" []".length));
      out.push(...renderItems(prev, value, origin), ...prev.lines);
    } else if (sameJson(prev.value, value)) out.push(...prev.lines);
    else if (prev.canonical || prev.items) out.push(...renderTopLevel(key, value));
    else out.push(...editLines(prev.lines, { [key]: value }, 0));
  }
  out.push(...(layout?.trailer ?? []));
  return `${out.join("\n")}\n`;
}
