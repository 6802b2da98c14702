import type { AttemptResult } from "../core/reconcile/attempt-result.ts";
import type { Claim, ReviewStart } from "../core/reconcile/plan-reconcile.ts";
import type { ReviewResult } from "../core/reconcile/review-result.ts";
import type { AttemptArtifact, ReviewArtifact } from "../core/reconcile/worker-artifact.ts";
import { fromReviewArtifact, fromWorkerArtifact, toReviewArtifact, toWorkerArtifact } from "../core/reconcile/worker-artifact.ts";
import type { AttemptWork, ReviewWork } from "../core/reconcile/trigger.ts";
import { redactDeep } from "../core/secrets/redact.ts";
import type { Log, Workspaces } from "../core/ports.ts";
import type { AppDeps, GitHubIo, ReconcileDeps, WorkerIo } from "./app-deps.ts";
import { logOf, redactOf } from "./app-deps.ts";
import type { PerformOutcome } from "./perform-attempt.ts";
import { performAttempt } from "./perform-attempt.ts";
import type { Executor, ReconcileResult } from "./reconcile.ts";
import { reconcile } from "./reconcile.ts";
import type { ReviewPerformed } from "./review-task.ts";
import { performReview } from "./review-task.ts";

/**
 * Workers on other machines (the Action's worker runs). The run that claims an attempt (or a review)
 * dispatches a worker run for it; the worker performs it with a read-only token (the agent could
 * read the job's token, so it must not be able to write) and leaves its result (and an attempt's
 * task branch) as an artifact; the run that records it, with a writing token, pushes the branch and
 * records the result.
 */

/** What the worker leaves: the artifact (null when the attempt was not its to perform). */
export interface PerformedRemotely {
  outcome: PerformOutcome;
  artifact: AttemptArtifact | null;
}

/**
 * The worker half: performs the dispatched attempt without writing anything (no heartbeats, no
 * push, no ledger commit) and returns the artifact to hand on, redacted (artifacts are readable by
 * anyone who can read the repository's runs). `bundleTo` is where the task branch's new commits go.
 */
export async function performForRecord(deps: AppDeps, io: WorkerIo, work: AttemptWork, bundleTo: string, signal?: AbortSignal): Promise<PerformedRemotely> {
  const outcome = await performAttempt(deps, { ...io, readOnly: true }, { taskId: work.taskId, key: work.key }, signal);
  if (outcome.kind === "not_mine") {
    logOf(deps).warn("the dispatched attempt is not this worker's to perform; nothing is handed on", { taskId: work.taskId, key: work.key, why: outcome.why });
    return { outcome, artifact: null };
  }
  const result = redactDeep(outcome, redactOf(deps));
  const head = result.kind === "ran" && io.workspaces.exportBranch ? await io.workspaces.exportBranch(work.taskId, bundleTo) : null;
  return { outcome: result, artifact: toWorkerArtifact(result, head) };
}

/**
 * The recording half: reads the worker's artifact (`json`: null when the worker left none), brings
 * its task branch in from `bundle` and pushes it, then records the result in one reconcile (which
 * also mirrors it to GitHub: the pull request). Whatever went wrong becomes the attempt's router
 * error, so the task moves on (retries) instead of waiting for its lease.
 */
export async function recordFromWorker(deps: ReconcileDeps, workspaces: Workspaces, work: AttemptWork, json: string | null, bundle: string, opts: { executor?: Executor; claimLimit?: number } = {}): Promise<ReconcileResult> {
  const log = logOf(deps).child({ taskId: work.taskId, key: work.key });
  const read = fromWorkerArtifact(json, work);
  let result: AttemptResult = read.result;
  if (read.branchHead !== null) {
    const failed = await landBranch(workspaces, work.taskId, bundle, read.branchHead);
    if (failed !== null) {
      log.warn("the worker's branch was not pushed; the attempt counts as a router error", { why: failed });
      result = { kind: "router_error", taskId: work.taskId, key: work.key, message: failed };
    }
  }
  // A result that sends the task to review has the review claimed and dispatched by this reconcile too.
  const limit = opts.claimLimit ?? 0;
  return reconcile({ kind: "tick" }, deps, { results: [result], ...(opts.executor ? { executor: opts.executor, claim: { limit }, reviews: { limit } } : {}) });
}

/** What a reviewing worker leaves: the artifact (null when the review was not its to perform). */
export interface ReviewedRemotely {
  outcome: ReviewPerformed;
  artifact: ReviewArtifact | null;
}

/**
 * The worker half of a dispatched review: the reviewer reads the task branch in a worktree of its
 * own and decides; nothing is pushed, no lease renewed, the ledger not written (the claim's lease
 * covers the whole run). Returns the artifact to hand on, redacted.
 */
export async function reviewForRecord(deps: AppDeps, io: WorkerIo, work: ReviewWork, signal?: AbortSignal): Promise<ReviewedRemotely> {
  const outcome = await performReview(deps, { ...io, readOnly: true }, { taskId: work.taskId, key: work.key }, signal);
  if (outcome.kind === "not_mine") {
    logOf(deps).warn("the dispatched review is not this worker's to perform; nothing is handed on", { taskId: work.taskId, key: work.key, why: outcome.why });
    return { outcome, artifact: null };
  }
  const result = redactDeep(outcome, redactOf(deps));
  return { outcome: result, artifact: toReviewArtifact(result) };
}

