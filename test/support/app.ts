// Helpers for app-layer tests: ReconcileDeps over a memory ledger, and the CLI verbs as reconciles.
import type { AppDeps, ReconcileDeps } from "../../src/app/app-deps.ts";
import { reconcile } from "../../src/app/reconcile.ts";
import type { TaskEvent } from "../../src/core/ledger/events.ts";
import { findTask, replaceTask } from "../../src/core/ledger/ledger.ts";
import type { Task } from "../../src/core/ledger/task.ts";
import { transition } from "../../src/core/ledger/transition.ts";
import type { Classifier } from "../../src/core/ports.ts";
import type { RouteDecision, RoutingSetup } from "../../src/core/routing/decide-route.ts";
import { mutateLedger } from "../../src/app/mutate-ledger.ts";
import { contextOf, mutateOptionsOf } from "../../src/app/app-deps.ts";

/** AppDeps plus routing, with keys `key-<task>-<attempt>` and a fixed random. */
export function withRouting(deps: AppDeps, routing: RoutingSetup, classifier: Classifier | null = null): ReconcileDeps {
  return { ...deps, routing, classifier, keyFor: (id, n) => `key-${id}-${n}`, random: () => 0.5 };
}

/** `agent-router add`: one reconcile that creates the task. */
export async function addTask(deps: ReconcileDeps, title: string, more: { body?: string; labels?: string[]; hint?: { agent?: string; profile?: string } } = {}): Promise<Task> {
  const r = await reconcile({ kind: "cli", command: { verb: "add", title, body: more.body ?? "", labels: more.labels ?? [], ...(more.hint ? { hint: more.hint } : {}) } }, deps);
  if (r.outcome.kind !== "created") throw new Error(`add did not create a task: ${JSON.stringify(r.outcome)}`);
  return r.outcome.task;
}

/** `agent-router route ID`: the decision, as recorded. */
export async function routeTask(deps: ReconcileDeps, id: number): Promise<RouteDecision> {
  const r = await reconcile({ kind: "cli", command: { verb: "route", taskId: id } }, deps);
  return r.decisions.get(id)!;
}

/** Applies one event to one task in its own write (test setup that no verb offers, e.g. a hand-made route). */
export async function applyEvent(deps: AppDeps, id: number, event: TaskEvent): Promise<void> {
  await mutateLedger(
    deps.store,
    ({ ledger }) => ({ ledger: replaceTask(ledger, transition(findTask(ledger, id)!, event, contextOf(deps)).task), result: null, summary: `task ${id}: ${event.type}` }),
    mutateOptionsOf(deps),
  );
}
