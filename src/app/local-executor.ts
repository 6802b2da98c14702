import type { AttemptResult, RunOutcome } from "../core/reconcile/attempt-result.ts";
import type { Claim, ReviewStart } from "../core/reconcile/plan-reconcile.ts";
import type { AppDeps, WorkerIo } from "./app-deps.ts";
import { logOf } from "./app-deps.ts";
import { performAttempt } from "./perform-attempt.ts";
import type { Executor } from "./reconcile.ts";
import { reviewTask } from "./review-task.ts";

/** What the local executor reports, for a progress display or log lines. */
export type ExecutorEvent =
  | { kind: "start"; id: number; title: string }
  | { kind: "performed"; id: number; result: AttemptResult | { kind: "not_mine"; why: string } }
  | { kind: "reviewed"; id: number; outcome: RunOutcome }
  | { kind: "error"; id: number; message: string };

interface Running {
  key?: string;
  controller: AbortController;
  unlink: () => void;
}

/**
 * Runs claimed attempts and reviews on this machine, each in its own worktree, and keeps their
 * results until the next reconcile records them (many results, one commit). `signal` (Ctrl-C,
 * shutdown) stops every agent; their claims come back as `released` results.
 */
export class LocalExecutor implements Executor {
  private readonly running = new Map<number, Running>();
  private results: AttemptResult[] = [];
  readonly reviewOutcomes: RunOutcome[] = [];
  private wakers: (() => void)[] = [];

  constructor(
    private readonly deps: AppDeps,
    private readonly io: WorkerIo,
    private readonly signal: AbortSignal,
    private readonly onEvent: (e: ExecutorEvent) => void = () => undefined,
    private readonly titleOf: (taskId: number) => string = (id) => `task ${id}`,
  ) {}

  /** Tasks this executor is working on now. */
  busy(): Set<number> {
    return new Set(this.running.keys());
  }

  get size(): number {
    return this.running.size;
  }

  /** Results waiting to be recorded. */
  get pending(): number {
    return this.results.length;
  }

  /** Takes the results waiting to be recorded. */
  drain(): AttemptResult[] {
    const out = this.results;
    this.results = [];
    return out;
  }

  /** Puts results back (their reconcile failed; the next one records them). */
  requeue(results: readonly AttemptResult[]): void {
    this.results = [...results, ...this.results];
  }

  runAttempt(claim: Claim): void {
    const { controller, unlink } = this.linked();
    this.running.set(claim.taskId, { key: claim.key, controller, unlink });
    this.onEvent({ kind: "start", id: claim.taskId, title: this.titleOf(claim.taskId) });
    this.track(claim.taskId, async () => {
      const out = await performAttempt(this.deps, this.io, claim, controller.signal);
      if (out.kind !== "not_mine") this.results.push(out);
      this.onEvent({ kind: "performed", id: claim.taskId, result: out });
    });
  }

  runReview(review: ReviewStart): void {
    const { taskId, key } = review;
    const { controller, unlink } = this.linked();
    this.running.set(taskId, { key, controller, unlink });
    this.onEvent({ kind: "start", id: taskId, title: `review: ${this.titleOf(taskId)}` });
    this.track(taskId, async () => {
      const outcome = await reviewTask(this.deps, review, this.io, { signal: controller.signal });
      this.reviewOutcomes.push(outcome);
      this.onEvent({ kind: "reviewed", id: taskId, outcome });
    });
  }

  cancelAttempt(taskId: number, key: string): void {
    const r = this.running.get(taskId);
    if (r?.key === key) r.controller.abort();
  }

  /**
   * Resolves when some run finishes, or after `ms`, or (when given) when `signal` aborts. Results
   * that finished while nobody waited (during a reconcile) resolve it at once: no lost wake-up.
   */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.results.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.wakers = this.wakers.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      if (signal?.aborted) done();
      this.wakers.push(done);
    });
  }

  /** Resolves once nothing runs any more. */
  /**
   * A backoff pause: returns after `ms`, or at once on abort. Unlike `wait`, finished results do not
   * cut it short: they are exactly what could not be written, and hurrying back is a hot loop.
   */
  pause(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  async settle(): Promise<void> {
    while (this.running.size > 0) await this.wait(60_000);
  }

  /** A controller that aborts with the executor's signal, and a way to unhook it once its run ends. */
  private linked(): { controller: AbortController; unlink: () => void } {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    if (this.signal.aborted) controller.abort();
    else this.signal.addEventListener("abort", stop, { once: true });
    return { controller, unlink: () => this.signal.removeEventListener("abort", stop) };
  }

  private track(taskId: number, work: () => Promise<void>): void {
    work()
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        logOf(this.deps).error("local run failed", { taskId, error: message });
        this.onEvent({ kind: "error", id: taskId, message });
      })
      .finally(() => {
        this.running.get(taskId)?.unlink();
        this.running.delete(taskId);
        for (const w of [...this.wakers]) w();
      });
  }
}
