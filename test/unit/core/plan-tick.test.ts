/**
 * Tick planning (DESIGN.md "Delegation", "Task and state machine"): expired leases are given back,
 * children whose `after` dependency failed are cancelled, a waiting parent resumes once every child
 * has finished; isRunnable / runnableTasks decide what may start.
 */
import { describe, expect, it } from "vitest";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import type { TaskEvent } from "../../../src/core/ledger/events.ts";
import type { Ledger } from "../../../src/core/ledger/ledger.ts";
import { emptyLedger, findTask } from "../../../src/core/ledger/ledger.ts";
import type { Route, Task } from "../../../src/core/ledger/task.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import { failedDependency, isRunnable, planTick, runnableTasks } from "../../../src/core/scheduling/plan-tick.ts";
import { ctxAt } from "../../support/ctx.ts";

const route: Route = { agent: "claude", profile: "feature", complexity: "low", reason: "rule", decidedBy: "rule" };
type Status = "new" | "routed" | "awaiting_approval" | "running" | "retrying" | "needs_help" | "done" | "failed" | "cancelled";

/** Takes a new task to `to` through the real state machine, starting at minute `m`. */
function drive(t: Task, to: Status, m = 1): Task {
  const step = (task: Task, e: TaskEvent, k = 0): Task => transition(task, e, ctxAt(m + k)).task;
  if (to === "new") return t;
  if (to === "cancelled") return step(t, { type: "cancel", reason: "not needed" });
  const routed = step(t, { type: "route", route });
  if (to === "routed") return routed;
  if (to === "awaiting_approval") return step(routed, { type: "require_approval", reason: "gate" });
  const key = `t${t.id}`;
  const running = step(routed, { type: "start", key, agent: "claude", leaseUntil: ctxAt(m + 30).now });
  switch (to) {
    case "running":
      return running;
    case "done":
      return step(running, { type: "finish", key, outcome: "done", summary: "ok" }, 1);
    case "failed":
      return step(running, { type: "fail", key, errorClass: "agent_error", error: "gave up", retryable: false }, 1);
    case "retrying":
      return step(running, { type: "fail", key, errorClass: "timeout", error: "slow", retryable: true, retryAt: ctxAt(m + 20).now }, 1);
    case "needs_help":
      return step(running, { type: "finish", key, outcome: "needs_help", question: "which?" }, 1);
  }
}

const put = (ledger: Ledger, t: Task): Ledger => ({ ...ledger, tasks: ledger.tasks.map((x) => (x.id === t.id ? t : x)) });

/** Parent #1, waiting on children #2… with the given keys, `after` lists and statuses. */
function family(kids: { key: string; after?: string[]; status: Status }[]): Ledger {
  let ledger = addTask(emptyLedger(), { source: { kind: "cli" }, title: "Plan the release" }, ctxAt(0)).ledger;
  for (const k of kids) ledger = addTask(ledger, { source: { kind: "parent", parentId: 1, key: k.key }, parentId: 1, title: `child ${k.key}`, after: k.after ?? [] }, ctxAt(0)).ledger;
  let parent = drive(findTask(ledger, 1)!, "running");
  parent = transition(parent, { type: "finish", key: "t1", outcome: "delegate", children: kids.map((_, i) => i + 2) }, ctxAt(2)).task;
  ledger = put(ledger, parent);
  kids.forEach((k, i) => (ledger = put(ledger, drive(findTask(ledger, i + 2)!, k.status, 3))));
  return ledger;
}

/** Applies a tick's events in order, as `tick` in src/app/serve.ts does. */
function applyTick(ledger: Ledger, now: string): { ledger: Ledger; events: { taskId: number; event: TaskEvent }[] } {
  const events = planTick(ledger, now);
  for (const { taskId, event } of events) ledger = put(ledger, transition(findTask(ledger, taskId)!, event, { ...ctxAt(0), now }).task);
  return { ledger, events };
}

const statuses = (ledger: Ledger): string[] => ledger.tasks.map((t) => `${t.id}:${t.status}`);

describe("planTick: lease expiry", () => {
  const single = (): Ledger => {
    const { ledger, task } = addTask(emptyLedger(), { source: { kind: "cli" }, title: "x" }, ctxAt(0));
    return put(ledger, drive(task, "running", 1)); // lease until minute 31
  };

  it("gives an expired lease back with retryAt = now; not at or before the lease's end", () => {
    expect(planTick(single(), ctxAt(10).now)).toEqual([]);
    expect(planTick(single(), ctxAt(31).now)).toEqual([]);
    expect(planTick(single(), ctxAt(32).now)).toEqual([{ taskId: 1, event: { type: "lease_expired", key: "t1", retryAt: ctxAt(32).now } }]);
    const { ledger } = applyTick(single(), ctxAt(32).now);
    expect(ledger.tasks[0]).toMatchObject({ status: "retrying", retryAt: ctxAt(32).now });
    expect(ledger.tasks[0]!.attempts.at(-1)).toMatchObject({ outcome: "lease_expired", endedAt: ctxAt(32).now });
    expect(planTick(ledger, ctxAt(90).now)).toEqual([]);
  });

  it("a renewed lease does not expire; only the expired task gets an event", () => {
    let ledger = single();
    ledger = addTask(ledger, { source: { kind: "cli" }, title: "y" }, ctxAt(0)).ledger;
    ledger = put(ledger, drive(findTask(ledger, 2)!, "running", 1));
    ledger = put(ledger, transition(findTask(ledger, 2)!, { type: "heartbeat", key: "t2", leaseUntil: ctxAt(60).now }, ctxAt(20)).task);
    expect(planTick(ledger, ctxAt(40).now)).toEqual([{ taskId: 1, event: { type: "lease_expired", key: "t1", retryAt: ctxAt(40).now } }]);
  });
});

