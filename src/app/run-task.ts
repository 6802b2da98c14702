import type { Profile } from "../core/config/profile.ts";
import { chooseAgent } from "../core/agents/choose-agent.ts";
import type { RunRecord } from "../core/agents/run-record.ts";
import { RouterError } from "../core/errors.ts";
import { readHandoff } from "../core/handoff/handoff.ts";
import { findTask, replaceTask } from "../core/ledger/ledger.ts";
import type { TaskStatus } from "../core/ledger/task.ts";
import { transition } from "../core/ledger/transition.ts";
import type { AgentRun, AgentRunner, AgentRunPlan, AgentRunRequest, RepoFiles, Workspaces } from "../core/ports.ts";
import { isRunnable } from "../core/scheduling/plan-tick.ts";
import type { AppDeps } from "./app-deps.ts";
import { contextOf, mutateOptionsOf } from "./app-deps.ts";
import { planTaskBundle } from "./build-context.ts";
import { mutateLedger } from "./mutate-ledger.ts";
import { recordRun } from "./record-run.ts";

export interface WorkerIo {
  runner: AgentRunner;
  workspaces: Workspaces;
  /** Files of a working tree, for the bundle. */
  repoAt: (path: string) => RepoFiles;
  /** The repository's own working tree (for dry runs, which create no worktree). */
  root: string;
  profiles: ReadonlyMap<string, Profile>;
  /** A fresh attempt key (idempotency key and fence). */
  newKey: () => string;
  /** A fresh untrusted-block boundary. */
  newBoundary: () => string;
  random: () => number;
}

export type RunOutcome =
  | { taskId: number; kind: "not_runnable"; why: string }
  | { taskId: number; kind: "awaiting_approval" }
  | { taskId: number; kind: "dry_run"; agent: string; model?: string; plan: AgentRunPlan }
  | { taskId: number; kind: "recorded"; status: TaskStatus; attempt: number; record: RunRecord; note: string }
  | { taskId: number; kind: "stale"; note: string }
  /** Decided without running an agent (a review with no second agent to do it). */
  | { taskId: number; kind: "decided"; status: TaskStatus; note: string }
  | { taskId: number; kind: "released" };

const REPAIR_MESSAGE = "Your run ended without a valid handoff. Write only the handoff JSON object now, as described in the bundle, to the file named by AGENT_ROUTER_OUTPUT (or as a final ```json block). Problem:";

/**
 * One attempt of one task: check it is runnable and approved, claim it (a compare-and-swap ledger
 * write with a lease and a fresh key), keep the lease alive while the agent works in the task's
 * worktree, give an invalid handoff one repair round, commit the agent's changes to the task branch,
 * and record the result fenced by the key. Ctrl-C (the signal) gives the claim back.
 */
