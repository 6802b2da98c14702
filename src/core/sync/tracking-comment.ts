/**
 * The tracking comment: one per task, edited in place, found again by its marker. Everything an
 * agent or an LLM wrote (route reason, question, summary, child titles, error classes) passes
 * through outbound.ts first, with the link allow-list (GitHub's hosts, the server's, `linkHosts`).
 * The links the router makes itself (run, branch, pull request) are not agent text and stay. Deterministic: the same task renders the same body, so a sync edits
 * the comment only when something a reader would see changed.
 */
import type { Ledger } from "../ledger/ledger.ts";
import { findTask } from "../ledger/ledger.ts";
import type { Attempt, Task, TaskStatus } from "../ledger/task.ts";
import { attemptDurationMs, attemptTotals, formatCost, formatCount, formatDuration, formatTotalCost, NONE } from "./format-usage.ts";
import { cell, code, formatUtc, link, quote } from "./markdown.ts";
import { SINGLE_KEY, taskMarker } from "./markers.ts";
import { linkAllowList } from "./outbound-links.ts";
import { capComment, sanitizeInline, sanitizeOutbound } from "./outbound.ts";
import type { RepoRef } from "./task-links.ts";
import { branchUrl, issueOf, pullUrl, taskBranch } from "./task-links.ts";

export interface TrackingCommentOptions extends RepoRef {
  /** The comment command prefix, e.g. "/agent". */
  commandPrefix: string;
  /** The run (workflow run, server log) to link; else the latest attempt's. */
  runUrl?: string;
  /** The task branch exists on GitHub: link it. */
  branchPushed?: boolean;
  /** Problems a person should fix (a Projects token, a sub-issue limit), shown as a warning. */
  warnings?: string[];
  /** The pull request waits for a person's approval (profile `approval: before_pr`). */
  prHeld?: boolean;
  /** The sync's time: only used to tell a running attempt whose lease ran out (the body changes once, not on every sync). */
  now: string;
  /** Extra hosts links in agent text may point to (`host` or `*.host`), besides GitHub's and `serverUrl`'s. */
  linkHosts?: readonly string[];
}

/** Caps for agent text inside the comment; the whole body is capped again at GitHub's limit. */
export const CAPS = { reason: 300, question: 2_000, summary: 2_000, childTitle: 120, cell: 60, warning: 500 } as const;

export const STATUS_EMOJI: Readonly<Record<TaskStatus, string>> = {
  new: "🆕",
  routed: "🧭",
  awaiting_approval: "✋",
  running: "🏃",
  waiting: "⏳",
  in_review: "👀",
  retrying: "🔁",
  needs_help: "🙋",
  done: "✅",
  failed: "❌",
  cancelled: "🚫",
};

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/** What the agent (or the router) asked when the task entered needs_help: the handoff's question, else the transition's note. */
export function questionOf(task: Task): string | undefined {
  const entry = task.history.findLast((h) => h.to === "needs_help");
  const question = str(task.result?.question);
  if (entry?.type === "finish") return question ?? str(task.result?.summary) ?? str(entry.note);
  return str(entry?.note) ?? question;
}

