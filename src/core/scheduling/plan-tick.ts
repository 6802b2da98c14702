import type { TaskEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Task } from "../ledger/task.ts";
import { isTerminal } from "../ledger/task.ts";

/** The siblings a child waits for, by key. */
function dependencies(ledger: Ledger, task: Task): Task[] {
  if (task.parentId === undefined || task.after.length === 0) return [];
  return ledger.tasks.filter((t) => t.parentId === task.parentId && t.source.kind === "parent" && task.after.includes(t.source.key));
}

/** A dependency that ended without success, so this task can never run; null when none. */
export function failedDependency(ledger: Ledger, task: Task): Task | null {
  return dependencies(ledger, task).find((d) => d.status === "failed" || d.status === "cancelled") ?? null;
}

/** Routed, or retrying and due, with every dependency done. */
export function isRunnable(ledger: Ledger, task: Task, now: string): boolean {
  const due = task.status === "routed" || (task.status === "retrying" && (task.retryAt === undefined || task.retryAt <= now));
  return due && dependencies(ledger, task).every((d) => d.status === "done");
}

export function runnableTasks(ledger: Ledger, now: string): Task[] {
  return ledger.tasks.filter((t) => isRunnable(ledger, t, now)).sort((a, b) => a.id - b.id);
}

/**
 * The housekeeping events of one tick: expired leases give the task back for a retry, children
 * whose dependency failed are cancelled (so a parent never waits forever), and a waiting parent
 * whose children are all finished resumes.
 */
export function planTick(ledger: Ledger, now: string): { taskId: number; event: TaskEvent }[] {
  const out: { taskId: number; event: TaskEvent }[] = [];
  const cancelled = new Set<number>();
  for (const t of ledger.tasks) {
    const attempt = t.attempts.at(-1);
    if (t.status === "running" && attempt?.leaseUntil !== undefined && attempt.leaseUntil < now) out.push({ taskId: t.id, event: { type: "lease_expired", key: attempt.key, retryAt: now } });
    if (!isTerminal(t.status) && t.status !== "running") {
      const dep = failedDependency(ledger, t);
      if (dep) {
        out.push({ taskId: t.id, event: { type: "cancel", reason: `dependency #${dep.id} ended ${dep.status}` } });
        cancelled.add(t.id);
      }
    }
  }
  for (const t of ledger.tasks) {
    if (t.status !== "waiting" || t.children.length === 0) continue;
    const kids = ledger.tasks.filter((c) => t.children.includes(c.id));
    if (kids.length === t.children.length && kids.every((c) => isTerminal(c.status) || cancelled.has(c.id))) out.push({ taskId: t.id, event: { type: "children_settled" } });
  }
  return out;
}
