import { resolvePlain } from "./yaml-scalars.ts";

/** Raised when text leaves the canonical subset; the caller then uses the full `yaml` parser. */
export class NotCanonical extends Error {
  constructor(line: number, why: string) {
    super(`line ${line + 1}: ${why}`);
  }
}

interface Cursor {
  lines: string[];
  i: number;
  end: number;
}

function indentOf(c: Cursor, line: string): number {
  let n = 0;
  while (line.charCodeAt(n) === 32) n++;
  if (line.charCodeAt(n) === 9) throw new NotCanonical(c.i, "tab in indentation");
  return n;
}

const KEY_LINE = /^([A-Za-z_][A-Za-z0-9_-]*):(?: (.*))?$/;
/** KEY_LINE matched in place from `lastIndex`, without slicing the line first. */
const KEY_AT = /([A-Za-z_][A-Za-z0-9_-]*):(?: (.*))?$/y;
const QUOTED_KEY_LINE = /^("(?:[^"\\]|\\.)*"):(?: (.*))?$/;
const LITERAL_HEADER = /^\|([1-9])?([-+])?$/;

function parseQuoted(c: Cursor, text: string): string {
  if (text.length < 2 || !text.endsWith('"')) throw new NotCanonical(c.i, "quoted scalar spans lines");
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "string") return value;
  } catch {
    // YAML escapes JSON lacks (\x, \e, \N, …): the full parser handles them.
  }
  throw new NotCanonical(c.i, "quoted scalar outside the JSON escape subset");
}

function spacesOf(line: string): number {
  let n = 0;
  while (line.charCodeAt(n) === 32) n++;
  return n;
}

function parseLiteral(c: Cursor, header: string, parentIndent: number): string {
  const m = LITERAL_HEADER.exec(header);
  if (!m) throw new NotCanonical(c.i, "unsupported block scalar");
  c.i++;
  let contentIndent = m[1] ? parentIndent + Number(m[1]) : -1;
  const parts: string[] = [];
  while (c.i < c.end) {
    const line = c.lines[c.i] as string;
    if (line.includes("\r")) throw new NotCanonical(c.i, "carriage return in a block scalar");
    if (line.trim() === "") {
      if (line.includes("\t") || (contentIndent < 0 && line.length > 0)) throw new NotCanonical(c.i, "whitespace line in block content");
      parts.push(contentIndent >= 0 ? line.slice(contentIndent) : "");
      c.i++;
      continue;
    }
    const ind = spacesOf(line);
    if (contentIndent < 0) {
      if (ind <= parentIndent) break;
      contentIndent = ind;
    }
    if (ind < contentIndent) break;
    parts.push(line.slice(contentIndent));
    c.i++;
  }
  // Trailing empty lines belong to chomping, not content.
  let trailing = 0;
  while (parts.length > 0 && parts[parts.length - 1] === "") {
    parts.pop();
    trailing++;
  }
  const body = parts.join("\n");
  const chomp = m[2];
  if (chomp === "-" || body === "") return chomp === "+" ? "\n".repeat(trailing) : body;
  if (chomp === "+") return `${body}\n${"\n".repeat(trailing)}`;
  return `${body}\n`;
}

function parseInline(c: Cursor, text: string, parentIndent: number): unknown {
  const ch = text[0];
  if (ch === " " || ch === "\t") throw new NotCanonical(c.i, "extra whitespace before a value");
  if (text.includes("\r")) throw new NotCanonical(c.i, "carriage return in a value");
  if (ch === '"') {
    const v = parseQuoted(c, text);
    c.i++;
    return v;
  }
  if (ch === "|") return parseLiteral(c, text, parentIndent);
  c.i++;
  if (text === "[]") return [];
  if (text === "{}") return {};
  if (ch === undefined || "-?:,[]{}#&*!|>'%@`".includes(ch)) {
    if (!(ch === "-" && text.length > 1 && text[1] !== " ")) throw new NotCanonical(c.i - 1, `unsupported scalar ${text.slice(0, 20)}`);
  }
  if (text.includes(" #") || text.includes(": ") || text.endsWith(":") || text.endsWith(" ") || text.includes("\t")) {
    throw new NotCanonical(c.i - 1, "comment or mapping inside a plain scalar");
  }
  return resolvePlain(text);
}