function statusSentence(task: Task, ledger: Ledger, prefix: string): string {
  const n = task.attempts.length;
  switch (task.status) {
    case "new":
      return "waiting to be routed.";
    case "routed":
      return n === 0 ? "routed; waiting for a worker." : `routed; attempt ${n + 1} waits for a worker.`;
    case "awaiting_approval":
      return `waiting for approval: someone with write access comments ${code(`${prefix} approve`)} or ${code(`${prefix} reject [reason]`)}.`;
    case "running":
      return `attempt ${n} is in progress.`;
    case "waiting": {
      const done = task.children.filter((id) => findTask(ledger, id)?.status === "done").length;
      return `waiting for its child tasks (${done} of ${task.children.length} done).`;
    }
    case "in_review":
      return "the agent finished; its work is being reviewed.";
    case "retrying":
      return task.retryAt ? `attempt ${n} failed; the next one starts after ${formatUtc(task.retryAt)}.` : `attempt ${n} failed; the next one starts soon.`;
    case "needs_help":
      return "a person's answer is needed (see below).";
    case "done":
      return "done.";
    case "failed":
      return `failed after ${n} attempt${n === 1 ? "" : "s"}. ${code(`${prefix} retry [agent]`)} starts over.`;
    case "cancelled":
      return `cancelled. ${code(`${prefix} retry [agent]`)} starts over.`;
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function routeLines(task: Task, links: readonly string[]): string[] {
  const r = task.route;
  if (!r) return ["**Route:** not decided yet."];
  const parts = [code(r.agent), ...(r.model ? [code(r.model)] : []), `profile ${code(r.profile)}`, `complexity ${code(r.complexity)}`, `decided by ${r.decidedBy}`];
  const lines = [`**Route:** ${parts.join(" · ")}`];
  const reason = sanitizeInline(r.reason, CAPS.reason, links);
  if (reason !== "") lines.push(`**Why:** ${reason}`);
  return lines;
}

function outcomeOf(a: Attempt, now: string, links: readonly string[]): string {
  if (a.endedAt === undefined) return a.leaseUntil !== undefined && Date.parse(a.leaseUntil) < Date.parse(now) ? "lease ran out" : "running";
  const why = a.errorClass ? sanitizeInline(a.errorClass, CAPS.cell, links) : "";
  return why && a.outcome !== "success" ? `${a.outcome ?? "ended"} (${why})` : (a.outcome ?? "ended");
}

function attemptsTable(task: Task, now: string, links: readonly string[]): string[] {
  if (task.attempts.length === 0) return [];
  const rows = task.attempts.map((a) => {
    const ms = attemptDurationMs(a);
    const who = a.model ? `${a.agent} / ${a.model}` : a.agent;
    const tokens = a.usage ? `${formatCount(a.usage.inputTokens)} / ${formatCount(a.usage.outputTokens)}` : NONE;
    const cost = a.usage?.costUsd !== undefined ? formatCost(a.usage.costUsd) : NONE;
    return `| ${a.n} | ${cell(who)} | ${cell(outcomeOf(a, now, links))} | ${ms === undefined ? NONE : formatDuration(ms)} | ${tokens} | ${cost} |`;
  });
  const t = attemptTotals(task.attempts);
  const tokens = t.withUsage > 0 ? `${formatCount(t.inputTokens)} / ${formatCount(t.outputTokens)}` : NONE;
  return [
    "| # | agent / model | outcome | duration | tokens in / out | cost |",
    "|--:|---|---|--:|--:|--:|",
    ...rows,
    `| | **total** | | ${formatDuration(t.durationMs)} | ${tokens} | ${formatTotalCost(t)} |`,
  ];
}

function childLines(task: Task, ledger: Ledger, links: readonly string[]): string[] {
  if (task.children.length === 0) return [];
  const lines = task.children.map((id) => {
    const child = findTask(ledger, id);
    if (!child) return `- [ ] task ${id} (not in the ledger)`;
    const issue = issueOf(child);
    const title = sanitizeInline(child.title, CAPS.childTitle, links);
    return `- [${child.status === "done" ? "x" : " "}] ${issue !== undefined ? `#${issue}` : `task ${id}`} ${title} (${child.status})`;
  });
  return ["**Child tasks**", "", ...lines];
}

function linkLine(task: Task, opts: TrackingCommentOptions): string[] {
  const links: string[] = [];
  const run = opts.runUrl ?? task.attempts.findLast((a) => a.runUrl !== undefined)?.runUrl;
  if (run !== undefined) links.push(link("run", run));
  const branch = taskBranch(task);
  if (opts.branchPushed) links.push(link(`branch ${code(branch)}`, branchUrl(opts, branch)));
  if (task.github?.pr !== undefined) links.push(link(`pull request #${task.github.pr}`, pullUrl(opts, task.github.pr)));
  else if (opts.prHeld) links.push(`pull request held until someone with write access comments ${code(`${opts.commandPrefix} approve`)}`);
  return links.length === 0 ? [] : [`**Links:** ${links.join(" · ")}`];
}

function helpBlock(prefix: string): string[] {
  const rows: [string, string][] = [
    ["retry [agent]", "run the task again, on another agent if one is named"],
    ["approve", "let a task that waits for approval run, or open its held pull request"],
    ["reject [reason]", "refuse a task that waits for approval or review; it is cancelled"],
    ["cancel", "stop the task and any agent working on it"],
    ["route <agent> [profile]", "choose the agent (and profile) for the next attempt"],
    ["status", "report the task's status"],
    ["help", "show these commands"],
  ];
  return [
    "<details><summary>Commands</summary>",
    "",
    "Comment on this issue with one command at the start of a line (write access or above):",
    "",
    "| command | what it does |",
    "|---|---|",
    ...rows.map(([c, what]) => `| ${code(`${prefix} ${c}`)} | ${what} |`),
    "",
    "</details>",
  ];
}

/** The tracking comment's Markdown; its first line is the task's status marker. */
export function renderTrackingComment(task: Task, ledger: Ledger, opts: TrackingCommentOptions): string {
  const links = linkAllowList(opts.serverUrl, opts.linkHosts);
  const sections: string[][] = [];
  const parent = task.parentId !== undefined ? findTask(ledger, task.parentId) : undefined;
  const parentIssue = parent ? issueOf(parent) : undefined;
  const partOf = task.parentId === undefined ? "" : ` · part of task ${task.parentId}${parentIssue !== undefined ? ` (#${parentIssue})` : ""}`;
  sections.push([
    taskMarker({ taskId: task.id, kind: "status", key: SINGLE_KEY }),
    `### ${STATUS_EMOJI[task.status]} ${task.status} · agent-router task ${task.id}${partOf}`,
    "",
    capitalise(statusSentence(task, ledger, opts.commandPrefix)),
  ]);
  sections.push(routeLines(task, links));
  sections.push(attemptsTable(task, opts.now, links));
  sections.push(childLines(task, ledger, links));
  sections.push(linkLine(task, opts));
  const question = task.status === "needs_help" ? questionOf(task) : undefined;
  if (task.status === "needs_help") {
    sections.push([
      ...(question ? ["**The agent asks:**", "", quote(sanitizeOutbound(question, { maxChars: CAPS.question, allowedHosts: links }))] : ["**The task needs a person's help.**"]),
      "",
      `Answer with a plain comment on this issue (not a command): the task resumes with your answer. Or ${code(`${opts.commandPrefix} retry [agent]`)}, ${code(`${opts.commandPrefix} cancel`)}.`,
    ]);
  }
  const summary = str(task.result?.summary);
  if (summary !== undefined && summary !== question) {
    sections.push(["**Last result:**", "", quote(sanitizeOutbound(summary, { maxChars: CAPS.summary, allowedHosts: links }))]);
  }
  const warnings = (opts.warnings ?? []).map((w) => sanitizeInline(w, CAPS.warning, links)).filter((w) => w !== "");
  if (warnings.length > 0) sections.push(["> [!WARNING]", ...warnings.map((w) => `> - ${w}`)]);
  sections.push(helpBlock(opts.commandPrefix));
  return capComment(sections.filter((s) => s.length > 0).map((s) => s.join("\n")).join("\n\n") + "\n");
}
