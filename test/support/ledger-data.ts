import { addTask } from "../../src/core/ledger/create-task.ts";
import type { Ledger } from "../../src/core/ledger/ledger.ts";
import { emptyLedger } from "../../src/core/ledger/ledger.ts";
import { ctxAt } from "./ctx.ts";

/** A ledger with `n` fresh tasks titled "task-1" … "task-n". */
export function ledgerWith(n: number, minute = 0): Ledger {
  let ledger = emptyLedger();
  for (let i = 1; i <= n; i++) ledger = addTask(ledger, { source: { kind: "cli" }, title: `task-${i}`, body: `body of ${i}\nsecond line`, labels: ["agent"] }, ctxAt(minute)).ledger;
  return ledger;
}

export function titles(ledger: Ledger): string[] {
  return ledger.tasks.map((t) => t.title);
}
