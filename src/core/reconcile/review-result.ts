import type { RunRecord } from "../agents/run-record.ts";
import type { TaskEvent, TransitionContext } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { findTask, replaceTask } from "../ledger/ledger.ts";
import { heldReview } from "../ledger/lease.ts";
import { transition } from "../ledger/transition.ts";
import type { Recorded } from "./attempt-result.ts";

export type ReviewEvent = Extract<TaskEvent, { type: "review" }>;

/**
 * What a reviewer hands back (the local executor, or a dispatched worker run through its artifact),
 * recorded fenced by the review claim's key like an attempt's result by the attempt key.
 */
export type ReviewResult =
  /** The decision (`settleReview`'s, or "a person must decide" when nobody could review); `record` when a reviewer ran. */
  | { kind: "reviewed"; taskId: number; key: string; event: ReviewEvent; record?: RunRecord }
  /** The review could not even be prepared (worktree, bundle): a person is asked, rather than a retry loop. */
  | { kind: "escalate"; taskId: number; key: string; reason: string }
  /** Stopped before the reviewer finished, or no result came back: the claim is given back (no history entry). */
  | { kind: "released"; taskId: number; key: string; reason: string };

/**
 * Records a review, only while `key` is still the task's review claim (in review, not taken over
 * after its lease ended): otherwise nothing changes and the line is empty. A decision is a `review`
 * transition; a given-back claim is removed without a history entry, so the next reconcile claims
 * the review again.
 */
export function recordReview(ledger: Ledger, r: ReviewResult, ctx: TransitionContext): Recorded {
  const task = findTask(ledger, r.taskId);
  const held = heldReview(task, r.key);
  if ("lost" in held) {
    if (r.kind === "released") return { ledger, outcome: { taskId: r.taskId, kind: "released" }, line: "" };
    return { ledger, outcome: { taskId: r.taskId, kind: "stale", note: `review of task ${r.taskId} arrived too late: ${held.why}` }, line: "" };
  }
  const t = task!;
  switch (r.kind) {
    case "released": {
      const { reviewClaim: _claim, ...rest } = t;
      return { ledger: replaceTask(ledger, rest), outcome: { taskId: t.id, kind: "released" }, line: `task ${t.id}: review given back (${r.reason.slice(0, 80)})` };
    }
    case "escalate": {
      const next = transition(t, { type: "escalate", reason: r.reason }, ctx).task;
      return { ledger: replaceTask(ledger, next), outcome: { taskId: t.id, kind: "decided", status: next.status, note: r.reason }, line: `task ${t.id}: needs help (${r.reason.slice(0, 80)})` };
    }
    case "reviewed": {
      const next = transition(t, r.event, ctx).task;
      const note = `review by ${r.event.reviewer ?? "nobody"}: ${r.event.decision}${r.event.needsHelp ? " (a person must decide)" : ""}`;
      const outcome = r.record ? { taskId: t.id, kind: "recorded" as const, status: next.status, attempt: next.attempts.length, record: r.record, note } : { taskId: t.id, kind: "decided" as const, status: next.status, note };
      return { ledger: replaceTask(ledger, next), outcome, line: `task ${t.id}: ${note}` };
    }
  }
}
