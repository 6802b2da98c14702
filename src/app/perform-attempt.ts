import type { RunRecord } from "../core/agents/run-record.ts";
import { readHandoff } from "../core/handoff/handoff.ts";
import { findTask } from "../core/ledger/ledger.ts";
import { heldAttempt } from "../core/ledger/lease.ts";
import type { AgentRun, AgentRunRequest } from "../core/ports.ts";
import type { AttemptResult } from "../core/reconcile/attempt-result.ts";
import type { AppDeps, WorkerIo } from "./app-deps.ts";
import { logOf, redactOf } from "./app-deps.ts";
import { planTaskBundle } from "./build-context.ts";
import { ClaimedRun } from "./lease-keeper.ts";

const REPAIR_MESSAGE = "Your run ended without a valid handoff. Write only the handoff JSON object now, as described in the bundle, to the file named by AGENT_ROUTER_OUTPUT (or as a final ```json block). Problem:";

export type PerformOutcome = AttemptResult | { kind: "not_mine"; taskId: number; key: string; why: string };

/**
 * Performs one claimed attempt and hands back its result (recorded by the next reconcile, fenced by
 * the key). It claims nothing: if the ledger's open attempt is not `key`, it does nothing. The
 * agent works in a worktree of its own, the lease is kept alive meanwhile, an invalid handoff gets
 * one repair round, and the work is committed to the task branch only while the attempt is still
 * current. `signal` (Ctrl-C, shutdown) stops the agent and gives the claim back.
 */
export async function performAttempt(deps: AppDeps, io: WorkerIo, work: { taskId: number; key: string }, signal?: AbortSignal): Promise<PerformOutcome> {
  const { taskId: id, key } = work;
  const log = logOf(deps).child({ taskId: id, key });
  const { ledger } = await deps.store.read();
  const task = findTask(ledger, id);
  const held = heldAttempt(task, key);
  if ("lost" in held) return { kind: "not_mine", taskId: id, key, why: held.why };
  const route = task!.route!;
  const profile = io.profiles.get(route.profile);
  if (!profile) return { kind: "router_error", taskId: id, key, message: `profile "${route.profile}" does not exist` };
  const timeoutMs = (deps.config.agents[held.agent]?.timeoutMinutes ?? profile.timeoutMinutes) * 60_000;

  // Stopped by the caller's signal or a lost claim (`lostWhy`): a lost claim's partial work never lands.
  const claimed = new ClaimedRun(deps, { taskId: id, key, leaseUntil: held.leaseUntil }, io, signal);
  let prepared = false;
  try {
    if (claimed.signal.aborted) return released(id, key, signal);
    const space = await io.workspaces.prepare(id, key);
    prepared = true;
    // The bundle shows earlier attempts only, not the one being performed.
    const current = findTask((await deps.store.read()).ledger, id) ?? task!;
    const { plan } = await planTaskBundle(deps.config, ledger, { ...current, attempts: current.attempts.filter((a) => a.key !== key) }, { profiles: io.profiles, repo: io.repoFor(id), boundary: io.newBoundary() });
    const request: AgentRunRequest = { taskId: id, key, agent: held.agent, ...(held.model ? { model: held.model } : {}), profile, bundle: plan.text, workdir: space.path, timeoutMs };
    log.info("agent starting", { agent: held.agent, model: held.model, workdir: space.path });
    let run: AgentRun = await io.runner.run(request, claimed.signal);
    let handoff = readHandoff(run.handoffText, run.record.finalText);
    if (run.record.ok && !handoff.ok && !claimed.signal.aborted) {
      const repair = await io.runner.run({ ...request, repair: { ...(run.record.sessionId ? { sessionId: run.record.sessionId } : {}), message: `${REPAIR_MESSAGE} ${handoff.problem}${cutNote(run.record)}` } }, claimed.signal);
      run = { ...repair, record: sumRuns(run.record, repair.record) };
      handoff = readHandoff(run.handoffText, run.record.finalText);
    }
    claimed.stopRenewing();
    if (signal?.aborted) return released(id, key, signal);
    // Work of an attempt that is no longer current (cancelled, taken over) never lands on the branch;
    // its result is still handed back and recorded as stale.
    if (claimed.lostWhy !== undefined) {
      // The lease lapsed (or was about to) without a renewal: whoever retries this task may already be
      // working from the branch, so the stopped agent's partial work is discarded and the claim given back.
      log.warn("the lease could not be kept; the stopped agent's work is discarded", { why: claimed.lostWhy });
      return { kind: "released", taskId: id, key, reason: `the agent was stopped: ${claimed.lostWhy}` };
    }
    const now = heldAttempt(findTask((await deps.store.read()).ledger, id), key);
    if ("lost" in now) {
      log.warn("attempt no longer current; its work is discarded", { why: now.why });
      return { kind: "ran", taskId: id, key, record: run.record, handoff };
    }
    const summary = handoff.ok ? handoff.handoff.summary : run.record.ok ? "no valid handoff" : (run.record.failure ?? "failed");
    const committed = await io.workspaces.commit(id, key, `agent-router: task ${id}, attempt by ${held.agent}\n\n${redactOf(deps)(summary.slice(0, 2000))}\n\nAgent-Router-Attempt: ${key}`);
    if (committed && "conflict" in committed) return { kind: "router_error", taskId: id, key, message: `the branch of task ${id} moved while this attempt ran; its work was not committed` };
    // A read-only worker hands its branch on (exportBranch) instead: its token cannot push.
    if (committed && io.workspaces.publish && !io.readOnly) {
      const pushed = await io.workspaces.publish(id);
      if ("conflict" in pushed) return { kind: "router_error", taskId: id, key, message: `the branch of task ${id} moved on the remote while this attempt ran; its work was not pushed` };
    }
    log.info("agent finished", { ok: run.record.ok, durationMs: run.record.durationMs, committed: committed?.commit ?? null });
    return { kind: "ran", taskId: id, key, record: run.record, handoff };
  } catch (err) {
    // The router failed after the claim (worktree, bundle, git): hand it back as a result so the task
    // does not sit claimed until its lease runs out.
    const message = err instanceof Error ? err.message : String(err);
    log.error("router error during the attempt", { error: message });
    return { kind: "router_error", taskId: id, key, message };
  } finally {
    claimed.end();
    if (prepared) await io.workspaces.remove(id, key).catch((err: unknown) => log.warn("could not remove the attempt's worktree", { error: String(err) }));
    await io.runFolders?.prune(id, deps.config.execution.keepRuns).catch((err: unknown) => log.warn("could not prune run folders", { error: String(err) }));
  }
}

