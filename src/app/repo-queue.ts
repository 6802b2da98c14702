// Work queued per repository: one job at a time per repository (its reconciles never race each
// other on this server), many repositories in parallel up to a limit, first come first served across
// repositories. A tick waiting behind another job of the same repository is redundant (every
// reconcile does the tick work), so it is dropped. Nothing here knows GitHub: the app queues closures.
import type { Log } from "../core/ports.ts";

export interface QueueJob {
  kind: "event" | "tick";
  /** For logs: "issues.labeled #12", "tick". */
  label: string;
  run(): Promise<void>;
}

export type Queued = "queued" | "coalesced" | "full" | "closed";

export interface QueueStats {
  running: number;
  pending: number;
  /** Repositories with work running or waiting. */
  repos: number;
  done: number;
  failed: number;
}

interface Lane {
  pending: QueueJob[];
  running: boolean;
}

export class RepoQueue {
  private readonly lanes = new Map<string, Lane>();
  /** Repositories with pending work and nothing running, in the order they became ready. */
  private readonly ready: string[] = [];
  private active = 0;
  private done = 0;
  private failed = 0;
  private closed = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly opts: { concurrency: number; maxPendingPerRepo: number; log: Log }) {
    if (!(opts.concurrency >= 1)) throw new Error("RepoQueue: concurrency must be at least 1");
  }

  push(repo: string, job: QueueJob): Queued {
    if (this.closed) return "closed";
    const lane = this.lanes.get(repo) ?? { pending: [], running: false };
    if (job.kind === "tick" && lane.pending.length > 0) return "coalesced";
    if (lane.pending.length >= this.opts.maxPendingPerRepo) return "full";
    lane.pending.push(job);
    if (!this.lanes.has(repo)) this.lanes.set(repo, lane);
    if (!lane.running && lane.pending.length === 1) this.ready.push(repo);
    this.pump();
    return "queued";
  }

  stats(): QueueStats {
    let pending = 0;
    for (const lane of this.lanes.values()) pending += lane.pending.length;
    return { running: this.active, pending, repos: this.lanes.size, done: this.done, failed: this.failed };
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.lanes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Refuses new work and resolves once the queued work is done (a graceful shutdown). */
  close(): Promise<void> {
    this.closed = true;
    return this.idle();
  }

  private pump(): void {
    while (this.active < this.opts.concurrency && this.ready.length > 0) {
      const repo = this.ready.shift()!;
      const lane = this.lanes.get(repo)!;
      const job = lane.pending.shift()!;
      lane.running = true;
      this.active++;
      void this.runOne(repo, lane, job);
    }
  }

  private async runOne(repo: string, lane: Lane, job: QueueJob): Promise<void> {
    try {
      await job.run();
      this.done++;
    } catch (err) {
      this.failed++;
      this.opts.log.error("queued work failed", { repository: repo, job: job.label, error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.active--;
      lane.running = false;
      if (lane.pending.length > 0) this.ready.push(repo);
      else this.lanes.delete(repo);
      this.pump();
      if (this.lanes.size === 0) for (const w of this.waiters.splice(0)) w();
    }
  }
}
