import { RouterError } from "../core/errors.ts";
import { addTask } from "../core/ledger/create-task.ts";
import { emptyLedger, findTask } from "../core/ledger/ledger.ts";
import type { Task, TaskStatus } from "../core/ledger/task.ts";
import type { AppDeps } from "./app-deps.ts";
import { contextOf, mutateOptionsOf } from "./app-deps.ts";
import { mutateLedger } from "./mutate-ledger.ts";

export interface AddTaskInput {
  title: string;
  body?: string;
  labels?: string[];
  /** Explicit routing choices; checked by the caller against the agents and profiles in force. */
  hint?: { agent?: string; profile?: string };
}

/** Creates a task from the command line; the ledger assigns its id. */
export async function addTaskCommand(deps: AppDeps, input: AddTaskInput): Promise<Task> {
  const ctx = contextOf(deps);
  const { result } = await mutateLedger(
    deps.store,
    ({ ledger }) => {
      const added = addTask(
        ledger,
        {
          source: { kind: "cli" },
          title: input.title,
          body: input.body ?? "",
          labels: input.labels ?? [],
          maxAttempts: deps.config.execution.maxAttempts,
          ...(input.hint?.agent || input.hint?.profile ? { hint: input.hint } : {}),
        },
        ctx,
      );
      return { ledger: added.ledger, result: added.task, summary: `task ${added.task.id} created: ${input.title.slice(0, 60)}` };
    },
    mutateOptionsOf(deps),
  );
  return result;
}

/** Creates the ledger branch with an empty ledger unless it exists; true when it was created. */
export async function initLedger(deps: AppDeps): Promise<boolean> {
  const { written } = await mutateLedger(
    deps.store,
    (snapshot) => (snapshot.head === null ? { ledger: emptyLedger(), result: undefined, summary: "init ledger" } : { ledger: snapshot.ledger, result: undefined, summary: "" }),
    mutateOptionsOf(deps),
  );
  return written;
}

export async function listTasks(deps: AppDeps, filter: { status?: TaskStatus[] } = {}): Promise<Task[]> {
  const { ledger } = await deps.store.read();
  return filter.status ? ledger.tasks.filter((t) => filter.status?.includes(t.status)) : ledger.tasks;
}

/** A task from the hot ledger, or from the archive month it finished in. */
export async function showTask(deps: AppDeps, id: number): Promise<Task> {
  const { ledger } = await deps.store.read();
  const task = findTask(ledger, id);
  if (task) return task;
  if (id < ledger.nextId) {
    const now = deps.clock.now();
    for (let back = 0; back < 24; back++) {
      const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1)).toISOString().slice(0, 7);
      const archived = (await deps.store.readArchive(month)).find((t) => t.id === id);
      if (archived) return archived;
    }
  }
  throw new RouterError("E_TASK_NOT_FOUND", `no task ${id} in ${deps.store.location}`, { id });
}