function released(taskId: number, key: string, signal: AbortSignal | undefined): AttemptResult {
  const reason = signal?.aborted ? "the worker was stopped before the agent finished" : "the claim was lost before the agent started";
  return { kind: "released", taskId, key, reason };
}

/** Tells the agent its handoff file was too large to read whole, which is why it did not parse. */
function cutNote(record: RunRecord): string {
  const file = record.handoffFile;
  return file && file.readBytes < file.bytes ? ` (the handoff file is ${file.bytes} bytes and only the first ${file.readBytes} were read: keep it short and put detail in the repository)` : "";
}

/** A run and its repair round, as one attempt: tokens, cost, turns and time add up. */
function sumRuns(a: RunRecord, b: RunRecord): RunRecord {
  const add = (x: number | undefined, y: number | undefined): number | undefined => (x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0));
  const costUsd = add(a.costUsd, b.costUsd);
  const turns = add(a.turns, b.turns);
  const cacheReadTokens = add(a.cacheReadTokens, b.cacheReadTokens);
  return {
    ...b,
    // A repair round that wrote no file leaves the first file as the evidence.
    ...(b.handoffFile ?? a.handoffFile ? { handoffFile: b.handoffFile ?? a.handoffFile } : {}),
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    durationMs: a.durationMs + b.durationMs,
    ...(costUsd === undefined ? {} : { costUsd }),
    ...(turns === undefined ? {} : { turns }),
    ...(cacheReadTokens === undefined ? {} : { cacheReadTokens }),
  };
}
