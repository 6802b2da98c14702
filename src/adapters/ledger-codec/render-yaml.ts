import { isLiteralSafe, isPlainKey, isPlainSafe, quote } from "./yaml-scalars.ts";

const PAD = "  ";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function renderScalar(value: unknown, indent: string): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`cannot write the number ${value} to the ledger`);
    return String(value);
  }
  if (typeof value === "string") {
    if (isPlainSafe(value)) return value;
    if (isLiteralSafe(value)) {
      const header = value.endsWith("\n") ? "|" : "|-";
      const body = (value.endsWith("\n") ? value.slice(0, -1) : value).split("\n");
      return `${header}\n${body.map((l) => (l === "" ? "" : indent + PAD + l)).join("\n")}`;
    }
    return quote(value);
  }
  throw new TypeError(`cannot write a value of type ${typeof value} to the ledger`);
}

function renderKey(key: string): string {
  return isPlainKey(key) ? key : quote(key);
}

/** Lines for the entries of a mapping at `indent`; the first line may be prefixed by a sequence dash. */
function renderMapping(obj: Record<string, unknown>, indent: string, out: string[], firstPrefix: string): void {
  let first = true;
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    const lead = first ? firstPrefix : indent;
    first = false;
    renderEntry(`${lead}${renderKey(key)}:`, value, indent, out);
  }
  if (first) out.push(`${firstPrefix}{}`);
}

function renderEntry(head: string, value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    if (value.length === 0) out.push(`${head} []`);
    else {
      out.push(head);
      renderSequence(value, indent + PAD, out);
    }
  } else if (isRecord(value)) {
    if (Object.values(value).every((v) => v === undefined)) out.push(`${head} {}`);
    else {
      out.push(head);
      renderMapping(value, indent + PAD, out, indent + PAD);
    }
  } else {
    out.push(`${head} ${renderScalar(value, indent)}`);
  }
}

function renderSequence(items: readonly unknown[], indent: string, out: string[]): void {
  for (const item of items) for (const line of renderSequenceItem(item, indent)) out.push(line);
}

/** One block-sequence item (`- …`) at `indent`, as entries to join with newlines (a literal block is one entry). */
export function renderSequenceItem(item: unknown, indent: string): string[] {
  const out: string[] = [];
  if (isRecord(item) && Object.values(item).some((v) => v !== undefined)) {
    renderMapping(item, indent + PAD, out, `${indent}- `);
  } else if (Array.isArray(item) && item.length > 0) {
    out.push(`${indent}-`);
    renderSequence(item, indent + PAD, out);
  } else if (Array.isArray(item)) {
    out.push(`${indent}- []`);
  } else if (isRecord(item)) {
    out.push(`${indent}- {}`);
  } else {
    out.push(`${indent}- ${renderScalar(item, indent + PAD)}`);
  }
  return out;
}

/** One top-level `key: value` block, as entries to join with newlines. */
export function renderTopLevel(key: string, value: unknown): string[] {
  const out: string[] = [];
  renderEntry(`${renderKey(key)}:`, value, "", out);
  return out;
}

/**
 * The canonical YAML for plain data: block style, two-space indent, sequences indented under their
 * key, strings plain when unambiguous, literal blocks for multi-line text, else double-quoted.
 * `yaml` parses it to the same value; `read-yaml.ts` parses it fast.
 */
export function renderYaml(doc: Record<string, unknown>): string {
  const out: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (value !== undefined) for (const line of renderTopLevel(key, value)) out.push(line);
  }
  return out.length === 0 ? "{}\n" : `${out.join("\n")}\n`;
}