describe("planTick: a waiting parent resumes only when every child is terminal", () => {
  const cases: [Status[], boolean][] = [
    [["done", "done"], true],
    [["done", "failed"], true],
    [["cancelled", "done", "failed"], true],
    [["done", "running"], false],
    [["done", "retrying"], false],
    [["done", "needs_help"], false],
    [["done", "routed"], false],
    [["new", "done"], false],
    [["done", "awaiting_approval"], false],
  ];
  for (const [kids, resumes] of cases) {
    it(`children ${kids.join(", ")} → ${resumes ? "children_settled" : "keeps waiting"}`, () => {
      const ledger = family(kids.map((status, i) => ({ key: `k${i}`, status })));
      expect(findTask(ledger, 1)!.status).toBe("waiting");
      const events = planTick(ledger, ctxAt(10).now);
      expect(events).toEqual(resumes ? [{ taskId: 1, event: { type: "children_settled" } }] : []);
      if (resumes) expect(findTask(applyTick(ledger, ctxAt(10).now).ledger, 1)!.status).toBe("routed");
    });
  }

  it("a parent that is not waiting gets no event, whatever its children", () => {
    const ledger = family([{ key: "a", status: "done" }]);
    const routed = put(ledger, transition(findTask(ledger, 1)!, { type: "children_settled" }, ctxAt(5)).task);
    expect(planTick(routed, ctxAt(10).now)).toEqual([]);
  });
});

describe("planTick: children blocked by a dependency that ended without success", () => {
  for (const ended of ["failed", "cancelled"] as const) {
    it(`a dependency ${ended}: the child is cancelled and the parent resumes in the same tick`, () => {
      const ledger = family([{ key: "build", status: ended }, { key: "ship", after: ["build"], status: "routed" }]);
      const { ledger: after, events } = applyTick(ledger, ctxAt(10).now);
      expect(events).toEqual([
        { taskId: 3, event: { type: "cancel", reason: `dependency #2 ended ${ended}` } },
        { taskId: 1, event: { type: "children_settled" } },
      ]);
      expect(statuses(after)).toEqual(["1:routed", `2:${ended}`, "3:cancelled"]);
      expect(planTick(after, ctxAt(11).now)).toEqual([]);
    });
  }

  for (const waiting of ["new", "retrying", "awaiting_approval", "needs_help"] as const) {
    it(`a blocked child in ${waiting} is cancelled too`, () => {
      const ledger = family([{ key: "a", status: "failed" }, { key: "b", after: ["a"], status: waiting }]);
      expect(applyTick(ledger, ctxAt(10).now).events.map((e) => [e.taskId, e.event.type])).toEqual([[3, "cancel"], [1, "children_settled"]]);
    });
  }

  for (const dep of ["done", "needs_help", "running", "retrying"] as const) {
    it(`a dependency that is ${dep} blocks nothing: the child stays and the parent waits`, () => {
      const ledger = family([{ key: "a", status: dep }, { key: "b", after: ["a"], status: "routed" }]);
      expect(planTick(ledger, ctxAt(10).now)).toEqual([]);
      expect(failedDependency(ledger, findTask(ledger, 3)!)).toBeNull();
    });
  }

  it("a child already finished is left alone; only the unfinished dependent is cancelled", () => {
    const ledger = family([{ key: "a", status: "failed" }, { key: "b", after: ["a"], status: "done" }, { key: "c", after: ["a"], status: "routed" }]);
    expect(planTick(ledger, ctxAt(10).now)).toEqual([
      { taskId: 4, event: { type: "cancel", reason: "dependency #2 ended failed" } },
      { taskId: 1, event: { type: "children_settled" } },
    ]);
  });

  it("a chain a ← b ← c behind a failed a is cancelled link by link until the parent resumes", () => {
    let ledger = family([{ key: "a", status: "failed" }, { key: "b", after: ["a"], status: "routed" }, { key: "c", after: ["b"], status: "routed" }]);
    let ticks = 0;
    for (let events = [{}]; events.length > 0 && ticks < 10; ticks++) ({ ledger, events } = applyTick(ledger, ctxAt(10 + ticks).now));
    expect(statuses(ledger)).toEqual(["1:routed", "2:failed", "3:cancelled", "4:cancelled"]);
    expect(ticks).toBeLessThanOrEqual(4); // one link per tick, then a tick with nothing left to do
  });
});

