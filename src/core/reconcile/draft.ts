import type { Effect, TaskEvent, TransitionContext } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { replaceTask, requireTask } from "../ledger/ledger.ts";
import type { Task } from "../ledger/task.ts";
import { transition } from "../ledger/transition.ts";
import type { TriggerOutcome } from "./reconcile-types.ts";

/** The ledger as this reconcile changes it, with the effects and commit lines gathered so far. */
export class Draft {
  effects: Effect[] = [];
  lines: string[] = [];
  constructor(
    public ledger: Ledger,
    private readonly ctx: TransitionContext,
  ) {}

  /** Applies one event to one task (throws IllegalTransition when refused); `by` names the person when it is not the trigger's actor. */
  step(taskId: number, event: TaskEvent, line: string, by?: string): Task {
    const r = transition(requireTask(this.ledger, taskId), event, by === undefined ? this.ctx : { ...this.ctx, by });
    this.ledger = replaceTask(this.ledger, r.task);
    this.effects.push(...r.effects);
    this.lines.push(line);
    return r.task;
  }

  /** Changes fields that are not state (a claim's lease); no history entry. `undefined` removes a field. */
  patch(taskId: number, fields: Partial<Task>, line: string): void {
    const next: Record<string, unknown> = { ...requireTask(this.ledger, taskId), ...fields };
    for (const [k, v] of Object.entries(fields)) if (v === undefined) delete next[k];
    this.ledger = replaceTask(this.ledger, next as Task);
    this.lines.push(line);
  }

  /** Applies an event and reports the move. */
  move(taskId: number, event: TaskEvent, line: string, by?: string): TriggerOutcome {
    const from = requireTask(this.ledger, taskId).status;
    const to = this.step(taskId, event, line, by).status;
    return { kind: "moved", taskId, event: event.type, from, to };
  }
}
