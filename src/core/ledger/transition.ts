import { RouterError } from "../errors.ts";
import type { Effect, TaskEvent, TransitionContext } from "./events.ts";
import type { Attempt, AttemptOutcome, HistoryEvent, RouteHint, Task, TaskStatus } from "./task.ts";
import { isTerminal } from "./task.ts";

export interface TransitionResult {
  task: Task;
  effects: Effect[];
}

/** A refused event: the task is unchanged. */
export class IllegalTransition extends RouterError {
  constructor(task: Task, event: TaskEvent, why: string) {
    super("E_ILLEGAL_TRANSITION", `task ${task.id}: cannot apply "${event.type}" in status "${task.status}": ${why}`, {
      taskId: task.id,
      status: task.status,
      event: event.type,
    });
  }
}

/** Which statuses accept each event. Anything else is an IllegalTransition. */
export const ACCEPTS: { readonly [K in TaskEvent["type"]]: readonly TaskStatus[] } = {
  route: ["new", "routed", "awaiting_approval", "retrying", "needs_help"],
  require_approval: ["routed", "retrying"],
  approve: ["awaiting_approval", "done"],
  reject: ["awaiting_approval", "in_review"],
  start: ["routed", "retrying"],
  heartbeat: ["running"],
  finish: ["running"],
  fail: ["running"],
  lease_expired: ["running"],
  release: ["running"],
  children_settled: ["waiting"],
  review: ["in_review"],
  answer: ["needs_help"],
  escalate: ["new", "routed", "retrying", "in_review"],
  cancel: ["new", "routed", "awaiting_approval", "running", "waiting", "in_review", "retrying", "needs_help"],
  retry: ["done", "failed", "cancelled", "needs_help", "retrying"],
  edit: ["new", "routed", "awaiting_approval", "running", "waiting", "in_review", "retrying", "needs_help"],
  stale_result: [
    "new", "routed", "awaiting_approval", "running", "waiting", "in_review", "retrying", "needs_help", "done", "failed", "cancelled",
  ],
};

/** Whether an ended attempt counts as a failure: anything but success, and a released claim is not an attempt that failed. */
function countsAsFailure(a: Attempt): boolean {
  return a.outcome !== undefined && a.outcome !== "success" && a.outcome !== "released";
}

/** Failed attempts since the budget was last reset (by `retry` or `answer`). */
export function failuresInBudget(task: Task): number {
  return task.attempts.filter((a) => a.n >= task.budgetFrom && countsAsFailure(a)).length;
}

/** Same error class and message in each of the last `n` attempts. */
function sameErrorRepeated(all: readonly Attempt[], n: number): boolean {
  const attempts = all.filter((a) => a.outcome !== "released");
  if (attempts.length < n) return false;
  const last = attempts.slice(-n);
  const first = last[0];
  return last.every((a) => a.outcome !== "success" && a.errorClass === first?.errorClass && a.error === first?.error);
}

function currentAttempt(task: Task, key: string, event: TaskEvent): Attempt {
  const attempt = task.attempts.at(-1);
  if (!attempt || attempt.endedAt !== undefined) throw new IllegalTransition(task, event, "no attempt is in progress");
  if (attempt.key !== key) throw new IllegalTransition(task, event, `attempt key ${key} does not match the running attempt`);
  return attempt;
}

function replaceLast(attempts: readonly Attempt[], next: Attempt): Attempt[] {
  return [...attempts.slice(0, -1), next];
}

/** Removes keys whose value is undefined so tasks stay plain data that YAML and JSON round-trip. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function endAttempt(attempt: Attempt, now: string, outcome: AttemptOutcome, extra: Partial<Attempt>): Attempt {
  const { leaseUntil: _lease, ...rest } = attempt;
  return compact({ ...rest, ...extra, endedAt: now, outcome });
}

/** Where a failed attempt leads: ask a person (when told to, or the same error three times), give up, or retry. */
function afterFailure(task: Task, attempts: Attempt[], retryable: boolean, needsHelp = false): TaskStatus {
  if (needsHelp) return "needs_help";
  if (!retryable) return "failed";
  if (sameErrorRepeated(attempts.filter((a) => a.n >= task.budgetFrom), 3)) return "needs_help";
  if (failuresInBudget({ ...task, attempts }) >= task.maxAttempts) return "failed";
  return "retrying";
}

type Change = { status: TaskStatus; patch?: Partial<Task>; effects?: Effect[]; note?: string; attempt?: number };

