import type { Profile } from "../config/profile.ts";
import type { MainConfig } from "../config/main-config.ts";
import { retryDelayMs } from "../scheduling/retry-delay.ts";
import type { RunRecord } from "../agents/run-record.ts";
import { settleRun } from "../agents/settle-run.ts";
import type { HandoffResult } from "../handoff/handoff.ts";
import { addTask } from "../ledger/create-task.ts";
import type { TaskEvent, TransitionContext } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { findTask, replaceTask } from "../ledger/ledger.ts";
import { heldAttempt } from "../ledger/lease.ts";
import type { TaskStatus } from "../ledger/task.ts";
import { failuresInBudget, transition } from "../ledger/transition.ts";

/** What a worker hands back after performing an attempt; recorded by the next reconcile, fenced by the key. */
export type AttemptResult =
  /** The agent ran (it may have failed); the handoff is read. */
  | { kind: "ran"; taskId: number; key: string; record: RunRecord; handoff: HandoffResult }
  /** The worker stopped before the agent finished (Ctrl-C, shutdown): the claim is given back. */
  | { kind: "released"; taskId: number; key: string; reason: string }
  /** The router itself failed after the claim (worktree, bundle, git). */
  | { kind: "router_error"; taskId: number; key: string; message: string };

/** How one attempt (or review) ended up in the ledger, for the CLI and logs. */
export type RunOutcome =
  | { taskId: number; kind: "recorded"; status: TaskStatus; attempt: number; record: RunRecord; note: string }
  | { taskId: number; kind: "stale"; note: string }
  /** Decided without running an agent (a review with no second agent to do it). */
  | { taskId: number; kind: "decided"; status: TaskStatus; note: string }
  | { taskId: number; kind: "released" }
  | { taskId: number; kind: "router_error"; status: TaskStatus; note: string };

export interface RecordSetup {
  config: MainConfig;
  profiles: ReadonlyMap<string, Profile>;
  ctx: TransitionContext;
  random: () => number;
}

export interface Recorded {
  ledger: Ledger;
  outcome: RunOutcome;
  /** One line for the commit message. */
  line: string;
}

const apply = (ledger: Ledger, taskId: number, event: TaskEvent, ctx: TransitionContext): Ledger => replaceTask(ledger, transition(findTask(ledger, taskId)!, event, ctx).task);

/**
 * Records a worker's result, fenced by the attempt key: if the task is no longer running this
 * attempt (cancelled, lease expired and retried elsewhere), the result is recorded as stale and
 * changes nothing. A delegation creates its children in the same write.
 */
export function recordResult(ledger: Ledger, r: AttemptResult, s: RecordSetup): Recorded {
  const task = findTask(ledger, r.taskId);
  const held = heldAttempt(task, r.key);
  if ("lost" in held) {
    const note = `result of attempt ${r.key} arrived after the task moved on (${task?.status ?? "missing"}); not applied`;
    if (!task) return { ledger, outcome: { taskId: r.taskId, kind: "stale", note }, line: note };
    return { ledger: apply(ledger, task.id, { type: "stale_result", key: r.key, note }, s.ctx), outcome: { taskId: r.taskId, kind: "stale", note }, line: `task ${r.taskId}: stale result` };
  }
  const t = task!;
  if (r.kind === "released") {
    return { ledger: apply(ledger, t.id, { type: "release", key: r.key, reason: r.reason }, s.ctx), outcome: { taskId: t.id, kind: "released" }, line: `task ${t.id}: claim given back` };
  }
  if (r.kind === "router_error") {
    // Backs off like any failure (full jitter), so a router that keeps failing never hot-loops.
    const delay = retryDelayMs(failuresInBudget(t) + 1, s.random, s.config.execution.retryBaseSeconds * 1000, s.config.execution.retryCapSeconds * 1000);
    const retryAt = new Date(Date.parse(s.ctx.now) + delay).toISOString();
    const error = `router error: ${r.message.split("\n")[0]?.slice(0, 400) ?? ""}`;
    const next = transition(t, { type: "fail", key: r.key, errorClass: "agent_error", error, retryable: true, retryAt }, s.ctx).task;
    return { ledger: replaceTask(ledger, next), outcome: { taskId: t.id, kind: "router_error", status: next.status, note: error }, line: `task ${t.id}: ${error.slice(0, 120)}` };
  }
  const settled = settleRun({ ledger, task: t, key: r.key, record: r.record, handoff: r.handoff, config: s.config, profiles: s.profiles, now: new Date(s.ctx.now), random: s.random });
  let current = ledger;
  const childIds: number[] = [];
  for (const c of settled.children) {
    const added = addTask(current, { source: { kind: "parent", parentId: t.id, key: c.key }, title: c.title, body: c.body, labels: [], maxAttempts: s.config.execution.maxAttempts, parentId: t.id, after: c.after, hint: { profile: c.profile, ...(c.agent ? { agent: c.agent } : {}) } }, s.ctx);
    current = added.ledger;
    childIds.push(added.task.id);
  }
  const event = settled.event.type === "finish" && settled.event.outcome === "delegate" ? { ...settled.event, children: childIds } : settled.event;
  const next = transition(findTask(current, t.id)!, event, s.ctx).task;
  const note = event.type === "fail" ? `${event.errorClass}: ${event.error}` : `${event.outcome}${childIds.length ? ` → children ${childIds.join(", ")}` : ""}`;
  return {
    ledger: replaceTask(current, next),
    outcome: { taskId: t.id, kind: "recorded", status: next.status, attempt: next.attempts.length, record: r.record, note },
    line: `task ${t.id}: ${note.slice(0, 120)}`,
  };
}
