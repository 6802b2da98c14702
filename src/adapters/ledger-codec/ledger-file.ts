import { RouterError } from "../../core/errors.ts";
import type { Ledger, LedgerProblem } from "../../core/ledger/ledger.ts";
import { checkLedger, formatPath, LedgerHeader, ledgerRuleProblems, zodProblems } from "../../core/ledger/ledger.ts";
import { Task } from "../../core/ledger/task.ts";
import type { ItemLayout, LedgerLayout } from "./ledger-text.ts";
import { decodeLedgerText, YamlSyntaxError } from "./ledger-text.ts";
import { encodeLedgerText } from "./encode-ledger-text.ts";

/** A validated ledger with the layout of the text it came from, for comment-keeping writes. */
export interface DecodedLedger {
  ledger: Ledger;
  layout: LedgerLayout;
  /** Maps each validated task (and other sequence item) object to the text it was read from. */
  origin: WeakMap<object, ItemLayout>;
}

export interface LocatedProblem extends LedgerProblem {
  line?: number;
}

/** The 1-based line of `path` in the file, as close as the layout allows. */
function lineOf(layout: LedgerLayout, path: readonly (string | number)[]): number | undefined {
  const block = layout.blocks.find((b) => b.key === path[0]) ?? layout.blocks[0];
  if (!block) return undefined;
  const index = path[1];
  const item = typeof index === "number" ? block.items?.[index] : undefined;
  if (!item) return block.line;
  const key = path.slice(2).findLast((p) => typeof p === "string");
  if (key === undefined) return item.line;
  const pattern = new RegExp(`^\\s*(?:- )?"?${key.replace(/[^\w-]/g, "")}"?:`);
  const at = item.text.split("\n").findIndex((l) => pattern.test(l));
  return at < 0 ? item.line : item.line + at;
}

export function describeProblems(file: string, problems: readonly LocatedProblem[]): string {
  return problems.map((p) => `  ${file}${p.line ? `:${p.line}` : ""} ${formatPath(p.path) || "(top level)"}: ${p.message}`).join("\n");
}

function invalid(file: string, location: string, problems: LocatedProblem[], extra: Record<string, unknown> = {}): RouterError {
  return new RouterError("E_LEDGER_INVALID", `${location} is invalid; nothing was written:\n${describeProblems(file, problems)}`, { file, problems, ...extra });
}

/** Parses and validates ledger text. Throws E_LEDGER_INVALID naming the file, line, path and problem. */
export function decodeLedger(text: string, file: string, location: string): DecodedLedger {
  if (text.trim() === "") throw invalid(file, location, [{ path: [], message: "the file is empty", line: 1 }]);
  // Every write ends the file with a newline: without one, the file was most likely cut off.
  const cut: LocatedProblem[] = text.endsWith("\n")
    ? []
    : [{ path: [], message: "the file does not end with a newline, so it was probably cut off (if it is complete, add the final newline)", line: text.split("\n").length }];
  let decoded: ReturnType<typeof decodeLedgerText>;
  try {
    decoded = decodeLedgerText(text);
  } catch (err) {
    if (err instanceof YamlSyntaxError) throw invalid(file, location, [{ path: [], message: `YAML syntax: ${err.message}`, line: err.line }, ...cut]);
    if (err instanceof Error && /alias/i.test(err.message)) throw invalid(file, location, [{ path: [], message: err.message }, ...cut]);
    throw err;
  }
  const check = checkLedger(decoded.raw);
  if (!check.ok) throw invalid(file, location, [...check.problems.map((p) => ({ ...p, line: lineOf(decoded.layout, p.path) })), ...cut]);
  if (cut.length > 0) throw invalid(file, location, cut);
  return { ledger: check.ledger, layout: decoded.layout, origin: originOf(check.ledger, decoded.layout) };
}

/** Maps each item object of `ledger` to the piece of text it was read from or written as. */
function originOf(ledger: Ledger, layout: LedgerLayout): WeakMap<object, ItemLayout> {
  const origin = new WeakMap<object, ItemLayout>();
  for (const block of layout.blocks) {
    const values = (ledger as Record<string, unknown>)[block.key];
    if (!block.items || !Array.isArray(values)) continue;
    block.items.forEach((item, i) => {
      const v: unknown = values[i];
      if (typeof v === "object" && v !== null) origin.set(v, item);
    });
  }
  return origin;
}

/** The text to store, and the ledger as decoded from it (so a long-lived store need not re-read it). */
export interface EncodedLedger {
  text: string;
  decoded: DecodedLedger;
}

/**
 * Validates `next` and renders it, reusing the text of `prev` for everything unchanged. Only tasks
 * that are not the very objects read from `prev` are validated again, so a write costs in
 * proportion to what changed. An invalid ledger is refused with E_LEDGER_INVALID.
 */
export function encodeLedger(next: Ledger, file: string, location: string, prev?: DecodedLedger): EncodedLedger {
  const problems: LedgerProblem[] = [];
  const { tasks: _tasks, ...top } = next;
  const header = LedgerHeader.safeParse(top);
  if (!header.success) problems.push(...zodProblems(header.error.issues));
  next.tasks.forEach((task, i) => {
    if (prev?.origin.has(task)) return;
    const parsed = Task.safeParse(task);
    if (!parsed.success) problems.push(...zodProblems(parsed.error.issues, ["tasks", i]));
  });
  problems.push(...ledgerRuleProblems(next));
  if (problems.length > 0) {
    throw new RouterError("E_LEDGER_INVALID", `refusing to write an invalid ledger to ${location}:\n${describeProblems(file, problems)}`, { file, problems }, {
      fix: "This is a bug in the code that changed the ledger; the ledger on disk is unchanged.",
    });
  }
  const { text, layout } = encodeLedgerText(next, prev?.layout, prev?.origin);
  return { text, decoded: { ledger: next, layout, origin: originOf(next, layout) } };
}

/** An archive file: the tasks of one month, in the order they were archived. */
export function decodeArchive(text: string, file: string, location: string): Task[] {
  const { raw } = (() => {
    try {
      return decodeLedgerText(text);
    } catch (err) {
      if (err instanceof YamlSyntaxError) throw invalid(file, location, [{ path: [], message: `YAML syntax: ${err.message}`, line: err.line }]);
      throw err;
    }
  })();
  const tasks = (raw as { tasks?: unknown }).tasks ?? [];
  const parsed = Task.array().safeParse(tasks);
  if (!parsed.success) throw invalid(file, location, zodProblems(parsed.error.issues, ["tasks"]));
  return parsed.data;
}

/** Appends tasks to an archive file's text (null: a new file), keeping what is there byte for byte. */
export function appendArchive(existing: string | null, month: string, tasks: readonly Task[]): string {
  if (existing === null) return encodeLedgerText({ schemaVersion: 1, month, tasks }).text;
  const { raw, layout } = decodeLedgerText(existing);
  const old = (raw as { tasks?: unknown[] }).tasks ?? [];
  return encodeLedgerText({ ...(raw as Record<string, unknown>), tasks: [...old, ...tasks] }, layout).text;
}
