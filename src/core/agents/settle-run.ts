import type { MainConfig } from "../config/main-config.ts";
import type { Profile } from "../config/profile.ts";
import type { PlannedChild } from "../delegation/check-delegations.ts";
import { checkDelegations } from "../delegation/check-delegations.ts";
import type { HandoffResult } from "../handoff/handoff.ts";
import type { TaskEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Task, Usage } from "../ledger/task.ts";
import { failuresInBudget } from "../ledger/transition.ts";
import { retryDelayMs } from "../scheduling/retry-delay.ts";
import { chooseAgent } from "./choose-agent.ts";
import { failsOver, type FailureClass } from "./classify-failure.ts";
import type { RunRecord } from "./run-record.ts";

export interface SettleInput {
  ledger: Ledger;
  /** The task as it is now: running, with the attempt `key` open. */
  task: Task;
  key: string;
  record: RunRecord;
  handoff: HandoffResult;
  config: MainConfig;
  profiles: ReadonlyMap<string, Profile>;
  now: Date;
  random: () => number;
}

/** The event that records a run, and the children to create first when it delegates. */
export interface Settlement {
  event: Extract<TaskEvent, { type: "finish" | "fail" }>;
  children: PlannedChild[];
}

function usageOf(r: RunRecord): Usage {
  return { inputTokens: r.inputTokens, outputTokens: r.outputTokens, ...(r.costUsd === undefined ? {} : { costUsd: r.costUsd }), ...(r.turns === undefined ? {} : { turns: r.turns }) };
}

/** The text a person needs to see why a handoff was refused: the handoff file when one was written, else the end of the final message. */
function rawOutputOf(record: RunRecord): string {
  const file = record.handoffFile;
  if (file && file.raw.trim() !== "") {
    const cut = file.readBytes < file.bytes ? `, first ${file.readBytes} read` : "";
    return `handoff file (${file.bytes} bytes${cut}): ${JSON.stringify(file.raw.slice(0, 1000))}`;
  }
  return `output: ${JSON.stringify(record.finalText.slice(-1000))}`;
}

const firstLine = (text: string): string => (text.split("\n").find((l) => l.trim() !== "") ?? "").trim().slice(0, 500);

/**
 * Decides how one finished run is recorded, from the router's run record and the agent's handoff:
 * - a failed run: rate/usage/auth/outage fail over at once to the next agent (never back), or ask a
 *   person when the chain is spent; a missing tool asks a person; anything else retries after a
 *   full-jitter backoff, within the attempt budget;
 * - a run without a valid handoff (after the repair round) fails as invalid_output, raw text kept;
 * - a handoff: done / needs_help / failed / delegate (checked first; a violation fails the attempt).
 */
export function settleRun(s: SettleInput): Settlement {
  const { task, key, record, config } = s;
  const usage = usageOf(record);
  const failed = failuresInBudget(task) + 1; // this attempt is still open, so not yet counted
  const later = (): string => new Date(s.now.getTime() + retryDelayMs(failed, s.random, config.execution.retryBaseSeconds * 1000, config.execution.retryCapSeconds * 1000)).toISOString();
  const fail = (errorClass: string, error: string, opts: { retryable?: boolean; needsHelp?: boolean; retryAt?: string } = {}): Settlement => ({
    event: { type: "fail", key, errorClass, error, retryable: opts.retryable ?? true, ...(opts.needsHelp ? { needsHelp: true } : {}), ...(opts.retryable === false || opts.needsHelp ? {} : { retryAt: opts.retryAt ?? later() }), usage },
    children: [],
  });

  if (!record.ok) {
    const cls: FailureClass = record.failure ?? "agent_error";
    const error = firstLine(record.errorText) || (record.timedOut ? "the agent ran out of time" : `the agent exited with ${record.exitCode ?? "a signal"}`);
    if (cls === "tooling_missing") return fail(cls, `${error} (install it, or route the task to another agent)`, { retryable: false, needsHelp: true });
    if (failsOver(cls)) {
      const attempts = task.attempts.map((a) => (a.key === key ? { ...a, outcome: "failure" as const, errorClass: cls, error } : a));
      const next = chooseAgent({ ...task, attempts }, config);
      if ("exhausted" in next) return fail(cls, `${error}; failover chain spent: ${next.chain.join(" → ")}`, { retryable: false, needsHelp: true });
      return fail(cls, `${error}; next: ${next.agent}`, { retryAt: s.now.toISOString() });
    }
    return fail(cls, error);
  }

  // After the repair round an agent that still cannot hand off is unlikely to on a third try: ask a person.
  if (!s.handoff.ok) return fail("invalid_output", `${s.handoff.problem}; ${rawOutputOf(record)}`, { needsHelp: true });
  const h = s.handoff.handoff;
  const base = { key, summary: h.summary, usage, ...(record.sessionId ? { sessionId: record.sessionId } : {}) };
  switch (h.status) {
    case "done": {
      // A profile that requires review sends the work to a reviewer before it counts as done.
      const review = s.profiles.get(task.route?.profile ?? "")?.review.required === true;
      return { event: { type: "finish", outcome: review ? "review" : "done", ...base }, children: [] };
    }
    case "needs_help":
      return { event: { type: "finish", outcome: "needs_help", ...base, ...(h.question ? { question: h.question } : {}) }, children: [] };
    case "failed": {
      const settled = fail("agent_error", `the agent gave up: ${h.summary.slice(0, 400)}`, { retryable: false });
      return { ...settled, event: { ...settled.event, summary: h.summary } };
    }
    case "delegate": {
      const parentProfile = s.profiles.get(task.route?.profile ?? "");
      if (!parentProfile) return fail("delegation_rejected", `unknown profile ${task.route?.profile ?? "(none)"}`, { retryable: false, needsHelp: true });
      const check = checkDelegations({ ledger: s.ledger, parent: task, parentProfile, delegations: h.delegations, config, profiles: s.profiles });
      // A refusal by the ACL asks a person at once: another attempt would be refused the same way.
      if (!check.ok && check.refused) return fail("delegation_rejected", `${check.reason}; change delegation.acl or the task's profile, then retry it`, { retryable: false, needsHelp: true });
      if (!check.ok) return fail("delegation_rejected", check.reason);
      // The children's ids are filled in by the caller, which creates them in the same ledger write.
      return { event: { type: "finish", outcome: "delegate", ...base, children: [] }, children: check.children };
    }
  }
}
