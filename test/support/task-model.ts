/**
 * An independent, deliberately small model of the task state machine, written from DESIGN.md
 * ("Task and state machine") for property tests. It does not import ACCEPTS or any logic from
 * src/core/ledger/transition.ts: it only shares the types. It predicts, for an event, whether the
 * real reducer must accept or refuse it and, when accepted, the next status and attempt summary.
 */
import type { TaskEvent, TaskEventType } from "../../src/core/ledger/events.ts";
import type { AttemptOutcome, TaskStatus } from "../../src/core/ledger/task.ts";

export const ALL_STATUSES: readonly TaskStatus[] = [
  "new", "routed", "awaiting_approval", "running", "waiting", "in_review", "retrying", "needs_help", "done", "failed", "cancelled",
];
export const MODEL_TERMINAL: readonly TaskStatus[] = ["done", "failed", "cancelled"];
const LIVE: readonly TaskStatus[] = ALL_STATUSES.filter((s) => !MODEL_TERMINAL.includes(s));

export const ALL_EVENT_TYPES: readonly TaskEventType[] = [
  "route", "require_approval", "approve", "reject", "start", "heartbeat", "finish", "fail", "lease_expired", "release",
  "children_settled", "review", "answer", "escalate", "cancel", "retry", "stale_result", "edit",
];

/**
 * Which statuses accept which event type, as the design describes them:
 * - a task can be (re-)routed while nobody is working on it and it is not finished;
 * - an approval gate sits between routed (or retrying, once an approval expired) and a run;
 *   approve/reject act on it; approving done work records the approval and stays done
 *   (reject also closes a task whose result is awaiting review);
 * - an agent starts only on a routed task or one waiting to retry;
 * - only a running attempt heartbeats, finishes, fails, loses its lease or is released (a worker
 *   that stops without a result gives the task back; that attempt never counts as a failure);
 * - a parent in `waiting` resumes when its children settle; `in_review` takes a review;
 *   `needs_help` takes an answer;
 * - a task nobody works on can be escalated to a person (needs_help) before any attempt;
 * - anything not finished can be cancelled; terminal states (and needs_help) reopen only by retry,
 *   which also makes a task waiting to retry due now;
 * - a stale result is recorded in every status and changes nothing;
 * - a person may edit a task that is not finished; when the agent hint changes while the route is
 *   not in use (routed, retrying, awaiting approval) the task loses its route and is routed again
 *   (status new); otherwise the status stays.
 */
export const MODEL_ACCEPTS: { readonly [K in TaskEventType]: readonly TaskStatus[] } = {
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
  cancel: LIVE,
  retry: [...MODEL_TERMINAL, "needs_help", "retrying"],
  stale_result: ALL_STATUSES,
  edit: LIVE,
};

export interface ModelAttempt {
  key: string;
  open: boolean;
  outcome?: AttemptOutcome;
  errorClass?: string;
  error?: string;
}

export interface ModelState {
  status: TaskStatus;
  maxAttempts: number;
  /** 1-based attempt number from which failures count. */
  budgetFrom: number;
  hasRoute: boolean;
  /** The agent named by the task's hint, if any. */
  hintAgent?: string;
  /** Content set by the last edits; absent: as created. */
  title?: string;
  body?: string;
  labels?: readonly string[];
  attempts: ModelAttempt[];
  children: ReadonlySet<number>;
}

export type Prediction =
  | { accepted: false; why: string }
  | { accepted: true; next: ModelState };

export function initialModel(maxAttempts: number): ModelState {
  return { status: "new", maxAttempts, budgetFrom: 1, hasRoute: false, attempts: [], children: new Set() };
}

/** Attempts that count against the current budget. */
function inBudget(state: ModelState, attempts = state.attempts): ModelAttempt[] {
  return attempts.slice(state.budgetFrom - 1);
}

/** An attempt "failed" when it ended with anything but success. */
export function modelFailures(state: ModelState, attempts = state.attempts): number {
  return inBudget(state, attempts).filter((a) => !a.open && a.outcome !== "success" && a.outcome !== "released").length;
}

function refuse(why: string): Prediction {
  return { accepted: false, why };
}

function accept(state: ModelState, patch: Partial<ModelState>): Prediction {
  return { accepted: true, next: { ...state, ...patch } };
}

/** After a failed attempt: ask a person when the same error repeated 3 times, give up when out of budget or not retryable, else retry. */
function statusAfterFailure(state: ModelState, attempts: ModelAttempt[], retryable: boolean, needsHelp = false): TaskStatus {
  const recent = inBudget(state, attempts)
    .filter((a) => a.outcome !== "released")
    .slice(-3);
  const repeated =
    recent.length === 3 &&
    recent.every((a) => a.outcome !== "success" && a.errorClass === recent[0]?.errorClass && a.error === recent[0]?.error);
  if (needsHelp) return "needs_help";
  if (!retryable) return "failed";
  if (repeated) return "needs_help";
  if (modelFailures(state, attempts) >= state.maxAttempts) return "failed";
  return "retrying";
}

