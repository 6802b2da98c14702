// An Executor that performs nothing and records what reconcile handed it.
import type { Executor } from "../../src/app/reconcile.ts";
import type { Claim, ReviewStart } from "../../src/core/reconcile/plan-reconcile.ts";

export class SpyExecutor implements Executor {
  readonly attempts: Claim[] = [];
  readonly reviews: ReviewStart[] = [];
  readonly cancels: { taskId: number; key: string }[] = [];

  runAttempt(claim: Claim): void {
    this.attempts.push(claim);
  }

  runReview(review: ReviewStart): void {
    this.reviews.push(review);
  }

  cancelAttempt(taskId: number, key: string): void {
    this.cancels.push({ taskId, key });
  }

  /** Nothing was handed over. */
  get idle(): boolean {
    return this.attempts.length === 0 && this.reviews.length === 0 && this.cancels.length === 0;
  }
}
