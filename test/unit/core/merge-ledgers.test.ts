import { describe, expect, it } from "vitest";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import type { Ledger } from "../../../src/core/ledger/ledger.ts";
import { mergeLedgers } from "../../../src/core/ledger/merge-ledgers.ts";
import { replayHistory } from "../../../src/core/ledger/replay-history.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import { planArchive } from "../../../src/core/scheduling/plan-archive.ts";
import { ctxAt } from "../../support/ctx.ts";
import { ledgerWith, titles } from "../../support/ledger-data.ts";

function add(ledger: Ledger, title: string, parentId?: number): Ledger {
  return addTask(ledger, { source: parentId ? { kind: "parent", parentId, key: title } : { kind: "cli" }, title, ...(parentId ? { parentId } : {}) }, ctxAt(3)).ledger;
}

/** The ledger after archiving every terminal task (as a write 60 days later would). */
function archived(ledger: Ledger): Ledger {
  return planArchive(ledger, ctxAt(60 * 24 * 60).now, 30).ledger;
}

function cancel(ledger: Ledger, id: number, reason: string): Ledger {
  return { ...ledger, tasks: ledger.tasks.map((t) => (t.id === id ? transition(t, { type: "cancel", reason }, ctxAt(4)).task : t)) };
}

describe("mergeLedgers", () => {
  it("keeps both sides' new tasks, renumbering the local ones after the remote's, references included", () => {
    const base = ledgerWith(2);
    const remote = add(add(base, "remote-a"), "remote-b");
    const local = add(add(base, "local-parent"), "local-child", 3);
    const merged = mergeLedgers(base, local, remote);
    expect(merged.conflicts).toEqual([]);
    expect(titles(merged.ledger)).toEqual(["task-1", "task-2", "remote-a", "remote-b", "local-parent", "local-child"]);
    expect(merged.ledger.tasks.map((t) => t.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...merged.renumbered]).toEqual([[3, 5], [4, 6]]);
    const child = merged.ledger.tasks[5]!;
    expect(child.parentId).toBe(5);
    expect(child.source).toEqual({ kind: "parent", parentId: 5, key: "local-child" });
    expect(replayHistory(child.history, child)).toEqual(child);
    expect(merged.ledger.nextId).toBe(7);
  });

  it("takes a change made on one side only", () => {
    const base = ledgerWith(3);
    const merged = mergeLedgers(base, cancel(base, 2, "local"), add(base, "remote-new"));
    expect(merged.conflicts).toEqual([]);
    expect(merged.ledger.tasks.find((t) => t.id === 2)?.status).toBe("cancelled");
    expect(titles(merged.ledger)).toContain("remote-new");
  });

  it("reports a task both sides changed differently as a conflict", () => {
    const base = ledgerWith(2);
    const merged = mergeLedgers(base, cancel(base, 1, "local"), cancel(base, 1, "remote"));
    expect(merged.conflicts).toEqual([1]);
  });

  it("accepts a task both sides changed the same way", () => {
    const base = ledgerWith(2);
    const same = cancel(base, 1, "same");
    expect(mergeLedgers(base, same, same).conflicts).toEqual([]);
  });

  it("with no common base, appends every local task after the remote's", () => {
    const merged = mergeLedgers(null, ledgerWith(2), ledgerWith(3));
    expect(merged.ledger.tasks.map((t) => t.id)).toEqual([1, 2, 3, 4, 5]);
    expect(merged.ledger.nextId).toBe(6);
  });

  describe("a task archived on one side", () => {
    const base = cancel(ledgerWith(3), 1, "done with");

    it("stays archived when the remote did not touch it: it is not back in the hot file", () => {
      const merged = mergeLedgers(base, archived(base), add(base, "remote-new"));
      expect(merged.conflicts).toEqual([]);
      expect(titles(merged.ledger)).toEqual(["task-2", "task-3", "remote-new"]);
    });

    it("stays archived when the local side did not touch it", () => {
      const merged = mergeLedgers(base, add(base, "local-new"), archived(base));
      expect(merged.conflicts).toEqual([]);
      expect(titles(merged.ledger)).toEqual(["task-2", "task-3", "local-new"]);
    });

    it("is a conflict when the remote changed it meanwhile", () => {
      const reopened = { ...base, tasks: base.tasks.map((t) => (t.id === 1 ? transition(t, { type: "retry" }, ctxAt(5)).task : t)) };
      expect(mergeLedgers(base, archived(base), reopened).conflicts).toEqual([1]);
      expect(mergeLedgers(base, reopened, archived(base)).conflicts).toEqual([1]);
    });
  });

  it("remaps a local job's activeTaskId with the same renumbering as the task ids", () => {
    const base = ledgerWith(2);
    const slot = ctxAt(0).now;
    const remote = { ...add(base, "remote-a"), jobs: { weekly: { lastSlot: slot, activeTaskId: 3 } } };
    const created = addTask(base, { source: { kind: "job", jobId: "nightly", slot }, title: "nightly" }, ctxAt(3));
    const local = { ...created.ledger, jobs: { nightly: { lastSlot: slot, activeTaskId: created.task.id } } };
    const merged = mergeLedgers(base, local, remote);
    expect(merged.conflicts).toEqual([]);
    expect([...merged.renumbered]).toEqual([[3, 4]]);
    expect(merged.ledger.tasks.find((t) => t.title === "nightly")?.id).toBe(4);
    expect(merged.ledger.jobs).toEqual({ weekly: { lastSlot: slot, activeTaskId: 3 }, nightly: { lastSlot: slot, activeTaskId: 4 } });
  });
});