function openAttempt(state: ModelState, key: string): ModelAttempt | string {
  const last = state.attempts.at(-1);
  if (!last?.open) return "no attempt in progress";
  if (last.key !== key) return "key mismatch";
  return last;
}

function closeLast(state: ModelState, closed: ModelAttempt): ModelAttempt[] {
  return [...state.attempts.slice(0, -1), closed];
}

/** Predicts what the state machine must do with `event` in `state`. */
export function modelStep(state: ModelState, event: TaskEvent): Prediction {
  if (!MODEL_ACCEPTS[event.type].includes(state.status)) return refuse(`status ${state.status} does not accept ${event.type}`);
  switch (event.type) {
    case "route":
      // re-routing never skips an approval gate; re-routing a task that asked for help resets its budget
      if (state.status === "awaiting_approval") return accept(state, { hasRoute: true });
      if (state.status === "needs_help") return accept(state, { status: "routed", hasRoute: true, budgetFrom: state.attempts.length + 1 });
      return accept(state, { status: "routed", hasRoute: true });
    case "require_approval":
      return accept(state, { status: "awaiting_approval" });
    case "approve":
      // approving done work (a held pull request) leaves it done
      return accept(state, { status: state.status === "done" ? "done" : "routed" });
    case "reject":
      return accept(state, { status: "cancelled" });
    case "start":
      if (!state.hasRoute) return refuse("no route");
      if (modelFailures(state) >= state.maxAttempts) return refuse("budget spent");
      if (state.attempts.some((a) => a.key === event.key)) return refuse("key reused");
      return accept(state, { status: "running", attempts: [...state.attempts, { key: event.key, open: true }] });
    case "heartbeat": {
      const attempt = openAttempt(state, event.key);
      return typeof attempt === "string" ? refuse(attempt) : accept(state, {});
    }
    case "finish": {
      const attempt = openAttempt(state, event.key);
      if (typeof attempt === "string") return refuse(attempt);
      const added = (event.children ?? []).filter((c) => !state.children.has(c));
      if (event.outcome === "delegate" && added.length === 0) return refuse("delegation without children");
      const children = event.outcome === "delegate" ? new Set([...state.children, ...added]) : state.children;
      const status: TaskStatus =
        event.outcome === "done" ? "done" : event.outcome === "needs_help" ? "needs_help" : event.outcome === "delegate" ? "waiting" : "in_review";
      return accept(state, { status, children, attempts: closeLast(state, { key: attempt.key, open: false, outcome: "success" }) });
    }
    case "fail": {
      const attempt = openAttempt(state, event.key);
      if (typeof attempt === "string") return refuse(attempt);
      const outcome: AttemptOutcome = event.errorClass === "timeout" ? "timeout" : "failure";
      const attempts = closeLast(state, { key: attempt.key, open: false, outcome, errorClass: event.errorClass, error: event.error });
      return accept(state, { status: statusAfterFailure(state, attempts, event.retryable, event.needsHelp === true), attempts });
    }
    case "release": {
      const attempt = openAttempt(state, event.key);
      if (typeof attempt === "string") return refuse(attempt);
      return accept(state, { status: "routed", attempts: closeLast(state, { key: attempt.key, open: false, outcome: "released", error: event.reason }) });
    }
    case "lease_expired": {
      const attempt = openAttempt(state, event.key);
      if (typeof attempt === "string") return refuse(attempt);
      const attempts = closeLast(state, {
        key: attempt.key,
        open: false,
        outcome: "lease_expired",
        errorClass: "lease_expired",
        error: "the worker stopped renewing its lease",
      });
      return accept(state, { status: statusAfterFailure(state, attempts, true), attempts });
    }
    case "children_settled":
      return accept(state, { status: "routed" });
    case "review":
      return accept(state, { status: event.decision === "approve" ? "done" : event.needsHelp === true ? "needs_help" : "retrying" });
    case "escalate":
      return accept(state, { status: "needs_help" });
    case "answer":
      return accept(state, { status: state.hasRoute ? "routed" : "new", budgetFrom: state.attempts.length + 1 });
    case "cancel": {
      const last = state.attempts.at(-1);
      const attempts = last?.open ? closeLast(state, { key: last.key, open: false, outcome: "cancelled" }) : state.attempts;
      return accept(state, { status: "cancelled", attempts });
    }
    case "retry":
      return accept(state, { status: state.hasRoute ? "routed" : "new", budgetFrom: state.attempts.length + 1 });
    case "stale_result":
      return accept(state, {});
    case "edit": {
      if (event.title !== undefined && event.title.trim() === "") return refuse("empty title");
      const content: Partial<ModelState> = {
        ...(event.title === undefined ? {} : { title: event.title }),
        ...(event.body === undefined ? {} : { body: event.body }),
        ...(event.labels === undefined ? {} : { labels: event.labels }),
      };
      const hintAgent = event.agent === undefined ? state.hintAgent : (event.agent ?? undefined);
      if (hintAgent === state.hintAgent) return accept(state, content);
      const idle = state.status === "routed" || state.status === "retrying" || state.status === "awaiting_approval";
      return accept(state, idle ? { ...content, hintAgent, status: "new", hasRoute: false } : { ...content, hintAgent });
    }
  }
}
