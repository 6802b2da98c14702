import type { MainConfig } from "../config/main-config.ts";
import type { Profile } from "../config/profile.ts";
import type { HandoffResult } from "../handoff/handoff.ts";
import type { TaskEvent } from "../ledger/events.ts";
import type { Task } from "../ledger/task.ts";
import { isAgentEnabled } from "../routing/decide-route.ts";
import { enabledAgents } from "../routing/verdict.ts";
import type { RunRecord } from "./run-record.ts";

/** A reviewer other than the agent that did the work: the review profile's preferred agents first. */
export function chooseReviewer(task: Task, config: MainConfig, reviewProfile: Profile | undefined): string | null {
  const author = task.attempts.at(-1)?.agent ?? task.route?.agent;
  const candidates = [...(reviewProfile?.preferredAgents ?? []).filter((a) => isAgentEnabled(config, a)), ...enabledAgents(config)];
  return candidates.find((a) => a !== author) ?? null;
}

/** Change requests since the task's budget was last reset (a retry or an answer). */
export function reviewRounds(task: Task): number {
  const since = task.history.findLastIndex((h) => h.type === "retry" || h.type === "answer");
  return task.history.slice(since + 1).filter((h) => h.type === "review" && (h.data as { decision?: string } | undefined)?.decision === "request_changes").length;
}

/**
 * The review event for a reviewer's run. Only a valid handoff with status `done` carrying
 * `review.decision: approve` approves; an empty, failed or invalid review asks a person, and so does a change request once
 * the profile's rounds are spent. Otherwise the author goes back to work with the notes.
 */
export function settleReview(task: Task, reviewer: string, record: RunRecord, handoff: HandoffResult, authorProfile: Profile | undefined): Extract<TaskEvent, { type: "review" }> {
  const usage = { inputTokens: record.inputTokens, outputTokens: record.outputTokens, ...(record.costUsd === undefined ? {} : { costUsd: record.costUsd }) };
  const base = { reviewer, usage };
  if (!record.ok) return { type: "review", decision: "request_changes", needsHelp: true, notes: `the review by ${reviewer} failed (${record.failure ?? "error"}): ${record.errorText.split("\n")[0]?.slice(0, 300) ?? ""}`, ...base };
  if (!handoff.ok || !handoff.handoff.review) {
    return { type: "review", decision: "request_changes", needsHelp: true, notes: `the review by ${reviewer} gave no valid decision: ${handoff.ok ? "the handoff has no review field" : handoff.problem}`, ...base };
  }
  // A reviewer that gave up (failed, needs_help, delegate) never approves, whatever its decision field says.
  if (handoff.handoff.status !== "done") {
    return { type: "review", decision: "request_changes", needsHelp: true, notes: `the review by ${reviewer} ended ${handoff.handoff.status}, not done, so it is no approval: ${handoff.handoff.summary.slice(0, 300)}`, ...base };
  }
  const { decision, notes } = handoff.handoff.review;
  if (decision === "approve") return { type: "review", decision, notes: notes || handoff.handoff.summary, ...base };
  const spent = reviewRounds(task) + 1 > (authorProfile?.review.maxRounds ?? 2);
  return { type: "review", decision, notes: notes || handoff.handoff.summary, ...(spent ? { needsHelp: true } : {}), ...base };
}
