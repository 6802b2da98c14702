import { leaseHolder } from "../core/ledger/lease.ts";
import type { Ledger } from "../core/ledger/ledger.ts";
import type { RunOutcome } from "../core/reconcile/attempt-result.ts";
import { planTick, runnableTasks } from "../core/scheduling/plan-tick.ts";
import { findTask } from "../core/ledger/ledger.ts";
import type { ReconcileDeps, WorkerIo } from "./app-deps.ts";
import { logOf } from "./app-deps.ts";
import type { ExecutorEvent } from "./local-executor.ts";
import { LocalExecutor } from "./local-executor.ts";
import type { ReconcileResult } from "./reconcile.ts";
import { reconcile } from "./reconcile.ts";

/** What the loop reports, for a progress display or plain log lines. */
export type ServeEvent =
  | { kind: "routed"; ids: number[] }
  | { kind: "start"; id: number; title: string }
  | { kind: "end"; id: number; outcome: RunOutcome }
  | { kind: "error"; id: number; message: string }
  | { kind: "waiting"; id: number; leaseUntil?: string };

/** One line per event, for logs and non-terminal output. */
export function describeServeEvent(e: ServeEvent): string {
  switch (e.kind) {
    case "routed":
      return `routed ${e.ids.map((id) => `#${id}`).join(", ")}`;
    case "start":
      return `#${e.id} starting: ${e.title}`;
    case "end": {
      const o = e.outcome;
      return `#${e.id} ${o.kind === "recorded" || o.kind === "decided" || o.kind === "router_error" ? `${o.status} (${o.note.slice(0, 100)})` : o.kind === "stale" ? `stale: ${o.note.slice(0, 100)}` : o.kind}`;
    }
    case "error":
      return `#${e.id} error: ${e.message}`;
    case "waiting":
      return `#${e.id} is held by another worker${e.leaseUntil ? ` whose lease ends at ${e.leaseUntil}` : ""}; waiting for it`;
  }
}

export interface ServeOptions {
  parallelism: number;
  /** Stop once nothing is runnable, running, or due to retry: only a person could move things on. */
  untilIdle: boolean;
  signal: AbortSignal;
  /** How long to wait between reconciles when nothing finishes. */
  pollMs?: number;
  onEvent?: (event: ServeEvent) => void;
  /** Attempts whose worker died on this machine (found by the process registry before starting). */
  orphans?: readonly { taskId: number; key: string }[];
}

/**
 * The local scheduler: a loop of reconciles. Each records the results that finished since the last
 * one, does the tick work, routes new tasks and claims runnable ones up to `parallelism`, all in one
 * commit; the claimed attempts run in the background, each in its own worktree. An error of the
 * loop itself backs off (never a hot loop). On abort it claims nothing more, the running agents are
 * stopped, and it returns once their claims are given back.
 */
export async function serve(deps: ReconcileDeps, io: WorkerIo, opts: ServeOptions): Promise<RunOutcome[]> {
  const say = opts.onEvent ?? (() => undefined);
  const log = logOf(deps);
  let titles: Ledger | null = null;
  const exec = new LocalExecutor(deps, io, opts.signal, (e: ExecutorEvent) => relay(e), (id) => (titles ? findTask(titles, id)?.title : undefined) ?? `task ${id}`);
  const outcomes: RunOutcome[] = [];
  const relay = (e: ExecutorEvent): void => {
    if (e.kind === "start") say(e);
    else if (e.kind === "error") say(e);
    else if (e.kind === "reviewed") {
      outcomes.push(e.outcome);
      say({ kind: "end", id: e.id, outcome: e.outcome });
    }
  };
  let orphans = opts.orphans ?? [];
  let failures = 0;
  const waitingFor = new Set<number>();
  for (;;) {
    const stopping = opts.signal.aborted;
    const results = exec.drain();
    const free = stopping ? 0 : Math.max(0, opts.parallelism - exec.size);
    let r: ReconcileResult;
    try {
      r = await reconcile({ kind: "cli", command: { verb: "serve" } }, deps, { results, orphans, claim: { limit: free, busy: exec.busy() }, reviews: { limit: free, busy: exec.busy() }, executor: exec, worker: io });
      failures = 0;
      orphans = [];
    } catch (err) {
      exec.requeue(results);
      failures++;
      const message = err instanceof Error ? err.message : String(err);
      log.error("reconcile failed; backing off", { error: message, failures });
      say({ kind: "error", id: 0, message });
      if (stopping && exec.size === 0 && failures >= 3) break;
      // Stopping (the signal has fired): short pauses, so the released claims are written soon after the ledger heals.
      await exec.pause(stopping ? Math.min(5000, 1000 * failures) : Math.min(60_000, 1000 * 2 ** Math.min(failures, 6)), stopping ? undefined : opts.signal);
      continue;
    }
    titles = r.ledger;
    const routed = [...r.decisions.keys()].filter((id) => findTask(r.ledger, id)?.status !== "new");
    if (routed.length) say({ kind: "routed", ids: routed });
    for (const o of r.recorded) {
      outcomes.push(o);
      say({ kind: "end", id: o.taskId, outcome: o });
    }
    if (stopping) {
      if (exec.size === 0 && exec.pending === 0) break;
      await exec.wait(opts.pollMs ?? 2000);
      continue;
    }
    if (opts.untilIdle && exec.size === 0 && exec.pending === 0 && r.claims.length === 0 && r.reviews.length === 0) {
      const foreign = heldElsewhere(r.ledger);
      for (const t of foreign) {
        if (waitingFor.has(t.id)) continue;
        waitingFor.add(t.id);
        say({ kind: "waiting", id: t.id, ...(t.leaseUntil ? { leaseUntil: t.leaseUntil } : {}) });
      }
      if (foreign.length === 0 && isIdle(r.ledger, deps.clock.now().toISOString())) break;
    }
    await exec.wait(opts.pollMs ?? 2000, opts.signal);
  }
  await exec.settle();
  return outcomes;
}

/** Running tasks this process does not run: another worker holds them until its lease ends. */
function heldElsewhere(ledger: Ledger): { id: number; leaseUntil?: string }[] {
  return ledger.tasks.flatMap((t) => {
    const h = leaseHolder(t);
    return h ? [{ id: t.id, ...(h.leaseUntil ? { leaseUntil: h.leaseUntil } : {}) }] : [];
  });
}

/** Idle: nothing can move without a person. A task retrying later is not idle: it will run. */
function isIdle(ledger: Ledger, now: string): boolean {
  return runnableTasks(ledger, now).length === 0 && planTick(ledger, now).length === 0 && !ledger.tasks.some((t) => t.status === "new" || t.status === "retrying" || t.status === "in_review" || t.status === "running");
}
