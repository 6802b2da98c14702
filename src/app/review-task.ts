import { chooseReviewer, settleReview } from "../core/agents/settle-review.ts";
import { readHandoff } from "../core/handoff/handoff.ts";
import { requireTask } from "../core/ledger/ledger.ts";
import { heldReview } from "../core/ledger/lease.ts";
import type { ReviewStart } from "../core/reconcile/plan-reconcile.ts";
import type { RunOutcome } from "../core/reconcile/attempt-result.ts";
import type { ReviewEvent, ReviewResult } from "../core/reconcile/review-result.ts";
import { recordReview } from "../core/reconcile/review-result.ts";
import type { AppDeps, WorkerIo } from "./app-deps.ts";
import { contextOf, logOf, mutateOptionsOf, redactOf } from "./app-deps.ts";
import { redactDeep } from "../core/secrets/redact.ts";
import { planTaskBundle } from "./build-context.ts";
import { ClaimedRun } from "./lease-keeper.ts";
import { mutateLedger } from "./mutate-ledger.ts";

/** A review performed, or why this worker did not perform it (its claim is not the task's review claim). */
export type ReviewPerformed = ReviewResult | { kind: "not_mine"; taskId: number; key: string; why: string };

/**
 * Reviews a task in `in_review` on this machine and records the decision at once: see
 * `performReview` (the work) and `recordReview` (the record, fenced by the claim's key). The
 * decision is written only while this worker still holds the review's claim, so two workers never
 * pay for one review and a late one records nothing.
 */
export async function reviewTask(deps: AppDeps, review: ReviewStart, io: WorkerIo, opts: { signal?: AbortSignal } = {}): Promise<RunOutcome> {
  const done = await performReview(deps, io, review, opts.signal);
  if (done.kind === "not_mine") return { taskId: done.taskId, kind: "stale", note: `task ${done.taskId}: ${done.why}` };
  if (done.kind === "released") logOf(deps).warn("review given back", { taskId: done.taskId, key: done.key, why: done.reason });
  const { result } = await mutateLedger<RunOutcome>(
    deps.store,
    ({ ledger }) => {
      const r = recordReview(ledger, done, contextOf(deps));
      return { ledger: r.ledger, result: r.outcome, summary: r.line };
    },
    mutateOptionsOf(deps),
  );
  return result;
}

/**
 * Performs a claimed review and hands back its result without recording it: a different agent,
 * with the `review` profile, reads the task and its diff in a worktree of its own and answers
 * approve or request_changes in its handoff. Anything it changes in its worktree (never the
 * author's) is thrown away. A review that cannot even be prepared (the worktree, the bundle) asks a
 * person instead of being retried in a loop; a stopped one gives its claim back. The claim's lease
 * is kept alive meanwhile, except by a read-only worker (the Action's worker job), whose claim's
 * lease covers the whole run; it writes nothing at all.
 */
export async function performReview(deps: AppDeps, io: WorkerIo, review: ReviewStart, signal?: AbortSignal): Promise<ReviewPerformed> {
  const { taskId: id, key } = review;
  const { ledger } = await deps.store.read();
  const task = requireTask(ledger, id, deps.store.location);
  const claim = heldReview(task, key);
  if ("lost" in claim) return { kind: "not_mine", taskId: id, key, why: claim.why };
  const reviewProfile = io.profiles.get("review");
  const authorProfile = io.profiles.get(task.route?.profile ?? "");
  const reviewer = chooseReviewer(task, deps.config, reviewProfile);
  if (!reviewProfile || !reviewer) {
    return { kind: "reviewed", taskId: id, key, event: { type: "review", decision: "request_changes", needsHelp: true, notes: !reviewProfile ? "no review profile is defined" : "no second enabled agent can review this task" } };
  }
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
    return { kind: "escalate", taskId: id, key, reason: redactOf(deps)(`the review could not be prepared: ${prepared.message.split("\n")[0]?.slice(0, 300) ?? ""}`) };
  }
  const model = deps.config.agents[reviewer]?.models?.[task.route?.complexity ?? "medium"];
  // The claim's lease is kept alive while the reviewer works; a lost claim stops it.
  const claimed = new ClaimedRun(deps, { taskId: id, key, leaseUntil: claim.leaseUntil }, io, signal);
  try {
    const run = await io.runner.run({ taskId: id, key, agent: reviewer, ...(model ? { model } : {}), profile: reviewProfile, bundle: prepared.bundle, workdir: prepared.path, timeoutMs: reviewProfile.timeoutMinutes * 60_000 }, claimed.signal);
    claimed.stopRenewing();
    if (claimed.lostWhy !== undefined) return { kind: "released", taskId: id, key, reason: `the reviewer was stopped: ${claimed.lostWhy}` };
    if (signal?.aborted) return { kind: "released", taskId: id, key, reason: "the worker was stopped before the review finished" };
    // What the reviewer wrote is redacted before it is recorded, like an attempt's result.
    const redact = redactOf(deps);
    const event: ReviewEvent = redactDeep(settleReview(task, reviewer, run.record, readHandoff(run.handoffText, run.record.finalText), authorProfile), redact);
    return { kind: "reviewed", taskId: id, key, event, record: redactDeep(run.record, redact) };
  } finally {
    claimed.end();
    await io.workspaces.remove(id, key);
  }
}
