import { leaseHolder } from "../../core/ledger/lease.ts";
import type { Task } from "../../core/ledger/task.ts";

function cut(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function updatedAt(task: Task): string {
  return (task.history.at(-1)?.at ?? "").replace("T", " ").slice(0, 16);
}

/** "held by a worker whose lease ends at T" for a running task, with what happens when it lapsed. */
export function describeHolder(task: Task, now: string): string | null {
  const review = task.status === "in_review" ? task.reviewClaim : undefined;
  if (review) {
    return review.leaseUntil < now
      ? `being reviewed by a worker whose lease ended at ${review.leaseUntil}: the worker is gone; the next serve reviews it again`
      : `being reviewed by a worker whose lease ends at ${review.leaseUntil}`;
  }
  const h = leaseHolder(task);
  if (!h) return null;
  const who = `held by a worker (attempt ${task.attempts.length}, ${h.agent})`;
  if (!h.leaseUntil) return who;
  return h.leaseUntil < now
    ? `${who} whose lease ended at ${h.leaseUntil}: the worker is gone; the next serve, run or tick retries the task`
    : `${who} whose lease ends at ${h.leaseUntil}`;
}

/** A fixed-width table for `list`, then who holds each running task. */
export function formatTaskTable(tasks: readonly Task[], now: string): string {
  if (tasks.length === 0) return "no tasks";
  const rows = tasks.map((t) => [String(t.id), t.status, t.route?.agent ?? "-", updatedAt(t), cut(t.title.replace(/\s+/g, " "), 60)]);
  const head = ["ID", "STATUS", "AGENT", "UPDATED (UTC)", "TITLE"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  const held = tasks.flatMap((t) => {
    const h = describeHolder(t, now);
    return h ? [`task ${t.id} is ${h}`] : [];
  });
  return [line(head), ...rows.map(line), ...(held.length ? ["", ...held] : [])].join("\n");
}

function source(task: Task): string {
  switch (task.source.kind) {
    case "issue":
      return `issue #${task.source.issue}${task.source.repo ? ` in ${task.source.repo}` : ""}`;
    case "job":
      return `job ${task.source.jobId} at ${task.source.slot}`;
    case "parent":
      return `child "${task.source.key}" of task ${task.source.parentId}`;
    case "cli":
      return "command line";
  }
}

/** Every field of a task, then its history, for `show`. */
export function formatTaskDetail(task: Task, now: string): string {
  const holder = describeHolder(task, now);
  const lines = [
    `task ${task.id}: ${task.title}`,
    `status:    ${task.status}${holder ? `, ${holder}` : ""}`,
    `source:    ${source(task)}`,
    `labels:    ${task.labels.join(", ") || "-"}`,
    `route:     ${task.route ? `${task.route.agent}${task.route.model ? ` (${task.route.model})` : ""}, profile ${task.route.profile}, ${task.route.complexity}, by ${task.route.decidedBy}: ${task.route.reason}` : "-"}`,
    `attempts:  ${task.attempts.length} (max ${task.maxAttempts} failed)`,
  ];
  for (const a of task.attempts) {
    const usage = a.usage ? `, ${a.usage.inputTokens} in / ${a.usage.outputTokens} out tokens${a.usage.costUsd === undefined ? "" : `, $${a.usage.costUsd.toFixed(4)}`}` : "";
    lines.push(`  #${a.n} ${a.agent}${a.model ? `/${a.model}` : ""} ${a.startedAt} → ${a.endedAt ?? "running"} ${a.outcome ?? ""}${a.errorClass ? ` ${a.errorClass}: ${a.error ?? ""}` : ""}${usage}`);
  }
  const agentCost = task.attempts.reduce((n, a) => n + (a.usage?.costUsd ?? 0), 0);
  const classifierCost = task.route?.classifier?.usage.costUsd ?? 0;
  if (agentCost + classifierCost > 0) lines.push(`cost:      $${(agentCost + classifierCost).toFixed(4)} (agents $${agentCost.toFixed(4)}, classifier $${classifierCost.toFixed(4)})`);
  const result = task.result as { status?: unknown; summary?: unknown; question?: unknown } | undefined;
  if (result && typeof result.summary === "string") lines.push(`result:    ${String(result.status)}: ${cut(result.summary, 200)}`);
  if (result && typeof result.question === "string") lines.push(`question:  ${cut(result.question, 200)}`);
  if (task.parentId !== undefined) lines.push(`parent:    ${task.parentId}`);
  if (task.children.length > 0) lines.push(`children:  ${task.children.join(", ")}`);
  if (task.retryAt) lines.push(`retry at:  ${task.retryAt}`);
  if (task.body) lines.push("", ...task.body.split("\n").map((l) => `  ${l}`));
  lines.push("", "history:");
  for (const h of task.history) {
    lines.push(`  ${h.at}  ${h.type.padEnd(16)} ${h.from ? `${h.from} → ` : ""}${h.to}  by ${h.by}${h.note ? `  (${cut(h.note, 80)})` : ""}`);
  }
  return lines.join("\n");
}