/** The value after `key:` (or `-`) when nothing follows on the line: a nested block, or null. */
function parseNested(c: Cursor, parentIndent: number): unknown {
  if (c.i >= c.end) return null;
  const line = c.lines[c.i] as string;
  const ind = indentOf(c, line);
  if (ind <= parentIndent) return null;
  return parseBlock(c, ind);
}

function parseMapping(c: Cursor, indent: number, first?: string): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  let content = first;
  for (;;) {
    let m: RegExpExecArray | null;
    if (content === undefined) {
      if (c.i >= c.end) break;
      const line = c.lines[c.i] as string;
      if (line === "") throw new NotCanonical(c.i, "blank line");
      const ind = indentOf(c, line);
      if (ind < indent) break;
      if (ind > indent) throw new NotCanonical(c.i, "unexpected indentation");
      KEY_AT.lastIndex = indent;
      m = KEY_AT.exec(line) ?? QUOTED_KEY_LINE.exec(line.slice(indent));
    } else {
      m = KEY_LINE.exec(content) ?? QUOTED_KEY_LINE.exec(content);
    }
    if (!m) throw new NotCanonical(c.i, "not a canonical mapping entry");
    const key = m[1] as string;
    const name = key.startsWith('"') ? parseQuoted(c, key) : key;
    if (Object.hasOwn(obj, name)) throw new NotCanonical(c.i, `duplicate key ${name}`);
    if (name === "__proto__" || (!key.startsWith('"') && resolvePlain(name) !== name)) throw new NotCanonical(c.i, `key ${name} needs the full parser`);
    const rest = m[2];
    if (rest === undefined || rest === "") {
      c.i++;
      obj[name] = parseNested(c, indent);
    } else {
      obj[name] = parseInline(c, rest, indent);
    }
    content = undefined;
  }
  return obj;
}

function parseSequence(c: Cursor, indent: number): unknown[] {
  const items: unknown[] = [];
  while (c.i < c.end) {
    const line = c.lines[c.i] as string;
    if (line === "") throw new NotCanonical(c.i, "blank line");
    const ind = indentOf(c, line);
    if (ind < indent) break;
    if (ind > indent || line[indent] !== "-") throw new NotCanonical(c.i, "unexpected line in a sequence");
    items.push(parseSequenceItemAt(c, indent));
  }
  return items;
}

function parseSequenceItemAt(c: Cursor, indent: number): unknown {
  const line = c.lines[c.i] as string;
  if (line.length === indent + 1) {
    c.i++;
    return parseNested(c, indent);
  }
  if (line[indent + 1] !== " ") throw new NotCanonical(c.i, "expected '- '");
  const rest = line.slice(indent + 2);
  if (KEY_LINE.test(rest) || QUOTED_KEY_LINE.test(rest)) return parseMapping(c, indent + 2, rest);
  return parseInline(c, rest, indent + 2);
}

function parseBlock(c: Cursor, indent: number): unknown {
  const line = c.lines[c.i] as string;
  if (line[indent] === "-" && (line.length === indent + 1 || line[indent + 1] === " ")) return parseSequence(c, indent);
  return parseMapping(c, indent);
}

/** Parses canonical ledger YAML (see render-yaml.ts); throws NotCanonical for anything else. */
export function readCanonical(lines: string[], start = 0, end = lines.length): unknown {
  const c: Cursor = { lines, i: start, end };
  if (start >= end) throw new NotCanonical(start, "empty");
  const value = parseBlock(c, indentOf(c, lines[start] as string));
  if (c.i !== end) throw new NotCanonical(c.i, "trailing content");
  return value;
}

/** Parses one sequence item (`- …`) spanning lines[start, end) at `indent`. */
export function readCanonicalItem(lines: string[], start: number, end: number, indent: number): unknown {
  const c: Cursor = { lines, i: start, end };
  const value = parseSequenceItemAt(c, indent);
  if (c.i !== end) throw new NotCanonical(c.i, "trailing content in item");
  return value;
}
