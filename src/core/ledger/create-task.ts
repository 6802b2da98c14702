import type { TransitionContext } from "./events.ts";
import type { Ledger } from "./ledger.ts";
import type { Task } from "./task.ts";
import { NewTaskInput } from "./task.ts";

/**
 * Builds a new task with the id `id`. Its first history entry holds the normalised input except the
 * content (title, body, labels), which no transition changes and which the task itself carries, so
 * the history plus the content rebuild the task (see replay-history.ts) without storing the body twice.
 */
export function createTask(id: number, input: NewTaskInput, ctx: TransitionContext): Task {
  const normal = NewTaskInput.parse(input);
  const { title: _title, body: _body, labels: _labels, ...config } = normal;
  const data: Record<string, unknown> = JSON.parse(JSON.stringify({ id, ...config })) as Record<string, unknown>;
  const task: Task = {
    id,
    source: normal.source,
    title: normal.title,
    body: normal.body,
    labels: normal.labels,
    status: "new",
    maxAttempts: normal.maxAttempts,
    budgetFrom: 1,
    attempts: [],
    children: [],
    after: normal.after,
    approvals: [],
    history: [{ at: ctx.now, type: "created", to: "new", by: ctx.by, traceId: ctx.traceId, data }],
  };
  if (normal.parentId !== undefined) task.parentId = normal.parentId;
  if (normal.hint !== undefined) task.hint = normal.hint;
  return task;
}

/**
 * Adds a task with the next ledger-wide id. Ids come only from `nextId`, which only grows, and the
 * ledger is written by compare-and-swap, so two writers can never hand out the same id.
 */
export function addTask(ledger: Ledger, input: NewTaskInput, ctx: TransitionContext): { ledger: Ledger; task: Task } {
  const task = createTask(ledger.nextId, input, ctx);
  return { ledger: { ...ledger, nextId: ledger.nextId + 1, tasks: [...ledger.tasks, task] }, task };
}
