import { describe, expect, it } from "vitest";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import { emptyLedger } from "../../../src/core/ledger/ledger.ts";
import { replayHistory } from "../../../src/core/ledger/replay-history.ts";
import type { Route, Task } from "../../../src/core/ledger/task.ts";
import { IllegalTransition, transition } from "../../../src/core/ledger/transition.ts";
import { ctxAt } from "../../support/ctx.ts";

const route: Route = { agent: "claude", profile: "bugfix", complexity: "low", reason: "label bug", decidedBy: "rule" };

function newTask(maxAttempts = 3): Task {
  return addTask(emptyLedger(), { source: { kind: "cli" }, title: "Fix the login bug", maxAttempts }, ctxAt(0)).task;
}

function routedAndStarted(task: Task, key: string, minute: number): Task {
  const routed = task.status === "routed" || task.status === "retrying" ? task : transition(task, { type: "route", route }, ctxAt(minute)).task;
  return transition(routed, { type: "start", key, agent: "claude", leaseUntil: ctxAt(minute + 30).now }, ctxAt(minute)).task;
}

describe("transition", () => {
  it("walks the happy path new → routed → running → done with one history entry per step", () => {
    const created = newTask();
    const running = routedAndStarted(created, "k1", 1);
    const { task: done, effects } = transition(running, { type: "finish", key: "k1", outcome: "done", summary: "fixed" }, ctxAt(5));
    expect(done.status).toBe("done");
    expect(done.history.map((h) => [h.type, h.from, h.to])).toEqual([
      ["created", undefined, "new"],
      ["route", "new", "routed"],
      ["start", "routed", "running"],
      ["finish", "running", "done"],
    ]);
    expect(done.attempts).toEqual([
      { n: 1, key: "k1", agent: "claude", startedAt: ctxAt(1).now, endedAt: ctxAt(5).now, outcome: "success" },
    ]);
    expect(effects).toEqual([{ kind: "sync_task", class: "github", taskId: 1 }]);
    expect(done.history.every((h) => h.traceId.length > 0)).toBe(true);
  });

  it("start emits a run_attempt effect with the attempt's key", () => {
    const routed = transition(newTask(), { type: "route", route }, ctxAt(1)).task;
    const { effects } = transition(routed, { type: "start", key: "k1", agent: "claude", leaseUntil: ctxAt(31).now }, ctxAt(1));
    expect(effects).toContainEqual({ kind: "run_attempt", class: "agent", taskId: 1, attempt: 1, key: "k1" });
  });

  it("refuses events a status does not accept and leaves the task unchanged", () => {
    const task = newTask();
    const before = structuredClone(task);
    expect(() => transition(task, { type: "start", key: "k", agent: "claude", leaseUntil: ctxAt(1).now }, ctxAt(1))).toThrow(IllegalTransition);
    expect(task).toEqual(before);
  });

  it("keeps terminal states terminal until an explicit retry, which opens a new budget", () => {
    const running = routedAndStarted(newTask(), "k1", 1);
    const failed = transition(running, { type: "fail", key: "k1", errorClass: "auth", error: "bad key", retryable: false }, ctxAt(2)).task;
    expect(failed.status).toBe("failed");
    for (const event of [{ type: "route" as const, route }, { type: "cancel" as const }, { type: "approve" as const }]) {
      expect(() => transition(failed, event, ctxAt(3))).toThrow(/finished; only an explicit retry/);
    }
    const retried = transition(failed, { type: "retry", agent: "codex" }, ctxAt(4)).task;
    expect(retried.status).toBe("routed");
    expect(retried.route?.agent).toBe("codex");
    expect(retried.budgetFrom).toBe(2);
  });

  it("retries retryable failures until maxAttempts, then fails", () => {
    let task = newTask(2);
    task = routedAndStarted(task, "k1", 1);
    task = transition(task, { type: "fail", key: "k1", errorClass: "outage", error: "503 one", retryable: true, retryAt: ctxAt(3).now }, ctxAt(2)).task;
    expect(task.status).toBe("retrying");
    expect(task.retryAt).toBe(ctxAt(3).now);
    task = routedAndStarted(task, "k2", 4);
    expect(task.retryAt).toBeUndefined();
    task = transition(task, { type: "fail", key: "k2", errorClass: "outage", error: "503 two", retryable: true }, ctxAt(5)).task;
    expect(task.status).toBe("failed");
  });

  it("asks for help when the same error repeats three times", () => {
    let task = newTask(5);
    for (let i = 1; i <= 3; i++) {
      task = routedAndStarted(task, `k${i}`, i * 10);
      task = transition(task, { type: "fail", key: `k${i}`, errorClass: "agent_error", error: "tests fail", retryable: true }, ctxAt(i * 10 + 1)).task;
    }
    expect(task.status).toBe("needs_help");
  });

  it("rejects a result whose attempt key does not match the running attempt", () => {
    const running = routedAndStarted(newTask(), "k1", 1);
    expect(() => transition(running, { type: "finish", key: "old", outcome: "done" }, ctxAt(2))).toThrow(/does not match/);
    const recorded = transition(running, { type: "stale_result", key: "old", note: "late worker" }, ctxAt(2)).task;
    expect(recorded.status).toBe("running");
    expect(recorded.history.at(-1)).toMatchObject({ type: "stale_result", from: "running", to: "running" });
  });

  it("replays its history to the same task", () => {
    let task = routedAndStarted(newTask(), "k1", 1);
    task = transition(task, { type: "heartbeat", key: "k1", leaseUntil: ctxAt(60).now }, ctxAt(20)).task;
    task = transition(task, { type: "finish", key: "k1", outcome: "delegate", children: [7, 8] }, ctxAt(30)).task;
    task = transition(task, { type: "children_settled" }, ctxAt(40)).task;
    expect(replayHistory(task.history, task)).toEqual(task);
  });
});
