import type { RunRecord } from "../core/agents/run-record.ts";
import { chooseReviewer, settleReview } from "../core/agents/settle-review.ts";
import { readHandoff } from "../core/handoff/handoff.ts";
import { findTask, replaceTask, requireTask } from "../core/ledger/ledger.ts";
import type { Ledger } from "../core/ledger/ledger.ts";
import { heldReview } from "../core/ledger/lease.ts";
import type { ReviewStart } from "../core/reconcile/plan-reconcile.ts";
import type { TaskEvent } from "../core/ledger/events.ts";
import { transition } from "../core/ledger/transition.ts";
import type { RunOutcome } from "../core/reconcile/attempt-result.ts";
import type { Task } from "../core/ledger/task.ts";
import type { AppDeps, WorkerIo } from "./app-deps.ts";
import { contextOf, logOf, mutateOptionsOf, redactOf } from "./app-deps.ts";
import { redactDeep } from "../core/secrets/redact.ts";
import { planTaskBundle } from "./build-context.ts";
import { LeaseKeeper } from "./lease-keeper.ts";
import { mutateLedger } from "./mutate-ledger.ts";

/**
 * Reviews a task in `in_review`: a different agent, with the `review` profile, reads the task and
 * its diff in the task's worktree and answers approve or request_changes in its handoff. Anything
 * it changes in its own worktree (never the author's) is thrown away. The decision is recorded only
 * only while this worker still holds the review's claim (`key`, claimed by reconcile, its lease kept
 * alive meanwhile), so two workers never pay for one review and a late one records nothing. A
 * review that cannot even be prepared (the worktree, the bundle) asks a person instead of being
 * retried in a loop; a stopped one gives its claim back.
 */
export async function reviewTask(deps: AppDeps, review: ReviewStart, io: WorkerIo, opts: { signal?: AbortSignal } = {}): Promise<RunOutcome> {
  const { taskId: id, key } = review;
  const { ledger } = await deps.store.read();
  const task = requireTask(ledger, id, deps.store.location);
  const claim = heldReview(task, key);
  if ("lost" in claim) return { taskId: id, kind: "stale", note: `task ${id}: ${claim.why}` };
  const reviewProfile = io.profiles.get("review");
  const authorProfile = io.profiles.get(task.route?.profile ?? "");
  const reviewer = chooseReviewer(task, deps.config, reviewProfile);
  let event: Extract<TaskEvent, { type: "review" }>;
  let record: RunRecord | undefined;
  if (!reviewProfile || !reviewer) {
    event = { type: "review", decision: "request_changes", needsHelp: true, notes: !reviewProfile ? "no review profile is defined" : "no second enabled agent can review this task" };
  } else {
    let prepared: { path: string; bundle: string } | Error;
    try {
      const space = await io.workspaces.prepare(id, key);
      const { plan } = await planTaskBundle(deps.config, ledger, task, { profiles: io.profiles, repo: io.repoFor(id), boundary: io.newBoundary(), profileName: "review" });
      prepared = { path: space.path, bundle: plan.text };
    } catch (err) {
      prepared = err instanceof Error ? err : new Error(String(err));
      await io.workspaces.remove(id, key).catch(() => undefined);
    }
    if (prepared instanceof Error) {
      logOf(deps).error("review could not be prepared", { taskId: id, error: prepared.message });
      return escalate(deps, id, key, redactOf(deps)(`the review could not be prepared: ${prepared.message.split("\n")[0]?.slice(0, 300) ?? ""}`));
    }
    const model = deps.config.agents[reviewer]?.models?.[task.route?.complexity ?? "medium"];
    // The claim's lease is kept alive while the reviewer works; a lost claim stops it.
    const controller = new AbortController();
    const onOuterAbort = (): void => controller.abort();
    opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
    if (opts.signal?.aborted) controller.abort();
    let lostWhy: string | undefined;
    const lease = new LeaseKeeper(deps, id, key, claim.leaseUntil, io.timer, (why) => {
      lostWhy = why;
      controller.abort();
    });
    try {
      const run = await io.runner.run({ taskId: id, key, agent: reviewer, ...(model ? { model } : {}), profile: reviewProfile, bundle: prepared.bundle, workdir: prepared.path, timeoutMs: reviewProfile.timeoutMinutes * 60_000 }, controller.signal);
      lease.stop();
      if (lostWhy !== undefined) return await giveBack(deps, id, key, `the reviewer was stopped: ${lostWhy}`);
      if (opts.signal?.aborted) return await giveBack(deps, id, key, "the worker was stopped before the review finished");
      // What the reviewer wrote is redacted before it is recorded, like an attempt's result.
      const redact = redactOf(deps);
      record = redactDeep(run.record, redact);
      event = redactDeep(settleReview(task, reviewer, run.record, readHandoff(run.handoffText, run.record.finalText), authorProfile), redact);
    } finally {
      lease.stop();
      opts.signal?.removeEventListener("abort", onOuterAbort);
      await io.workspaces.remove(id, key);
    }
  }
  const { result } = await mutateLedger<RunOutcome>(
    deps.store,
    ({ ledger: current }) => {
      const t = findTask(current, id);
      const held = heldReview(t, key);
      if ("lost" in held) return { ledger: current, result: { taskId: id, kind: "stale", note: `review of task ${id} arrived too late: ${held.why}` }, summary: "" };
      const next = transition(t!, event, contextOf(deps)).task;
      const note = `review by ${reviewer ?? "nobody"}: ${event.decision}${event.needsHelp ? " (a person must decide)" : ""}`;
      return {
        ledger: replaceTask(current, next),
        result: record ? { taskId: id, kind: "recorded", status: next.status, attempt: next.attempts.length, record, note } : { taskId: id, kind: "decided", status: next.status, note },
        summary: `task ${id}: ${note}`,
      };
    },
    mutateOptionsOf(deps),
  );
  return result;
}

/** Sends a task in review to a person with the reason, if this worker still holds its review. */
async function escalate(deps: AppDeps, id: number, key: string, reason: string): Promise<RunOutcome> {
  const { result } = await mutateLedger<RunOutcome>(
    deps.store,
    ({ ledger }) => {
      const t = findTask(ledger, id);
      const held = heldReview(t, key);
      if ("lost" in held) return { ledger, result: { taskId: id, kind: "stale", note: `task ${id}: ${held.why}` }, summary: "" };
      const next = transition(t!, { type: "escalate", reason }, contextOf(deps)).task;
      return { ledger: replaceTask(ledger, next), result: { taskId: id, kind: "decided", status: next.status, note: reason }, summary: `task ${id}: needs help (${reason.slice(0, 80)})` };
    },
    mutateOptionsOf(deps),
  );
  return result;
}

/** Gives a review's claim back (nothing recorded, no history entry), so the next reconcile claims it again. */
async function giveBack(deps: AppDeps, id: number, key: string, why: string): Promise<RunOutcome> {
  logOf(deps).warn("review given back", { taskId: id, key, why });
  await mutateLedger<null>(
    deps.store,
    ({ ledger }) => {
      const t = findTask(ledger, id);
      if ("lost" in heldReview(t, key)) return { ledger, result: null, summary: "" };
      return { ledger: withoutReviewClaim(ledger, t!), result: null, summary: `task ${id}: review given back (${why.slice(0, 80)})` };
    },
    mutateOptionsOf(deps),
  );
  return { taskId: id, kind: "released" };
}

function withoutReviewClaim(ledger: Ledger, task: Task): Ledger {
  const { reviewClaim: _claim, ...rest } = task;
  return replaceTask(ledger, rest);
}
