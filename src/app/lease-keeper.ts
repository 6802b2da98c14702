import { RouterError } from "../core/errors.ts";
import { renewLease } from "../core/ledger/lease.ts";
import type { Log, Timer } from "../core/ports.ts";
import type { AppDeps } from "./app-deps.ts";
import { logOf, mutateOptionsOf } from "./app-deps.ts";
import { mutateLedger } from "./mutate-ledger.ts";

/**
 * Keeps a claimed attempt's lease alive while its agent works: every third of the lease it moves
 * `leaseUntil` forward (no history entry: a long run does not grow the ledger). A transient error
 * (a conflict, a git hiccup) is logged and survived; a lost claim (cancelled, taken over) or a lease
 * about to lapse stops the agent through `onLost`.
 */
export class LeaseKeeper {
  private readonly interval: number;
  private readonly leaseMs: number;
  private leaseUntil: number;
  private beating = false;
  private stopped = false;
  private readonly handle: { stop(): void };
  private readonly log: Log;
  /** Renewals written, and transient failures survived (for tests and logs). */
  renewals = 0;
  failures = 0;

  constructor(
    private readonly deps: AppDeps,
    private readonly taskId: number,
    private readonly key: string,
    leaseUntil: string | undefined,
    timer: Timer,
    private readonly onLost: (why: string) => void,
  ) {
    this.leaseMs = deps.config.execution.leaseMinutes * 60_000;
    this.interval = Math.max(1000, Math.floor(this.leaseMs / 3));
    this.leaseUntil = leaseUntil ? Date.parse(leaseUntil) : deps.clock.now().getTime() + this.leaseMs;
    this.log = logOf(deps).child({ taskId, key });
    this.handle = timer.every(this.interval, () => void this.beat());
  }

  /** One heartbeat; overlapping beats are skipped. Resolves when it is written or given up. */
  async beat(): Promise<void> {
    if (this.beating || this.stopped) return;
    this.beating = true;
    try {
      const until = new Date(this.deps.clock.now().getTime() + this.leaseMs).toISOString();
      const { result } = await mutateLedger(
        this.deps.store,
        (snap) => {
          const next = renewLease(snap.ledger, this.taskId, this.key, until);
          if ("lost" in next) return { ledger: snap.ledger, result: next.why, summary: "" };
          return { ledger: next, result: null, summary: `task ${this.taskId}: lease renewed until ${until}` };
        },
        { ...mutateOptionsOf(this.deps), archiveAfterDays: undefined, maxTries: 3 },
      );
      if (result !== null) return this.lose(`claim lost: ${result}`);
      this.leaseUntil = Date.parse(until);
      this.renewals++;
    } catch (err) {
      this.failures++;
      const message = err instanceof RouterError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
      this.log.warn("heartbeat failed; the run goes on while the lease lasts", { error: message, leaseUntil: new Date(this.leaseUntil).toISOString() });
      // The next beat comes one interval from now; if the lease ends before then, stop while it still holds.
      if (this.deps.clock.now().getTime() + this.interval >= this.leaseUntil) this.lose(`the lease ends at ${new Date(this.leaseUntil).toISOString()} and could not be renewed (${message})`);
    } finally {
      this.beating = false;
    }
  }

  stop(): void {
    this.stopped = true;
    this.handle.stop();
  }

  private lose(why: string): void {
    if (this.stopped) return;
    this.log.warn("stopping the agent", { why });
    this.stop();
    this.onLost(why);
  }
}

/**
 * What a worker's agent run under a claim shares, attempt or review: a signal that stops the agent
 * when the caller's signal aborts or the claim is lost, and (unless the worker is read-only and
 * cannot write the ledger) a LeaseKeeper renewing the claim meanwhile. `lostWhy` says why the claim
 * was lost, if it was; `end` stops the keeper and unhooks the caller's signal.
 */
export class ClaimedRun {
  private readonly controller = new AbortController();
  private readonly lease: LeaseKeeper | null;
  private readonly onOuterAbort = (): void => this.controller.abort();
  lostWhy: string | undefined;

  constructor(
    deps: AppDeps,
    claim: { taskId: number; key: string; leaseUntil: string | undefined },
    io: { timer: Timer; readOnly?: boolean },
    private readonly outer?: AbortSignal,
  ) {
    outer?.addEventListener("abort", this.onOuterAbort, { once: true });
    if (outer?.aborted) this.controller.abort();
    this.lease = io.readOnly
      ? null
      : new LeaseKeeper(deps, claim.taskId, claim.key, claim.leaseUntil, io.timer, (why) => {
          this.lostWhy = why;
          this.controller.abort();
        });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops renewing (the agent finished); the claim is then the caller's to record. */
  stopRenewing(): void {
    this.lease?.stop();
  }

  end(): void {
    this.lease?.stop();
    this.outer?.removeEventListener("abort", this.onOuterAbort);
  }
}
