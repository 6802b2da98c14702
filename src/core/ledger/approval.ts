import type { Approval, Task } from "./task.ts";

/**
 * Approvals bind to a task and an attempt, and expire. An approval to run covers the attempts of
 * one budget: automatic retries keep it, but a person's retry, answer or re-route (each starts a
 * new budget) asks again. An approval of a pull request covers the work of the attempt it saw.
 */
export function approvalLive(a: Approval, now: string, expireDays: number): boolean {
  return Date.parse(a.at) + expireDays * 86_400_000 > Date.parse(now);
}

/** A live approval given since the task's current budget began (before its first attempt in it). */
export function approvedToRun(task: Task, now: string, expireDays: number): boolean {
  return task.approvals.some((a) => a.attempt >= task.budgetFrom - 1 && approvalLive(a, now, expireDays));
}

/** A live approval given after the latest attempt finished: its pull request may open. */
export function approvedForPr(task: Task, now: string, expireDays: number): boolean {
  return task.approvals.some((a) => a.attempt === task.attempts.length && approvalLive(a, now, expireDays));
}
