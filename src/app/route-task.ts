import { RouterError } from "../core/errors.ts";
import { findTask, replaceTask } from "../core/ledger/ledger.ts";
import type { Route } from "../core/ledger/task.ts";
import { transition } from "../core/ledger/transition.ts";
import type { Classifier } from "../core/ports.ts";
import type { RouteDecision, RoutingSetup } from "../core/routing/decide-route.ts";
import { decideRoute, mentionedPaths } from "../core/routing/decide-route.ts";
import type { AppDeps } from "./app-deps.ts";
import { contextOf, mutateOptionsOf } from "./app-deps.ts";
import { mutateLedger } from "./mutate-ledger.ts";

export interface RouteResult extends RouteDecision {
  taskId: number;
  previous?: Route;
}

/**
 * Decides a task's route and records it (one `route` transition). The classifier is asked only when
 * no rule or override decides; without one, rules and the fallback decide. Its usage and cost are
 * recorded on the route, whatever it answered.
 */
export async function routeTaskCommand(deps: AppDeps, id: number, setup: RoutingSetup, classifier?: Classifier | null): Promise<RouteResult> {
  const { ledger } = await deps.store.read();
  const found = findTask(ledger, id);
  if (!found) throw new RouterError("E_TASK_NOT_FOUND", `no task ${id} in ${deps.store.location}`, { id });
  const routable = { title: found.title, body: found.body, labels: found.labels, paths: mentionedPaths(`${found.title}\n${found.body}`) };
  const from: "job" | "parent" | "cli" = found.source.kind === "job" || found.source.kind === "parent" ? found.source.kind : "cli";
  const hint = found.hint ? { ...found.hint, from } : undefined;
  let decision = decideRoute(routable, setup, hint);
  if (decision.wantsVerdict && classifier) {
    const { outcome, call } = await classifier.classify(routable, setup);
    const withVerdict = decideRoute(routable, setup, hint, outcome);
    decision = { ...withVerdict, route: { ...withVerdict.route, classifier: call } };
  }
  const ctx = contextOf(deps);
  const { result } = await mutateLedger(
    deps.store,
    ({ ledger: current }) => {
      const task = findTask(current, id);
      if (!task) throw new RouterError("E_TASK_NOT_FOUND", `no task ${id} in ${deps.store.location}`, { id });
      const next = transition(task, { type: "route", route: decision.route }, ctx).task;
      const previous = task.route;
      return {
        ledger: replaceTask(current, next),
        result: previous ? { previous } : {},
        summary: `task ${id} routed to ${decision.route.agent}/${decision.route.profile} (${decision.route.decidedBy})`,
      };
    },
    mutateOptionsOf(deps),
  );
  return { taskId: id, ...decision, ...result };
}