describe("isRunnable and runnableTasks", () => {
  const one = (status: Status): { ledger: Ledger; task: Task } => {
    const { ledger, task } = addTask(emptyLedger(), { source: { kind: "cli" }, title: "x" }, ctxAt(0));
    const t = drive(task, status, 1);
    return { ledger: put(ledger, t), task: t };
  };

  const byStatus: [Status, boolean][] = [
    ["new", false],
    ["routed", true],
    ["awaiting_approval", false],
    ["running", false],
    ["needs_help", false],
    ["done", false],
    ["failed", false],
    ["cancelled", false],
  ];
  for (const [status, runnable] of byStatus) {
    it(`${status} → ${runnable ? "runnable" : "not runnable"}`, () => {
      const { ledger, task } = one(status);
      expect(isRunnable(ledger, task, ctxAt(100).now)).toBe(runnable);
    });
  }

  it("retrying is runnable from retryAt on, not before", () => {
    const { ledger, task } = one("retrying"); // retryAt minute 21
    expect(task.retryAt).toBe(ctxAt(21).now);
    expect(isRunnable(ledger, task, ctxAt(20).now)).toBe(false);
    expect(isRunnable(ledger, task, new Date(Date.parse(ctxAt(21).now) - 1).toISOString())).toBe(false);
    expect(isRunnable(ledger, task, ctxAt(21).now)).toBe(true);
    expect(isRunnable(ledger, task, ctxAt(22).now)).toBe(true);
  });

  it("retrying without a retryAt is runnable at once", () => {
    const { ledger, task } = one("running");
    const t = transition(task, { type: "lease_expired", key: "t1" }, ctxAt(40)).task;
    expect(t.status).toBe("retrying");
    expect(t.retryAt).toBeUndefined();
    expect(isRunnable(put(ledger, t), t, ctxAt(40).now)).toBe(true);
  });

  const deps: [Status[], boolean][] = [
    [["done"], true],
    [["done", "done"], true],
    [["done", "running"], false],
    [["routed"], false],
    [["needs_help"], false],
    [["failed"], false],
    [["cancelled"], false],
  ];
  for (const [depStatuses, runnable] of deps) {
    it(`after dependencies ${depStatuses.join(", ")} → ${runnable ? "runnable" : "not runnable"}`, () => {
      const keys = depStatuses.map((_, i) => `d${i}`);
      const ledger = family([...depStatuses.map((status, i) => ({ key: keys[i]!, status })), { key: "me", after: keys, status: "routed" }]);
      const me = ledger.tasks.at(-1)!;
      expect(isRunnable(ledger, me, ctxAt(100).now)).toBe(runnable);
      expect(runnableTasks(ledger, ctxAt(100).now).map((t) => t.id).includes(me.id)).toBe(runnable);
    });
  }

  it("after names siblings only: a same-key task of another parent does not count", () => {
    let ledger = family([{ key: "a", status: "routed" }, { key: "b", after: ["a"], status: "routed" }]);
    // Task #4, a top-level task, and #5, its child keyed "a".
    ledger = addTask(ledger, { source: { kind: "cli" }, title: "other" }, ctxAt(0)).ledger;
    ledger = addTask(ledger, { source: { kind: "parent", parentId: 4, key: "a" }, parentId: 4, title: "other a" }, ctxAt(0)).ledger;
    const withOther = (status: Status): Ledger => put(ledger, drive(findTask(ledger, 5)!, status, 3));
    // The other family's "a" is done, #3's own "a" is not: not runnable.
    expect(isRunnable(withOther("done"), findTask(ledger, 3)!, ctxAt(100).now)).toBe(false);
    // The other family's "a" failed: #3 is not blocked by it.
    expect(failedDependency(withOther("failed"), findTask(ledger, 3)!)).toBeNull();
    // Its own sibling "a" finishes while the other "a" failed: runnable.
    ledger = put(withOther("failed"), drive(findTask(ledger, 2)!, "done", 3));
    expect(isRunnable(ledger, findTask(ledger, 3)!, ctxAt(100).now)).toBe(true);
  });

  it("runnableTasks lists the runnable tasks sorted by id, whatever the ledger's order", () => {
    let ledger = emptyLedger();
    const plan: Status[] = ["routed", "new", "retrying", "routed", "running", "done", "routed"];
    for (const status of plan) {
      const added = addTask(ledger, { source: { kind: "cli" }, title: status }, ctxAt(0));
      ledger = put(added.ledger, drive(added.task, status, 1));
    }
    const shuffled = { ...ledger, tasks: [ledger.tasks[6]!, ledger.tasks[2]!, ledger.tasks[0]!, ledger.tasks[4]!, ledger.tasks[3]!, ledger.tasks[5]!, ledger.tasks[1]!] };
    expect(runnableTasks(shuffled, ctxAt(10).now).map((t) => t.id)).toEqual([1, 4, 7]);
    expect(runnableTasks(shuffled, ctxAt(21).now).map((t) => t.id)).toEqual([1, 3, 4, 7]);
  });
});