/**
 * The recording half of a dispatched review: reads the worker's artifact (`json`: null when it left
 * none) and records the decision in one reconcile, fenced by the review claim's key (a change
 * request sends the task back, and this reconcile dispatches the next attempt). A worker that left
 * nothing gives the claim back; this run does not dispatch that review again (the next reconcile
 * does), so a worker that keeps dying does not loop.
 */
export async function recordReviewFromWorker(deps: ReconcileDeps, work: ReviewWork, json: string | null, opts: { executor?: Executor; claimLimit?: number } = {}): Promise<ReconcileResult> {
  const result = fromReviewArtifact(json, work);
  if (result.kind !== "reviewed") logOf(deps).warn(result.kind === "released" ? "no review from the worker; the review is given back" : "the worker's review is not valid; a person is asked", { taskId: work.taskId, key: work.key, why: result.reason });
  const limit = opts.claimLimit ?? 0;
  const busy = new Set(result.kind === "released" ? [work.taskId] : []);
  return reconcile({ kind: "tick" }, deps, { reviewResults: [result], ...(opts.executor ? { executor: opts.executor, claim: { limit }, reviews: { limit, busy } } : {}) });
}

/** Imports and pushes the worker's branch; why not, or null when it landed. */
async function landBranch(workspaces: Workspaces, taskId: number, bundle: string, head: string): Promise<string | null> {
  if (!workspaces.importBranch || !workspaces.publish) return "this run cannot push the task branch (no remote configured)";
  try {
    const imported = await workspaces.importBranch(taskId, bundle, head);
    if ("conflict" in imported) return `the branch of task ${taskId} moved while the worker ran; its work was not pushed`;
    const pushed = await workspaces.publish(taskId);
    if ("conflict" in pushed) return `the branch of task ${taskId} moved on the remote while the worker ran; its work was not pushed`;
    return null;
  } catch (err) {
    return `the worker's branch could not be pushed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** One dispatched worker run (for an attempt, or a review), or why it could not be started. */
export type Dispatched = { taskId: number; key: string; review: boolean } & ({ runUrl: string | null } | { error: string });

/**
 * The executor of a run that may not perform attempts itself: each claimed attempt becomes a
 * `workflow_dispatch` run of the worker workflow (task, attempt, key and agent as inputs), and so
 * does each claimed review (task, review — the review claim's key — and the reviewer as agent).
 * Dispatches go out as they are claimed; `settle` waits for them and turns each one that failed
 * into a `released` result, so the next reconcile gives the claim back at once.
 */
export class DispatchExecutor implements Executor {
  private readonly pending: Promise<Dispatched>[] = [];

  constructor(
    private readonly gh: GitHubIo,
    private readonly target: { workflow: string; ref: string },
    private readonly log: Log,
  ) {}

  runAttempt(claim: Claim): void {
    this.dispatch({ taskId: claim.taskId, key: claim.key, review: false }, { task: String(claim.taskId), attempt: String(claim.attempt), key: claim.key, agent: claim.agent });
  }

  runReview(review: ReviewStart): void {
    // Only the inputs a review needs: an attempt's are left at their empty defaults.
    this.dispatch({ taskId: review.taskId, key: review.key, review: true }, { task: String(review.taskId), review: review.key, ...(review.agent ? { agent: review.agent } : {}) });
  }

  private dispatch(what: { taskId: number; key: string; review: boolean }, inputs: Record<string, string>): void {
    const worker = what.review ? "reviewer" : "worker";
    this.pending.push(
      this.gh.api.dispatchWorkflow({ workflow: this.target.workflow, ref: this.target.ref, inputs }).then(
        ({ runUrl }): Dispatched => {
          this.log.info(`${worker} dispatched`, { taskId: what.taskId, key: what.key, runUrl });
          return { ...what, runUrl };
        },
        (err: unknown): Dispatched => {
          const error = err instanceof Error ? err.message : String(err);
          this.log.error(`could not dispatch the ${worker}; the claim is given back`, { taskId: what.taskId, key: what.key, error });
          return { ...what, error };
        },
      ),
    );
  }

  cancelAttempt(): void {
    // A remote worker cannot be stopped from here; its result arrives stale and changes nothing.
  }

  /** Waits for every dispatch; the failed ones as `released` results (of attempts, of reviews) to record. */
  async settle(): Promise<{ dispatched: Dispatched[]; released: AttemptResult[]; releasedReviews: ReviewResult[] }> {
    const dispatched = await Promise.all(this.pending.splice(0));
    const failed = dispatched.flatMap((d) => ("error" in d ? [{ kind: "released" as const, taskId: d.taskId, key: d.key, reason: `the worker run could not be started: ${d.error}`, review: d.review }] : []));
    const released = failed.filter((f) => !f.review).map(({ review: _review, ...r }): AttemptResult => r);
    const releasedReviews = failed.filter((f) => f.review).map(({ review: _review, ...r }): ReviewResult => r);
    return { dispatched, released, releasedReviews };
  }
}
