import type { MainConfig } from "../config/main-config.ts";
import type { Task } from "../ledger/task.ts";
import { isAgentEnabled } from "../routing/decide-route.ts";
import { FAILOVER_CLASSES, type FailureClass } from "./classify-failure.ts";

/** Attempts that count in the current budget (since the last retry or answer), claims given back left out. */
function chainAttempts(task: Task): Task["attempts"] {
  return task.attempts.filter((a) => a.n >= task.budgetFrom && a.outcome !== "released");
}

const isFailover = (errorClass: string | undefined): boolean => FAILOVER_CLASSES.includes(errorClass as FailureClass);

/** Agents in failover order from `start`: breadth-first along `agents.<name>.failover`, each once. */
export function failoverOrder(config: MainConfig, start: string): string[] {
  const order = [start];
  for (let i = 0; i < order.length; i++) {
    for (const next of config.agents[order[i]!]?.failover ?? []) if (!order.includes(next)) order.push(next);
  }
  return order;
}

export type AgentChoice = { agent: string; model?: string; chain: string[] } | { exhausted: true; chain: string[] };

/**
 * The agent for a task's next attempt. It stays with the agent of the last attempt unless that
 * attempt failed with a rate, usage, auth or outage failure; then it moves to the next enabled agent
 * in failover order that has not already failed that way in this budget, never back (no ping-pong).
 * When none is left the chain is exhausted and a person must act. `chain` lists the agents tried.
 */
export function chooseAgent(task: Task, config: MainConfig): AgentChoice {
  const route = task.route;
  if (!route) throw new Error(`task ${task.id} has no route`);
  const attempts = chainAttempts(task);
  const chain = [...new Set(attempts.map((a) => a.agent))];
  const last = attempts.at(-1);
  const current = last?.agent ?? route.agent;
  let agent = current;
  if (last && isFailover(last.errorClass)) {
    const burned = new Set(attempts.filter((a) => isFailover(a.errorClass)).map((a) => a.agent));
    const next = failoverOrder(config, route.agent).find((a) => !burned.has(a) && isAgentEnabled(config, a));
    if (next === undefined) return { exhausted: true, chain };
    agent = next;
  }
  const model = (agent === route.agent ? route.model : undefined) ?? config.agents[agent]?.models?.[route.complexity];
  return { agent, ...(model ? { model } : {}), chain };
}

// Re-exported for its existing callers (settle-run, reconcile/attempt-result); the formula lives once.