export async function runTask(deps: AppDeps, id: number, io: WorkerIo, opts: { dryRun?: boolean; signal?: AbortSignal } = {}): Promise<RunOutcome> {
  const { ledger } = await deps.store.read();
  const task = findTask(ledger, id);
  if (!task) throw new RouterError("E_TASK_NOT_FOUND", `no task ${id} in ${deps.store.location}`, { id });
  const now = deps.clock.now();
  if (!isRunnable(ledger, task, now.toISOString())) {
    const why = task.status === "retrying" && task.retryAt ? `retrying at ${task.retryAt}` : task.status === "routed" ? "waiting for the tasks it comes after" : `status ${task.status}`;
    return { taskId: id, kind: "not_runnable", why };
  }
  const route = task.route!;
  const profile = io.profiles.get(route.profile);
  if (!profile) throw new RouterError("E_CONFIG_INVALID", `task ${id} is routed to profile "${route.profile}", which does not exist`, { profile: route.profile });
  if (profile.approval === "before_run" && task.approvals.length === 0) {
    if (opts.dryRun) return { taskId: id, kind: "awaiting_approval" };
    await applyEvent(deps, id, { type: "require_approval", reason: `profile ${profile.name} needs approval before it runs` });
    return { taskId: id, kind: "awaiting_approval" };
  }
  const choice = chooseAgent(task, deps.config);
  const agent = "exhausted" in choice ? route.agent : choice.agent;
  const model = "exhausted" in choice ? route.model : choice.model;
  const timeoutMs = (deps.config.agents[agent]?.timeoutMinutes ?? profile.timeoutMinutes) * 60_000;
  const key = io.newKey();

  if (opts.dryRun) {
    const { plan } = await planTaskBundle(deps.config, ledger, task, { profiles: io.profiles, repo: io.repoAt(io.root), boundary: io.newBoundary() });
    const request: AgentRunRequest = { taskId: id, key, agent, ...(model ? { model } : {}), profile, bundle: plan.text, workdir: `(worktree of task ${id})`, timeoutMs };
    return { taskId: id, kind: "dry_run", agent, ...(model ? { model } : {}), plan: io.runner.plan(request) };
  }

  if (opts.signal?.aborted) return { taskId: id, kind: "not_runnable", why: "stopping" };
  const leaseMs = deps.config.execution.leaseMinutes * 60_000;
  const claimed = await mutateLedger(
    deps.store,
    ({ ledger: current }) => {
      const t = findTask(current, id);
      if (!t || !isRunnable(current, t, deps.clock.now().toISOString())) return { ledger: current, result: false, summary: "" };
      const leaseUntil = new Date(deps.clock.now().getTime() + leaseMs).toISOString();
      const next = transition(t, { type: "start", key, agent, ...(model ? { model } : {}), leaseUntil }, contextOf(deps)).task;
      return { ledger: replaceTask(current, next), result: true, summary: `task ${id} attempt started on ${agent}` };
    },
    mutateOptionsOf(deps),
  );
  if (!claimed.result) return { taskId: id, kind: "not_runnable", why: "another worker claimed it first" };

  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort();
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (opts.signal?.aborted) controller.abort(); // aborted between the check and the claim
  const heartbeat = setInterval(() => {
    const leaseUntil = new Date(deps.clock.now().getTime() + leaseMs).toISOString();
    applyEvent(deps, id, { type: "heartbeat", key, leaseUntil }).catch(() => controller.abort()); // cancelled or taken over: stop the agent
  }, Math.max(1000, leaseMs / 3));
  heartbeat.unref();
  try {
    const space = await io.workspaces.prepare(id);
    const latest = (await deps.store.read()).ledger;
    // The bundle shows earlier attempts only, not the one just claimed.
    const current = findTask(latest, id) ?? task;
    const { plan } = await planTaskBundle(deps.config, latest, { ...current, attempts: current.attempts.filter((a) => a.key !== key) }, { profiles: io.profiles, repo: io.repoAt(space.path), boundary: io.newBoundary() });
    const request: AgentRunRequest = { taskId: id, key, agent, ...(model ? { model } : {}), profile, bundle: plan.text, workdir: space.path, timeoutMs };
    let run: AgentRun = await io.runner.run(request, controller.signal);
    let handoff = readHandoff(run.handoffText, run.record.finalText);
    if (run.record.ok && !handoff.ok && !controller.signal.aborted) {
      const repair = await io.runner.run({ ...request, repair: { ...(run.record.sessionId ? { sessionId: run.record.sessionId } : {}), message: `${REPAIR_MESSAGE} ${handoff.problem}` } }, controller.signal);
      run = { ...repair, record: sumRuns(run.record, repair.record) };
      handoff = readHandoff(run.handoffText, run.record.finalText);
    }
    if (opts.signal?.aborted) {
      await applyEvent(deps, id, { type: "release", key, reason: "the worker was stopped before the agent finished" }).catch(() => undefined);
      return { taskId: id, kind: "released" };
    }
    const summary = handoff.ok ? handoff.handoff.summary : run.record.ok ? "no valid handoff" : (run.record.failure ?? "failed");
    // Work of an attempt that is no longer current (cancelled, taken over) never lands on the branch.
    const now = findTask((await deps.store.read()).ledger, id);
    if (now?.status !== "running" || now.attempts.at(-1)?.key !== key) {
      await io.workspaces.discard(id);
      return await recordRun(deps, { id, key, run, handoff, profiles: io.profiles, random: io.random });
    }
    await io.workspaces.commit(id, `agent-router: task ${id}, attempt by ${agent}\n\n${summary.slice(0, 2000)}\n\nAgent-Router-Attempt: ${key}`);
    return await recordRun(deps, { id, key, run, handoff, profiles: io.profiles, random: io.random });
  } catch (err) {
    // The router itself failed after the claim (worktree, bundle, git): record it so the task does
    // not sit claimed until its lease runs out. The fence still applies.
    const message = err instanceof Error ? err.message : String(err);
    const retryAt = new Date(deps.clock.now().getTime() + deps.config.execution.retryBaseSeconds * 1000).toISOString();
    await applyEvent(deps, id, { type: "fail", key, errorClass: "agent_error", error: `router error: ${message.split("\n")[0]?.slice(0, 400)}`, retryable: true, retryAt }).catch(() => undefined);
    throw err;
  } finally {
    clearInterval(heartbeat);
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/** A run and its repair round, as one attempt: tokens, cost, turns and time add up. */
function sumRuns(a: RunRecord, b: RunRecord): RunRecord {
  const add = (x: number | undefined, y: number | undefined): number | undefined => (x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0));
  const costUsd = add(a.costUsd, b.costUsd);
  const turns = add(a.turns, b.turns);
  const cacheReadTokens = add(a.cacheReadTokens, b.cacheReadTokens);
  return {
    ...b,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    durationMs: a.durationMs + b.durationMs,
    ...(costUsd === undefined ? {} : { costUsd }),
    ...(turns === undefined ? {} : { turns }),
    ...(cacheReadTokens === undefined ? {} : { cacheReadTokens }),
  };
}

/** Applies one event to one task in its own ledger write; throws IllegalTransition when refused. */
export async function applyEvent(deps: AppDeps, id: number, event: Parameters<typeof transition>[1]): Promise<void> {
  await mutateLedger(
    deps.store,
    ({ ledger }) => {
      const t = findTask(ledger, id);
      if (!t) throw new RouterError("E_TASK_NOT_FOUND", `no task ${id} in ${deps.store.location}`, { id });
      const next = transition(t, event, contextOf(deps)).task;
      return { ledger: replaceTask(ledger, next), result: null, summary: `task ${id}: ${event.type}` };
    },
    mutateOptionsOf(deps),
  );
}