function decide(task: Task, event: TaskEvent, ctx: TransitionContext): Change {
  const sync: Effect = { kind: "sync_task", class: "github", taskId: task.id };
  switch (event.type) {
    case "route": {
      // A new route never skips an approval gate, and a person re-routing a task that asked for
      // help gives it a fresh attempt budget.
      const status: TaskStatus = task.status === "awaiting_approval" ? "awaiting_approval" : "routed";
      const patch: Partial<Task> = task.status === "needs_help" ? { route: event.route, budgetFrom: task.attempts.length + 1 } : { route: event.route };
      return { status, patch, note: `${event.route.decidedBy}: ${event.route.reason}` };
    }
    case "require_approval":
      return { status: "awaiting_approval", note: event.reason };
    case "approve":
      // Approving finished work releases its held pull request; the task stays done.
      return {
        status: task.status === "done" ? "done" : "routed",
        patch: { approvals: [...task.approvals, { by: ctx.by, at: ctx.now, attempt: task.attempts.length }] },
      };
    case "reject":
      return { status: "cancelled", note: event.reason };
    case "start": {
      if (!task.route) throw new IllegalTransition(task, event, "the task has no route");
      if (failuresInBudget(task) >= task.maxAttempts) {
        throw new IllegalTransition(task, event, `the attempt budget of ${task.maxAttempts} is spent`);
      }
      if (task.attempts.some((a) => a.key === event.key)) throw new IllegalTransition(task, event, `attempt key ${event.key} was used before`);
      const n = task.attempts.length + 1;
      const attempt: Attempt = compact({
        n,
        key: event.key,
        agent: event.agent,
        model: event.model,
        startedAt: ctx.now,
        leaseUntil: event.leaseUntil,
        runUrl: event.runUrl,
      });
      return {
        status: "running",
        patch: { retryAt: undefined, attempts: [...task.attempts, attempt] },
        attempt: n,
        effects: [sync, { kind: "run_attempt", class: "agent", taskId: task.id, attempt: n, key: event.key }],
      };
    }
    case "heartbeat": {
      const attempt = currentAttempt(task, event.key, event);
      return { status: "running", patch: { attempts: replaceLast(task.attempts, { ...attempt, leaseUntil: event.leaseUntil }) }, attempt: attempt.n, effects: [] };
    }
    case "finish": {
      const attempt = currentAttempt(task, event.key, event);
      const ended = endAttempt(attempt, ctx.now, "success", { usage: event.usage, sessionId: event.sessionId });
      const result = compact({ status: event.outcome, summary: event.summary, question: event.question });
      const status: TaskStatus = { done: "done", needs_help: "needs_help", delegate: "waiting", review: "in_review" }[event.outcome] as TaskStatus;
      const added = [...new Set(event.children ?? [])].filter((c) => !task.children.includes(c));
      if (event.outcome === "delegate" && added.length === 0) throw new IllegalTransition(task, event, "a delegation needs at least one new child");
      const children = event.outcome === "delegate" ? [...task.children, ...added] : task.children;
      return { status, patch: { attempts: replaceLast(task.attempts, ended), result, children }, attempt: attempt.n, note: event.summary };
    }
    case "fail": {
      const attempt = currentAttempt(task, event.key, event);
      const outcome: AttemptOutcome = event.errorClass === "timeout" ? "timeout" : "failure";
      const attempts = replaceLast(task.attempts, endAttempt(attempt, ctx.now, outcome, { errorClass: event.errorClass, error: event.error, usage: event.usage }));
      const status = afterFailure(task, attempts, event.retryable, event.needsHelp);
      // An agent that gave up still handed back a summary: keep it as the task's result (a parent reads it).
      const result = event.summary === undefined ? task.result : { status: "failed", summary: event.summary };
      return { status, patch: { attempts, retryAt: status === "retrying" ? event.retryAt : undefined, result }, attempt: attempt.n, note: `${event.errorClass}: ${event.error}` };
    }
    case "release": {
      const attempt = currentAttempt(task, event.key, event);
      const attempts = replaceLast(task.attempts, endAttempt(attempt, ctx.now, "released", { error: event.reason }));
      return { status: "routed", patch: { attempts, retryAt: undefined }, attempt: attempt.n, note: event.reason };
    }
    case "lease_expired": {
      const attempt = currentAttempt(task, event.key, event);
      const attempts = replaceLast(task.attempts, endAttempt(attempt, ctx.now, "lease_expired", { errorClass: "lease_expired", error: "the worker stopped renewing its lease" }));
      const status = afterFailure(task, attempts, true);
      return { status, patch: { attempts, retryAt: status === "retrying" ? event.retryAt : undefined }, attempt: attempt.n };
    }
    case "children_settled":
      return { status: "routed" };
    case "review":
      if (event.decision === "approve") return { status: "done", note: event.notes };
      return { status: event.needsHelp ? "needs_help" : "retrying", note: event.notes };
    case "escalate":
      return { status: "needs_help", note: event.reason };
    case "answer":
      return { status: task.route ? "routed" : "new", patch: { budgetFrom: task.attempts.length + 1 }, note: event.text };
    case "cancel": {
      const running = task.status === "running" ? task.attempts.at(-1) : undefined;
      const effects: Effect[] = running ? [sync, { kind: "cancel_attempt", class: "agent", taskId: task.id, key: running.key }] : [sync];
      const attempts = running ? replaceLast(task.attempts, endAttempt(running, ctx.now, "cancelled", {})) : task.attempts;
      return { status: "cancelled", patch: { attempts }, effects, note: event.reason };
    }
    case "retry": {
      // A model belongs to its agent: a retry on another agent drops it (the agent's own models apply).
      const route = task.route && event.agent ? compact({ ...task.route, agent: event.agent, model: event.agent === task.route.agent ? task.route.model : undefined, decidedBy: "override" as const, reason: `retry with ${event.agent}` }) : task.route;
      const effects: Effect[] = [sync];
      if (task.source.kind === "issue") effects.push({ kind: "reopen_issue", class: "github", taskId: task.id });
      return { status: route ? "routed" : "new", patch: { route, retryAt: undefined, budgetFrom: task.attempts.length + 1 }, effects };
    }
    case "stale_result":
      return { status: task.status, note: event.note, effects: [] };
    case "edit":
      return decideEdit(task, event);
  }
}

