import { transition } from "../core/ledger/transition.ts";
import type { Classifier } from "../core/ports.ts";
import type { RoutingSetup } from "../core/routing/decide-route.ts";
import { findTask, replaceTask } from "../core/ledger/ledger.ts";
import { planTick, runnableTasks } from "../core/scheduling/plan-tick.ts";
import type { AppDeps } from "./app-deps.ts";
import { contextOf, mutateOptionsOf } from "./app-deps.ts";
import { mutateLedger } from "./mutate-ledger.ts";
import { routeTaskCommand } from "./route-task.ts";
import type { RunOutcome, WorkerIo } from "./run-task.ts";
import { reviewTask } from "./review-task.ts";
import { runTask } from "./run-task.ts";

/** Applies one tick's housekeeping (expired leases, blocked children, parents resuming) in one write. */
export async function tick(deps: AppDeps): Promise<number> {
  const { result } = await mutateLedger(
    deps.store,
    ({ ledger }) => {
      const events = planTick(ledger, deps.clock.now().toISOString());
      if (events.length === 0) return { ledger, result: 0, summary: "" }; // nothing to write
      let next = ledger;
      for (const { taskId, event } of events) next = replaceTask(next, transition(findTask(next, taskId)!, event, contextOf(deps)).task);
      return { ledger: next, result: events.length, summary: `tick: ${events.map((e) => `${e.event.type} #${e.taskId}`).join(", ")}` };
    },
    mutateOptionsOf(deps),
  );
  return result;
}

/** Routes every new task (children arrive new, with their parent's hint). */
export async function routeNew(deps: AppDeps, setup: RoutingSetup, classifier: Classifier | null): Promise<number[]> {
  const { ledger } = await deps.store.read();
  const ids = ledger.tasks.filter((t) => t.status === "new").map((t) => t.id);
  for (const id of ids) await routeTaskCommand(deps, id, setup, classifier);
  return ids;
}

/** What the loop reports, for a progress display or plain log lines. */
export type ServeEvent =
  | { kind: "routed"; ids: number[] }
  | { kind: "start"; id: number; title: string }
  | { kind: "end"; id: number; outcome: RunOutcome }
  | { kind: "error"; id: number; message: string };

/** One line per event, for logs and non-terminal output. */
export function describeServeEvent(e: ServeEvent): string {
  switch (e.kind) {
    case "routed":
      return `routed ${e.ids.map((id) => `#${id}`).join(", ")}`;
    case "start":
      return `#${e.id} starting: ${e.title}`;
    case "end": {
      const o = e.outcome;
      return `#${e.id} ${o.kind === "recorded" || o.kind === "decided" ? `${o.status} (${o.note.slice(0, 100)})` : o.kind === "not_runnable" ? `skipped: ${o.why}` : o.kind}`;
    }
    case "error":
      return `#${e.id} error: ${e.message}`;
  }
}

export interface ServeOptions {
  parallelism: number;
  /** Stop once nothing is runnable, running, or due to retry: only a person could move things on. */
  untilIdle: boolean;
  signal: AbortSignal;
  /** How long to wait between ticks when nothing finishes. */
  pollMs?: number;
  onEvent?: (event: ServeEvent) => void;
  routing: RoutingSetup;
  classifier: Classifier | null;
}

/**
 * The local scheduler: each round it ticks, routes new tasks, and starts runnable tasks (lowest id
 * first) up to `parallelism`, each in its own worktree. On abort it stops starting work, and the
 * running attempts give their claims back; it returns once they have.
 */
export async function serve(deps: AppDeps, io: WorkerIo, opts: ServeOptions): Promise<RunOutcome[]> {
  const running = new Map<number, Promise<RunOutcome>>();
  const outcomes: RunOutcome[] = [];
  const say = opts.onEvent ?? (() => undefined);
  while (!opts.signal.aborted) {
    await tick(deps);
    const routed = await routeNew(deps, opts.routing, opts.classifier);
    if (routed.length) say({ kind: "routed", ids: routed });
    const { ledger } = await deps.store.read();
    const reviews = ledger.tasks.filter((t) => t.status === "in_review");
    for (const t of [...runnableTasks(ledger, deps.clock.now().toISOString()), ...reviews]) {
      if (running.size >= opts.parallelism || opts.signal.aborted) break;
      if (running.has(t.id)) continue;
      say({ kind: "start", id: t.id, title: t.status === "in_review" ? `review: ${t.title}` : t.title });
      const work = t.status === "in_review" ? reviewTask(deps, t.id, io, { signal: opts.signal }) : runTask(deps, t.id, io, { signal: opts.signal });
      const p = work.then(
        (o) => {
          outcomes.push(o);
          say({ kind: "end", id: t.id, outcome: o });
          return o;
        },
        (err: unknown) => {
          say({ kind: "error", id: t.id, message: err instanceof Error ? err.message : String(err) });
          throw err;
        },
      );
      running.set(t.id, p.finally(() => running.delete(t.id)));
    }
    if (running.size === 0) {
      const again = (await deps.store.read()).ledger;
      const now = deps.clock.now().toISOString();
      // Idle: nothing can move without a person. A task retrying later is not idle: it will run.
      const idle = runnableTasks(again, now).length === 0 && planTick(again, now).length === 0 && !again.tasks.some((t) => t.status === "new" || t.status === "retrying" || t.status === "in_review");
      if (opts.untilIdle && idle) break;
    }
    await Promise.race([...running.values(), sleep(opts.pollMs ?? 2000, opts.signal)].map((p) => p.catch(() => undefined)));
  }
  await Promise.allSettled(running.values());
  return outcomes;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
