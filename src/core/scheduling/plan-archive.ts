import type { Ledger } from "../ledger/ledger.ts";
import type { Task } from "../ledger/task.ts";
import { isTerminal } from "../ledger/task.ts";

export interface ArchivePlan {
  /** The hot ledger without the archived tasks. */
  ledger: Ledger;
  /** Tasks to append to `archive/<month>.yml`, grouped by the month they finished in (UTC). */
  batches: { month: string; tasks: Task[] }[];
}

const DAY_MS = 86_400_000;

function finishedAt(task: Task): string {
  return task.history.at(-1)?.at ?? "";
}

/**
 * Moves terminal tasks that finished more than `days` days before `now` out of the hot ledger.
 * A task stays while its parent or any child is still live, so a resuming parent still sees its
 * children. Ids are never reused: `nextId` is untouched.
 */
export function planArchive(ledger: Ledger, now: string, days: number): ArchivePlan {
  const cutoff = Date.parse(now) - days * DAY_MS;
  const byId = new Map(ledger.tasks.map((t) => [t.id, t]));
  const live = (id: number | undefined): boolean => {
    const t = id === undefined ? undefined : byId.get(id);
    return t !== undefined && !isTerminal(t.status);
  };
  const keep: Task[] = [];
  const months = new Map<string, Task[]>();
  for (const task of ledger.tasks) {
    const old = isTerminal(task.status) && Date.parse(finishedAt(task)) < cutoff;
    if (!old || live(task.parentId) || task.children.some(live)) {
      keep.push(task);
      continue;
    }
    const month = finishedAt(task).slice(0, 7);
    months.set(month, [...(months.get(month) ?? []), task]);
  }
  if (months.size === 0) return { ledger, batches: [] };
  const batches = [...months].sort(([a], [b]) => a.localeCompare(b)).map(([month, tasks]) => ({ month, tasks }));
  return { ledger: { ...ledger, tasks: keep }, batches };
}
