import type { Ledger } from "./ledger.ts";
import { findTask, replaceTask } from "./ledger.ts";
import type { Attempt, ReviewClaim, Task } from "./task.ts";

/** Why a worker no longer holds its attempt: it must stop its agent. */
export type LostClaim = { lost: true; why: string };

/** The open attempt `key` of a running task, or why the worker lost it. */
export function heldAttempt(task: Task | undefined, key: string): Attempt | LostClaim {
  if (!task) return { lost: true, why: "the task is gone from the ledger" };
  const open = task.attempts.at(-1);
  if (task.status !== "running" || open?.key !== key || open.endedAt !== undefined) {
    return { lost: true, why: `attempt ${key} is no longer the task's open attempt (status ${task.status})` };
  }
  return open;
}

/** The review claim `key` of a task in review, or why the worker lost it. */
export function heldReview(task: Task | undefined, key: string): ReviewClaim | LostClaim {
  if (!task) return { lost: true, why: "the task is gone from the ledger" };
  if (task.status !== "in_review" || task.reviewClaim?.key !== key) return { lost: true, why: `review ${key} is no longer the task's open review (status ${task.status})` };
  return task.reviewClaim;
}

/**
 * Extends a running attempt's lease (or a review claim's: `key` says which). Not a state transition: the status does not change and no
 * history entry is added (the lease time lives on the attempt), so a long run does not grow the
 * ledger with every heartbeat. Returns the new ledger, or why the claim is lost.
 */
export function renewLease(ledger: Ledger, taskId: number, key: string, leaseUntil: string): Ledger | LostClaim {
  const task = findTask(ledger, taskId);
  if (task?.reviewClaim?.key === key) {
    const review = heldReview(task, key);
    return "lost" in review ? review : replaceTask(ledger, { ...task, reviewClaim: { ...review, leaseUntil } });
  }
  const held = heldAttempt(task, key);
  if ("lost" in held) return held;
  const attempts = [...task!.attempts.slice(0, -1), { ...held, leaseUntil }];
  return replaceTask(ledger, { ...task!, attempts });
}

/** "held by a worker whose lease ends at T" for a running task; null for anything else. */
export function leaseHolder(task: Task): { key: string; agent: string; leaseUntil?: string } | null {
  const open = task.attempts.at(-1);
  if (task.status !== "running" || !open || open.endedAt !== undefined) return null;
  return { key: open.key, agent: open.agent, ...(open.leaseUntil ? { leaseUntil: open.leaseUntil } : {}) };
}
