/**
 * The Markdown an Action run writes to its step summary: what the run did (or, in a dry run, would
 * do), a table of the tasks it touched (status, agent, attempts, tokens, cost, links), and a Mermaid
 * graph of their delegation trees. Titles are people's and agents' text: sanitised like any outbound
 * text, and quoted so that neither the table nor the graph can be broken out of.
 */
import type { Ledger } from "../ledger/ledger.ts";
import { findTask } from "../ledger/ledger.ts";
import type { Task } from "../ledger/task.ts";
import { attemptTotals, formatCount, formatTotalCost, NONE } from "./format-usage.ts";
import { cell, code, link } from "./markdown.ts";
import { sanitizeInline } from "./outbound.ts";
import type { RepoRef } from "./task-links.ts";
import { issueOf, pullUrl } from "./task-links.ts";

export interface StepSummaryInput {
  ledger: Ledger;
  /** The tasks this run created, changed or recorded. */
  taskIds: readonly number[];
  repo: RepoRef;
  /** A heading line: what started the run. */
  title: string;
  /** What the run did, one line each (the reconcile's plan). */
  lines: readonly string[];
  dryRun: boolean;
}

/** At most this many tasks in the table and the graph (a summary is capped at 1 MiB by GitHub). */
const MAX_TASKS = 200;

export function renderStepSummary(input: StepSummaryInput): string {
  const out: string[] = [`### agent-router: ${cell(sanitizeInline(input.title, 200))}`, ""];
  if (input.dryRun) out.push("> [!NOTE]", "> Dry run: nothing was changed on GitHub and no agent ran. A real run would do what is listed below.", "");
  if (input.lines.length > 0) {
    out.push(...input.lines.slice(0, 100).map((l) => `- ${cell(sanitizeInline(l, 300))}`));
    if (input.lines.length > 100) out.push(`- … and ${input.lines.length - 100} more`);
    out.push("");
  } else out.push("Nothing to do.", "");
  const tasks = withTrees(input.ledger, input.taskIds).slice(0, MAX_TASKS);
  if (tasks.length === 0) return `${out.join("\n")}\n`;
  out.push("| Task | Status | Agent | Attempts | Tokens (in / out) | Cost | Links |", "|---|---|---|---|---|---|---|");
  for (const t of tasks) out.push(row(t, input.repo));
  const graph = delegationGraph(tasks);
  if (graph.length > 0) out.push("", "```mermaid", ...graph, "```");
  return `${out.join("\n")}\n`;
}

function row(t: Task, repo: RepoRef): string {
  const totals = attemptTotals(t.attempts);
  const agent = t.attempts.at(-1)?.agent ?? t.route?.agent;
  const issue = issueOf(t);
  const links = [
    ...(issue !== undefined ? [link(`#${issue}`, `${repo.serverUrl.replace(/\/+$/, "")}/${repo.repository}/issues/${issue}`)] : []),
    ...(t.github?.pr !== undefined ? [link(`PR #${t.github.pr}`, pullUrl(repo, t.github.pr))] : []),
  ];
  const tokens = totals.withUsage === 0 ? NONE : `${formatCount(totals.inputTokens)} / ${formatCount(totals.outputTokens)}`;
  return `| ${t.id}: ${cell(sanitizeInline(t.title, 80))} | ${code(t.status)} | ${agent ? code(agent) : NONE} | ${t.attempts.length} | ${tokens} | ${formatTotalCost(totals)} | ${links.join(" ") || NONE} |`;
}

/** The touched tasks with their whole delegation trees (root first, children in order), each once. */
function withTrees(ledger: Ledger, ids: readonly number[]): Task[] {
  const seen = new Set<number>();
  const out: Task[] = [];
  const visit = (t: Task): void => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    out.push(t);
    for (const c of t.children) {
      const child = findTask(ledger, c);
      if (child) visit(child);
    }
  };
  for (const id of ids) {
    let t = findTask(ledger, id);
    for (let hops = 0; t?.parentId !== undefined && hops < 20; hops++) t = findTask(ledger, t.parentId) ?? t;
    if (t) visit(t);
  }
  return out;
}

/** Mermaid `graph TD` lines for the parent → child edges among `tasks`; none when no task delegated. */
function delegationGraph(tasks: readonly Task[]): string[] {
  const shown = new Set(tasks.map((t) => t.id));
  const edges = tasks.flatMap((t) => t.children.filter((c) => shown.has(c)).map((c) => `  t${t.id} --> t${c}`));
  if (edges.length === 0) return [];
  const inGraph = new Set(tasks.filter((t) => t.children.some((c) => shown.has(c)) || (t.parentId !== undefined && shown.has(t.parentId))).map((t) => t.id));
  const nodes = tasks.filter((t) => inGraph.has(t.id)).map((t) => `  t${t.id}["${mermaidText(`${t.id}: ${t.title}`)} (${t.status})"]`);
  return ["graph TD", ...nodes, ...edges];
}

/** Text safe inside a quoted Mermaid label: no quotes, brackets, backticks or markup. */
function mermaidText(text: string): string {
  return sanitizeInline(text, 60).replace(/["`<>[\]{}()|#;&\\]/g, " ").replace(/\s+/g, " ").trim();
}
