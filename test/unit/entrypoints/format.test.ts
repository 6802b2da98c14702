// Who holds a task, as `list` and `show` say it: a worker running an attempt, or one reviewing it.
import { describe, expect, it } from "vitest";
import { describeHolder } from "../../../src/entrypoints/cli/format.ts";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import { emptyLedger } from "../../../src/core/ledger/ledger.ts";
import type { Task } from "../../../src/core/ledger/task.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import { ctxAt } from "../../support/ctx.ts";

function running(): Task {
  let t = addTask(emptyLedger(), { source: { kind: "cli" }, title: "t" }, ctxAt(0)).task;
  t = transition(t, { type: "route", route: { agent: "claude", profile: "feature", complexity: "medium", reason: "r", decidedBy: "rule" } }, ctxAt(0)).task;
  return transition(t, { type: "start", key: "k1", agent: "claude", leaseUntil: ctxAt(5).now }, ctxAt(0)).task;
}

describe("describeHolder", () => {
  it("names the worker running an attempt and when its lease ends, or that it ended", () => {
    const t = running();
    expect(describeHolder(t, ctxAt(1).now)).toBe(`held by a worker (attempt 1, claude) whose lease ends at ${ctxAt(5).now}`);
    expect(describeHolder(t, ctxAt(6).now)).toMatch(/whose lease ended at .*: the worker is gone; the next serve, run or tick retries the task$/);
  });

  it("names the worker reviewing a task in review, and nothing once nobody holds it", () => {
    const inReview = transition(running(), { type: "finish", key: "k1", outcome: "review", summary: "s" }, ctxAt(1)).task;
    expect(describeHolder(inReview, ctxAt(2).now)).toBeNull();
    const claimed: Task = { ...inReview, reviewClaim: { key: "review-1-1-x", startedAt: ctxAt(2).now, leaseUntil: ctxAt(7).now } };
    expect(describeHolder(claimed, ctxAt(3).now)).toBe(`being reviewed by a worker whose lease ends at ${ctxAt(7).now}`);
    expect(describeHolder(claimed, ctxAt(8).now)).toMatch(/^being reviewed by a worker whose lease ended at .*: the worker is gone; the next serve reviews it again$/);
  });
});
