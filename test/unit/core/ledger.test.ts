/** requireTask: the one "find the task or fail with E_TASK_NOT_FOUND" (findTask returns undefined). */
import { describe, expect, it } from "vitest";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import { emptyLedger, findTask, requireTask } from "../../../src/core/ledger/ledger.ts";
import { isRouterError } from "../../../src/core/errors.ts";
import { ctxAt } from "../../support/ctx.ts";

describe("requireTask", () => {
  const { ledger, task } = addTask(emptyLedger(), { source: { kind: "cli" }, title: "x" }, ctxAt(0));

  it("returns the very task findTask finds", () => {
    expect(requireTask(ledger, task.id)).toBe(findTask(ledger, task.id));
  });

  it("throws E_TASK_NOT_FOUND with the id, naming where it looked", () => {
    const caught = (where?: string): unknown => {
      try {
        requireTask(ledger, 99, where);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const plain = caught();
    expect(isRouterError(plain, "E_TASK_NOT_FOUND")).toBe(true);
    expect(plain).toMatchObject({ message: "no task 99 in the ledger", details: { id: 99 } });
    expect(caught("ledger.yml on branch agent-router/ledger")).toMatchObject({ message: "no task 99 in ledger.yml on branch agent-router/ledger" });
  });
});
