import { parseDocument } from "yaml";
import { NotCanonical, readCanonical, readCanonicalItem } from "./read-yaml.ts";

/**
 * The ledger file as blocks (one per top-level key) and, for block sequences such as `tasks`, one
 * item per element. Each piece keeps its exact text, so a write re-renders only what changed and
 * every comment on an unchanged piece survives byte for byte. Pieces in the canonical subset are
 * read by the fast reader; anything else (comments inside, other styles) by the `yaml` package.
 */
export interface ItemLayout {
  /** Comment and blank lines before the item ("" when none), joined with newlines. */
  leading: string;
  /** The item's lines joined with newlines, no trailing newline. */
  text: string;
  /** 1-based line of the item's dash in the file it was read from (0 when rendered by a write). */
  line: number;
  value: unknown;
  canonical: boolean;
}

export interface BlockLayout {
  key: string;
  leading: string;
  /** The block's text (header included) when it is not itemized; else the trivia after the last item. */
  text: string;
  line: number;
  value: unknown;
  canonical: boolean;
  /** Present when the value is a block sequence split into items. */
  items?: ItemLayout[];
  itemIndent?: number;
}

export interface LedgerLayout {
  blocks: BlockLayout[];
  trailer: string;
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

/** Parses text with the full `yaml` parser; `offset` (0-based line) maps its lines to the file's. */
function parseFull(text: string, offset: number): unknown {
  // The trailing newline matters: yaml misses a quote left open at the very end of its input.
  const doc = parseDocument(text.endsWith("\n") ? text : `${text}\n`, { prettyErrors: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const first = (err.message.split("\n")[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, "");
    throw new YamlSyntaxError((err.linePos?.[0]?.line ?? 1) + offset, first);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // An unresolved alias or an alias bomb: yaml throws while building values, with no position.
    throw new YamlSyntaxError(offset + 1, e instanceof Error ? e.message : String(e));
  }
}

function joinLines(lines: readonly string[], start: number, end: number): string {
  return start >= end ? "" : lines.slice(start, end).join("\n");
}

function parseItem(lines: string[], start: number, end: number, indent: number): { value: unknown; canonical: boolean } {
  try {
    return { value: readCanonicalItem(lines, start, end, indent), canonical: true };
  } catch (err) {
    if (!(err instanceof NotCanonical)) throw err;
  }
  const value = parseFull(joinLines(lines, start, end), start);
  if (!Array.isArray(value) || value.length !== 1) throw new YamlSyntaxError(start + 1, "a sequence item could not be read on its own");
  return { value: value[0], canonical: false };
}

/** Splits the body of a block sequence (lines[from, to)) into items; false when it is not one. */
function splitItems(block: BlockLayout, lines: string[], from: number, to: number): boolean {
  let first = from;
  while (first < to && isTrivia(lines[first] as string)) first++;
  if (first >= to) return false;
  const dash = lines[first] as string;
  const indent = dash.length - dash.trimStart().length;
  if (dash.slice(0, indent).includes("\t")) return false;
  if (dash[indent] !== "-" || !(dash.length === indent + 1 || dash[indent + 1] === " ")) return false;
  const starts: number[] = [];
  for (let i = first; i < to; i++) {
    const l = lines[i] as string;
    if (l.charCodeAt(indent) === 45 /* - */ && (indent === 0 || l.charCodeAt(indent - 1) === 32) && l.length - l.trimStart().length === indent) starts.push(i);
  }
  const items: ItemLayout[] = [];
  let leadingStart = from;
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k] as number;
    let e = k + 1 < starts.length ? (starts[k + 1] as number) : to;
    while (e > s + 1 && isTriviaAt(lines[e - 1] as string, indent)) e--;
    const parsed = parseItem(lines, s, e, indent);
    items.push({ leading: joinLines(lines, leadingStart, s), text: joinLines(lines, s, e), line: s + 1, ...parsed });
    leadingStart = e;
  }
  block.items = items;
  block.itemIndent = indent;
  block.value = items.map((i) => i.value);
  block.text = joinLines(lines, leadingStart, to);
  return true;
}

/**
 * Splits and parses ledger text. Throws YamlSyntaxError (with a line) on invalid YAML. A piece that
 * fails on its own is settled by parsing the whole file, which also sees where, say, a quote opened.
 */
export function decodeLedgerText(text: string): { raw: unknown; layout: LedgerLayout } {
  try {
    return decodePieces(text);
  } catch (err) {
    // A piece that fails on its own (an alias to another block, an odd key, a real syntax error):
    // the whole file decides, and its parser reports a real error at the right line.
    if (!(err instanceof YamlSyntaxError) && !(err instanceof NeedsWholeFile) && !(err instanceof SyntaxError)) throw err;
    return decodeWhole(text);
  }
}

/** Raised when a block cannot be read as a piece of its own. */
class NeedsWholeFile extends Error {}

function decodePieces(text: string): { raw: unknown; layout: LedgerLayout } {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const blocks: BlockLayout[] = [];
  let leadingStart = 0;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (isTrivia(line)) {
      i++;
      continue;
    }
    if (!TOP_KEY.test(line)) return decodeWhole(text);
    let e = i + 1;
    while (e < lines.length) {
      const l = lines[e] as string;
      const c = l.charCodeAt(0);
      // Continuation: indented lines, trivia, and items of a sequence written at column 0.
      if (c === 32 || (c === 45 && (l.length === 1 || l.charCodeAt(1) === 32)) || isTrivia(l)) e++;
      else break;
    }
    let end = e;
    while (end > i + 1 && isTrivia(lines[end - 1] as string) && (lines[end - 1] as string).charCodeAt(0) !== 32) end--;
    const colon = line.startsWith('"') ? line.indexOf('":') + 1 : line.indexOf(":");
    const key = line.startsWith('"') ? (JSON.parse(line.slice(0, colon)) as string) : line.slice(0, colon);
    const block: BlockLayout = { key, leading: joinLines(lines, leadingStart, i), text: "", line: i + 1, value: undefined, canonical: true };
    if (line.length !== colon + 1 || !splitItems(block, lines, i + 1, end)) {
      block.text = joinLines(lines, i, end);
      try {
        block.value = (readCanonical(lines, i, end) as Record<string, unknown>)[key];
      } catch (err) {
        if (!(err instanceof NotCanonical)) throw err;
        block.canonical = false;
        const parsed = parseFull(block.text, i) as Record<string, unknown> | null;
        if (parsed === null || typeof parsed !== "object" || Object.keys(parsed).length !== 1 || !Object.hasOwn(parsed, key)) throw new NeedsWholeFile();
        block.value = parsed[key];
      }
    }
    if (blocks.some((b) => b.key === key)) throw new YamlSyntaxError(i + 1, `duplicate top-level key "${key}"`);
    blocks.push(block);
    leadingStart = end;
    i = end;
  }
  const raw = Object.fromEntries(blocks.map((b) => [b.key, b.value]));
  return { raw, layout: { blocks, trailer: joinLines(lines, leadingStart, lines.length) } };
}

/** Fallback for files that do not split into top-level blocks: one block holding the document. */
function decodeWhole(text: string): { raw: unknown; layout: LedgerLayout } {
  const raw = parseFull(text, 0);
  return { raw, layout: { blocks: [{ key: "", leading: "", text: text.replace(/\n$/, ""), line: 1, value: raw, canonical: false }], trailer: "" } };
}
