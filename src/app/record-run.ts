import type { Profile } from "../core/config/profile.ts";
import { settleRun } from "../core/agents/settle-run.ts";
import type { HandoffResult } from "../core/handoff/handoff.ts";
import { addTask } from "../core/ledger/create-task.ts";
import { findTask, replaceTask } from "../core/ledger/ledger.ts";
import { transition } from "../core/ledger/transition.ts";
import type { AgentRun } from "../core/ports.ts";
import type { AppDeps } from "./app-deps.ts";
import { contextOf, mutateOptionsOf } from "./app-deps.ts";
import { mutateLedger } from "./mutate-ledger.ts";
import type { RunOutcome } from "./run-task.ts";

/**
 * Records a finished run in one ledger write, fenced by the attempt key: if the task is no longer
 * running this attempt (cancelled, lease expired and retried elsewhere), the result is recorded as
 * stale and changes nothing. A delegation creates its children in the same write.
 */
export async function recordRun(deps: AppDeps, r: { id: number; key: string; run: AgentRun; handoff: HandoffResult; profiles: ReadonlyMap<string, Profile>; random: () => number }): Promise<RunOutcome> {
  const ctx = contextOf(deps);
  const { result } = await mutateLedger<RunOutcome>(
    deps.store,
    ({ ledger }) => {
      const task = findTask(ledger, r.id);
      const open = task?.attempts.at(-1);
      if (!task || task.status !== "running" || open?.key !== r.key || open.endedAt !== undefined) {
        const note = `result of attempt ${r.key} arrived after the task moved on (${task?.status ?? "missing"}); not applied`;
        if (!task) return { ledger, result: { taskId: r.id, kind: "stale" as const, note }, summary: note };
        const next = transition(task, { type: "stale_result", key: r.key, note }, ctx).task;
        return { ledger: replaceTask(ledger, next), result: { taskId: r.id, kind: "stale" as const, note }, summary: `task ${r.id}: stale result` };
      }
      const settled = settleRun({ ledger, task, key: r.key, record: r.run.record, handoff: r.handoff, config: deps.config, profiles: r.profiles, now: deps.clock.now(), random: r.random });
      let current = ledger;
      const childIds: number[] = [];
      for (const c of settled.children) {
        const added = addTask(current, { source: { kind: "parent", parentId: task.id, key: c.key }, title: c.title, body: c.body, labels: [], maxAttempts: deps.config.execution.maxAttempts, parentId: task.id, after: c.after, hint: { profile: c.profile, ...(c.agent ? { agent: c.agent } : {}) } }, ctx);
        current = added.ledger;
        childIds.push(added.task.id);
      }
      const event = settled.event.type === "finish" && settled.event.outcome === "delegate" ? { ...settled.event, children: childIds } : settled.event;
      const next = transition(findTask(current, task.id)!, event, ctx).task;
      const note = event.type === "fail" ? `${event.errorClass}: ${event.error}` : `${event.outcome}${childIds.length ? ` → children ${childIds.join(", ")}` : ""}`;
      return {
        ledger: replaceTask(current, next),
        result: { taskId: r.id, kind: "recorded" as const, status: next.status, attempt: next.attempts.length, record: r.run.record, note },
        summary: `task ${r.id}: ${note.slice(0, 120)}`,
      };
    },
    mutateOptionsOf(deps),
  );
  return result;
}
