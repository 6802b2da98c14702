import { isDeepStrictEqual } from "node:util";
import { isRouterError } from "../core/errors.ts";
import { replayHistory } from "../core/ledger/replay-history.ts";
import type { LedgerStore } from "../core/ports.ts";
import type { Task } from "../core/ledger/task.ts";

export interface ValidationReport {
  errors: string[];
  warnings: string[];
}

/**
 * Reads the ledger (which validates it) and checks that each task's history replays to the task,
 * which catches hand edits that bypassed the state machine.
 */
export async function validateLedger(store: LedgerStore): Promise<ValidationReport> {
  const report: ValidationReport = { errors: [], warnings: [] };
  try {
    const { ledger } = await store.read();
    for (const task of ledger.tasks) {
      try {
        if (!isDeepStrictEqual(withoutOpenLease(replayHistory(task.history, task)), withoutOpenLease(task))) report.warnings.push(`task ${task.id}: its history does not replay to its current fields (edited by hand?)`);
      } catch (err) {
        report.warnings.push(`task ${task.id}: its history cannot be replayed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } catch (err) {
    if (!isRouterError(err, "E_LEDGER_INVALID")) throw err;
    report.errors.push(`${err.message}\n  fix: ${err.fix}`);
  }
  return report;
}

/** Heartbeats move an open attempt's lease without a history entry, so replay cannot know it. */
function withoutOpenLease(withClaim: Task): Task {
  // A review claim is not a transition either.
  const { reviewClaim: _review, ...task } = withClaim;
  const open = task.attempts.at(-1);
  if (!open || open.endedAt !== undefined || open.leaseUntil === undefined) return task;
  const { leaseUntil: _lease, ...rest } = open;
  return { ...task, attempts: [...task.attempts.slice(0, -1), rest] };
}
