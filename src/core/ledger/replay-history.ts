import { RouterError } from "../errors.ts";
import type { TaskEvent } from "./events.ts";
import { createTask } from "./create-task.ts";
import type { HistoryEvent, NewTaskInput, Task } from "./task.ts";
import { transition } from "./transition.ts";

/** What a task is about; set at creation and never changed by a transition. */
export type TaskContent = Pick<Task, "title" | "body" | "labels">;

/**
 * Rebuilds a task from its history and its content: the `created` entry, then every event replayed
 * through `transition` with the time, actor and trace id it was recorded with. Equal to the stored
 * task when nothing edited the ledger behind the state machine's back.
 */
export function replayHistory(history: readonly HistoryEvent[], content: TaskContent): Task {
  const [first, ...rest] = history;
  if (!first || first.type !== "created" || !first.data) {
    throw new RouterError("E_LEDGER_INVALID", "a task's history must start with its 'created' entry");
  }
  const { id, ...input } = first.data as { id: number } & Omit<NewTaskInput, keyof TaskContent>;
  let task = createTask(id, { ...input, title: content.title, body: content.body, labels: content.labels }, { now: first.at, by: first.by, traceId: first.traceId });
  for (const entry of rest) {
    const event = { type: entry.type, ...(entry.data ?? {}) } as TaskEvent;
    task = transition(task, event, { now: entry.at, by: entry.by, traceId: entry.traceId }).task;
  }
  return task;
}
