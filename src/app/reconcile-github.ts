// One reconcile of a repository on GitHub, as both the Action (`mode: auto`) and the app run it:
// a tick also takes up labelled issues whose own event never came (level-triggered), the trigger's
// reconcile claims attempts up to the limit and hands them to the executor (a dispatched worker
// run each), and dispatches that failed give their claims back at once instead of after the lease.
import type { GitHubIo, ReconcileDeps } from "./app-deps.ts";
import { missedIssueEvents } from "./discover-issues.ts";
import type { ReconcileResult } from "./reconcile.ts";
import { reconcile } from "./reconcile.ts";
import type { Executor } from "./reconcile.ts";
import { DispatchExecutor } from "./remote-worker.ts";
import type { Trigger } from "../core/reconcile/trigger.ts";
import type { AttemptResult } from "../core/reconcile/attempt-result.ts";

export interface GitHubRunOptions {
  /** The executor of claims (dispatched worker runs, or agents on this machine); none: nothing is claimed (tasks are made, routed and synced only). */
  executor?: Executor;
  /** Attempts (and reviews) this run may claim at most. */
  maxWorkers: number;
  /** Tasks this machine's executor works on now (never claimed again). */
  busy?: ReadonlySet<number>;
  /** Finished attempts of this machine's executor, recorded by the trigger's reconcile. */
  results?: readonly AttemptResult[];
  dryRun?: boolean;
}

export interface GitHubRun {
  /** The trigger's own reconcile. */
  result: ReconcileResult;
  /** The last reconcile of the run (the one that gave failed dispatches back), else `result`. */
  last: ReconcileResult;
  /** Plan lines of every reconcile of the run, in order. */
  plan: string[];
}

export async function reconcileOnGitHub(trigger: Trigger, deps: ReconcileDeps & { github: GitHubIo }, opts: GitHubRunOptions): Promise<GitHubRun> {
  const { executor } = opts;
  const dryRun = opts.dryRun === true;
  const limit = (claimed: number) => (executor ? Math.max(0, opts.maxWorkers - claimed) : 0);
  const missed = trigger.kind === "tick" ? await missedIssueEvents(deps, deps.github) : [];
  let claimed = 0;
  const plan: string[] = [];
  const busy = opts.busy ?? new Set<number>();
  const run = async (t: Trigger, results: readonly AttemptResult[] = []) => {
    const r = await reconcile(t, deps, { dryRun, results, claim: { limit: limit(claimed), busy }, reviews: { limit: limit(claimed), busy }, ...(executor ? { executor } : {}) });
    claimed += r.claims.length + r.reviews.length;
    plan.push(...r.plan);
    return r;
  };
  for (const event of missed) await run(event);
  const result = await run(trigger, opts.results);
  const settled = executor instanceof DispatchExecutor ? await settleDispatches(deps, executor) : null;
  if (settled) plan.push(...settled.plan);
  return { result, last: settled ?? result, plan };
}

/** Dispatches that failed give their claims back at once (one more reconcile), rather than after the lease; null when none failed. */
export async function settleDispatches(deps: ReconcileDeps, executor: DispatchExecutor): Promise<ReconcileResult | null> {
  const { released, releasedReviews } = await executor.settle();
  return released.length + releasedReviews.length > 0 ? reconcile({ kind: "tick" }, deps, { results: released, reviewResults: releasedReviews }) : null;
}
