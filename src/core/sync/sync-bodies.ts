/**
 * The bodies the router writes besides the tracking comment: its pull request and the issues it
 * opens for tasks (a child's sub-issue, a scheduled job's task). `allowedHosts` is the link
 * allow-list for the agent text in them (`linkAllowList`; default: GitHub's hosts); the router's own
 * parts carry no link but `#N` references.
 */
import type { Task } from "../ledger/task.ts";
import { attemptTotals, formatCount, formatDuration, formatTotalCost } from "./format-usage.ts";
import { SINGLE_KEY, taskMarker } from "./markers.ts";
import { capComment, sanitizeInline, sanitizeOutbound } from "./outbound.ts";
import { issueOf } from "./task-links.ts";

export const TITLE_MAX = 200;
export const PR_SUMMARY_MAX = 20_000;
export const CHILD_BODY_MAX = 60_000;

/** A title for GitHub from a task's title (people or agents wrote it): one line, no mentions, no link to a host off the allow-list, capped. */
export function outboundTitle(title: string, allowedHosts?: readonly string[]): string {
  return sanitizeInline(title, TITLE_MAX, allowedHosts) || "(untitled)";
}

/** `2 attempts (claude / sonnet, codex) · 14,000 in / 3,000 out tokens · $0.0870 · 6m 10s` */
export function attemptsSummary(task: Task, allowedHosts?: readonly string[]): string {
  const n = task.attempts.length;
  const agents = [...new Set(task.attempts.map((a) => (a.model ? `${a.agent} / ${a.model}` : a.agent)))].map((s) => sanitizeInline(s, 60, allowedHosts));
  const t = attemptTotals(task.attempts);
  const parts = [`${n} attempt${n === 1 ? "" : "s"}${agents.length > 0 ? ` (${agents.join(", ")})` : ""}`];
  if (t.withUsage > 0) parts.push(`${formatCount(t.inputTokens)} in / ${formatCount(t.outputTokens)} out tokens`, formatTotalCost(t));
  parts.push(formatDuration(t.durationMs));
  return parts.join(" · ");
}

/**
 * The pull request body: marker, the issue it closes, the attempts, then the agent's handoff summary
 * last (so Markdown it leaves open cannot swallow anything of ours).
 */
export function renderPullBody(task: Task, allowedHosts?: readonly string[]): string {
  const issue = issueOf(task);
  const summary = typeof task.result?.summary === "string" ? sanitizeOutbound(task.result.summary, { maxChars: PR_SUMMARY_MAX, ...(allowedHosts ? { allowedHosts } : {}) }) : "";
  const lines = [taskMarker({ taskId: task.id, kind: "pr", key: SINGLE_KEY })];
  if (issue !== undefined) lines.push(`Closes #${issue}`, "");
  lines.push(`Opened by agent-router for task ${task.id}: ${attemptsSummary(task, allowedHosts)}.`);
  if (summary.trim() !== "") lines.push("", "### Summary", "", summary);
  return capComment(lines.join("\n") + "\n");
}

/**
 * The body of an issue the router opens for a task: the task's issue marker (how a lost create is
 * found again, and why the issue never becomes a task of its own), one line on where the task comes
 * from, then the task's body (a parent agent or a job file wrote it), sanitised like agent text.
 */
function taskIssueBody(task: Task, origin: string, allowedHosts?: readonly string[]): string {
  const body = sanitizeOutbound(task.body, { maxChars: CHILD_BODY_MAX, ...(allowedHosts ? { allowedHosts } : {}) });
  const lines = [taskMarker({ taskId: task.id, kind: "issue", key: SINGLE_KEY }), `${origin} The router tracks it here; its status comment follows.`];
  if (body.trim() !== "") lines.push("", body);
  return capComment(lines.join("\n") + "\n");
}

/** A child task's sub-issue body: marker, where it belongs, then the child's body (a parent agent wrote it). */
export function renderChildIssueBody(child: Task, parent: Task, allowedHosts?: readonly string[]): string {
  const parentIssue = issueOf(parent);
  const where = parentIssue !== undefined ? `#${parentIssue} (agent-router task ${parent.id})` : `agent-router task ${parent.id}`;
  return taskIssueBody(child, `Child task ${child.id} of ${where}.`, allowedHosts);
}

/** A scheduled job's task's issue body: marker, the job and slot, then the job's prompt. */
export function renderJobIssueBody(task: Task, allowedHosts?: readonly string[]): string {
  const origin = task.source.kind === "job" ? `Task ${task.id} of the scheduled job \`${sanitizeInline(task.source.jobId, 100)}\`, slot ${sanitizeInline(task.source.slot, 40)}.` : `Task ${task.id}.`;
  return taskIssueBody(task, origin, allowedHosts);
}
