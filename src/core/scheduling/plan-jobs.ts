import type { Job } from "../config/job.ts";
import { addTask } from "../ledger/create-task.ts";
import type { TransitionContext } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { findTask } from "../ledger/ledger.ts";
import type { RouteHint, Task } from "../ledger/task.ts";
import { isTerminal } from "../ledger/task.ts";
import { findDueSlots } from "./find-due-slots.ts";

type JobState = Ledger["jobs"][string];

export interface JobsPlan {
  /** The ledger with the new tasks and the jobs' state; the very object given when nothing changed. */
  ledger: Ledger;
  /** The tasks created, in the order of their ids. */
  created: Task[];
  /** One line per change, for the commit message and the dry-run plan. */
  lines: string[];
}

/** A job slot's idempotency key, `jobId|slotISO`: at most one task per key. */
export function jobSlotKey(jobId: string, slot: string): string {
  return `${jobId}|${new Date(Date.parse(slot)).toISOString()}`;
}

/** The task in the ledger for this slot of this job, if any (live or finished). */
function taskForSlot(ledger: Ledger, jobId: string, slot: string): Task | undefined {
  const key = jobSlotKey(jobId, slot);
  return ledger.tasks.find((t) => t.source.kind === "job" && jobSlotKey(t.source.jobId, t.source.slot) === key);
}

/** A task of this job that has not ended: its `activeTaskId`, or any live task the job created. */
function liveTaskOf(ledger: Ledger, jobId: string, state: JobState): Task | undefined {
  const active = state.activeTaskId === undefined ? undefined : findTask(ledger, state.activeTaskId);
  if (active && !isTerminal(active.status)) return active;
  return ledger.tasks.find((t) => t.source.kind === "job" && t.source.jobId === jobId && !isTerminal(t.status));
}

function hintOf(job: Job): RouteHint | undefined {
  const { profile, agent } = job.task;
  if (profile === undefined && agent === undefined) return undefined;
  return { ...(profile !== undefined ? { profile } : {}), ...(agent !== undefined ? { agent } : {}) };
}

/**
 * The scheduled jobs' part of a reconcile (pure; all time from `ctx.now`, slots from `findDueSlots`).
 * Per job, by name:
 *
 * - **Due slots** are the schedule's slots after the job's `lastSlot` up to and including now. The
 *   latest of them gets a task; so do up to `catchUp` more, the newest of the older ones (missed
 *   while nothing ran). Older ones are dropped. Tasks are created oldest slot first.
 * - **A new job** (no `lastSlot`) gets a task for the most recent slot at or before now only: it
 *   does not back-fill history, whatever `catchUp` says.
 * - **One at a time**: while a task of the job is live (not done, failed or cancelled), no task is
 *   created; `lastSlot` still moves to the latest due slot, so slots that pass meanwhile are
 *   skipped for good and never pile up for later.
 * - **Once per slot**: a slot that already has a task in the ledger (key `jobId|slotISO`) gets no
 *   other; `lastSlot` only moves forward, which also covers tasks since archived.
 *
 * - **Time zones**: the schedule is read in the job's `timezone` (UTC when absent); the slots are
 *   cron-parser's forward sequence, so on a spring-forward night a time in the skipped hour runs
 *   once the clock has jumped (02:30 in Berlin runs at 03:30), and on a fall-back night a time in
 *   the repeated hour runs once, at its first occurrence (a field that matches every hour, such as
 *   `0 * * * *`, fires in both hours: they are different hours). Nothing reads the host's clock or TZ.
 *
 * The job's state records `lastSlot` and `activeTaskId` (the newest task created, while it is live;
 * it is dropped in the reconcile that sees it end). Jobs not given (disabled, deleted) keep their
 * state; enabled again, they catch up as after an outage.
 */
export function planJobs(ledger: Ledger, jobs: readonly Job[], ctx: TransitionContext, opts: { maxAttempts: number }): JobsPlan {
  let next = ledger;
  const states: Record<string, JobState> = { ...ledger.jobs };
  const created: Task[] = [];
  const lines: string[] = [];

  for (const [jobId, state] of Object.entries(ledger.jobs)) {
    if (state.activeTaskId === undefined) continue;
    const task = findTask(ledger, state.activeTaskId);
    if (task && !isTerminal(task.status)) continue;
    const { activeTaskId: _ended, ...rest } = state;
    states[jobId] = rest;
    lines.push(`job ${jobId}: task ${state.activeTaskId} ${task ? `ended ${task.status}` : "is no longer in the ledger"}`);
  }

  for (const job of [...jobs].filter((j) => j.enabled).sort((a, b) => a.name.localeCompare(b.name))) {
    const state = states[job.name] ?? {};
    const fresh = state.lastSlot === undefined;
    const live = liveTaskOf(next, job.name, state);
    const keep = fresh || live ? 1 : 1 + job.catchUp;
    const due = findDueSlots(job.schedule, { ...(fresh ? {} : { after: state.lastSlot }), now: ctx.now, keep, ...(job.timezone !== undefined ? { timezone: job.timezone } : {}) });
    const latest = due.slots.at(-1);
    if (latest === undefined) continue;
    if (live) {
      states[job.name] = { ...state, lastSlot: latest };
      lines.push(`job ${job.name}: slot ${latest}${due.earlier ? " and earlier ones" : ""} skipped: task ${live.id} is still ${live.status}`);
      continue;
    }
    let newest: number | undefined;
    for (const slot of due.slots) {
      const existing = taskForSlot(next, job.name, slot);
      if (existing) {
        lines.push(`job ${job.name}: slot ${slot} already has task ${existing.id}`);
        continue;
      }
      const hint = hintOf(job);
      const added = addTask(
        next,
        { source: { kind: "job", jobId: job.name, slot }, title: job.task.title, body: job.task.body, labels: job.task.labels, maxAttempts: opts.maxAttempts, ...(hint ? { hint } : {}) },
        ctx,
      );
      next = added.ledger;
      created.push(added.task);
      newest = added.task.id;
      lines.push(`job ${job.name}: task ${added.task.id} for slot ${slot}`);
    }
    if (due.earlier && !fresh) lines.push(`job ${job.name}: missed slots before ${due.slots[0]!} dropped (catchUp ${job.catchUp})`);
    states[job.name] = { ...state, lastSlot: latest, ...(newest !== undefined ? { activeTaskId: newest } : {}) };
  }

  if (lines.length === 0) return { ledger, created, lines };
  return { ledger: { ...next, jobs: states }, created, lines };
}