/** Statuses in which nobody works on the task and its route is not yet used: a new hint routes it again. */
const REROUTABLE: readonly TaskStatus[] = ["routed", "retrying", "awaiting_approval"];

function decideEdit(task: Task, event: Extract<TaskEvent, { type: "edit" }>): Change {
  if (event.title !== undefined && event.title.trim() === "") throw new IllegalTransition(task, event, "a task needs a title");
  const hint = event.agent === undefined ? task.hint : withAgent(task.hint, event.agent);
  const hintChanged = JSON.stringify(hint ?? null) !== JSON.stringify(task.hint ?? null);
  const reroute = hintChanged && REROUTABLE.includes(task.status);
  const patch: Partial<Task> = { hint, ...(event.title === undefined ? {} : { title: event.title }), ...(event.body === undefined ? {} : { body: event.body }), ...(event.labels === undefined ? {} : { labels: [...event.labels] }) };
  if (reroute) Object.assign(patch, { route: undefined, retryAt: undefined });
  const texts = new Set([...(event.edited ?? []), ...(event.title === undefined ? [] : ["title"]), ...(event.body === undefined ? [] : ["body"])]);
  const changed = [texts.has("title") && "title", texts.has("body") && "body", event.labels !== undefined && "labels", hintChanged && (hint?.agent ? `agent ${hint.agent}` : "no agent")].filter((x): x is string => typeof x === "string");
  return { status: reroute ? "new" : task.status, patch, note: `edited: ${changed.join(", ") || "nothing"}${reroute ? "; routed again" : ""}` };
}

function withAgent(hint: RouteHint | undefined, agent: string | null): RouteHint | undefined {
  const { agent: _old, ...rest } = hint ?? {};
  const next: { agent?: string; profile?: string } = agent === null ? rest : { ...rest, agent };
  return next.agent === undefined && next.profile === undefined ? undefined : next;
}

/**
 * The state machine. Pure: returns the next task and the effects to perform, or throws
 * IllegalTransition and the caller's task is untouched. Every accepted event appends exactly one
 * history entry carrying the event's payload, the time, the actor and the trace id.
 */
export function transition(task: Task, input: TaskEvent, ctx: TransitionContext): TransitionResult {
  if (!Object.hasOwn(ACCEPTS, input.type)) throw new IllegalTransition(task, input, "unknown event type");
  if (!ACCEPTS[input.type].includes(task.status)) {
    const why = isTerminal(task.status) ? "the task is finished; only an explicit retry reopens it" : "not allowed from this status";
    throw new IllegalTransition(task, input, why);
  }
  // A plain-data copy: no undefined anywhere, no references to the caller's objects.
  const event = JSON.parse(JSON.stringify(input)) as TaskEvent;
  const change = decide(task, event, ctx);
  const { type, ...payload } = event;
  // An edit's new title and body are the task's content, not history (as at creation): the entry
  // keeps which changed, and a replay from the current content gives the same task.
  if (event.type === "edit") {
    const p = payload as Omit<Extract<TaskEvent, { type: "edit" }>, "type">;
    const edited = [...new Set([...(p.edited ?? []), ...(p.title === undefined ? [] : ["title" as const]), ...(p.body === undefined ? [] : ["body" as const])])];
    delete p.title;
    delete p.body;
    delete p.edited;
    if (edited.length > 0) p.edited = edited;
  }
  const entry: HistoryEvent = compact({
    at: ctx.now,
    type,
    from: task.status,
    to: change.status,
    by: ctx.by,
    attempt: change.attempt,
    traceId: ctx.traceId,
    note: change.note,
    data: Object.keys(payload).length > 0 ? payload : undefined,
  });
  const next: Task = compact({ ...task, ...change.patch, status: change.status, history: [...task.history, entry] });
  if (next.status !== "retrying") delete next.retryAt;
  // A review claim lives only while the task is in review (a review, a cancel or an escalation ends it).
  if (next.status !== "in_review") delete next.reviewClaim;
  return { task: next, effects: change.effects ?? [{ kind: "sync_task", class: "github", taskId: task.id }] };
}
