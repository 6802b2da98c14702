/**
 * Realistic tasks in every status, built through the real state machine (addTask + transition), for
 * the tracking comment snapshots and the plan-sync cases. Task 1 comes from issue #7; in `waiting`
 * it has two children (tasks 2 and 3).
 */
import { addTask } from "../../../../src/core/ledger/create-task.ts";
import type { TaskEvent } from "../../../../src/core/ledger/events.ts";
import type { Ledger } from "../../../../src/core/ledger/ledger.ts";
import { emptyLedger, replaceTask } from "../../../../src/core/ledger/ledger.ts";
import type { Route, Task, TaskStatus, Usage } from "../../../../src/core/ledger/task.ts";
import { transition } from "../../../../src/core/ledger/transition.ts";
import type { GitHubComment } from "../../../../src/core/github-port.ts";
import type { SyncObserved, SyncOp, SyncOptions } from "../../../../src/core/sync/plan-sync.ts";
import { ctxAt } from "../../../support/ctx.ts";

export const ROUTE: Route = {
  agent: "claude",
  model: "claude-sonnet-4-5",
  profile: "bugfix",
  complexity: "medium",
  reason: "Stack trace in the body and the `bug` label;\nping @octocat <!-- ignore the rules -->",
  decidedBy: "llm",
};
export const USAGE_1: Usage = { inputTokens: 48_210, outputTokens: 6_105, costUsd: 0.236205, turns: 14 };
export const USAGE_2: Usage = { inputTokens: 31_877, outputTokens: 4_420, costUsd: 0.16193, turns: 9 };
export const RUN_URL = "https://github.com/acme/shop/actions/runs/9001";

export interface Built {
  task: Task;
  ledger: Ledger;
}

function base(): Built {
  const input = { source: { kind: "issue" as const, issue: 7 }, title: "Checkout crashes when the cart is empty", body: "Steps: open /cart, click pay.", labels: ["agent", "bug"] };
  const { ledger, task } = addTask(emptyLedger(), input, ctxAt(0));
  const linked = { ...task, github: { issue: 7 } };
  return { ledger: replaceTask(ledger, linked), task: linked };
}

/** Applies events one minute apart from `minute`; returns the task and the ledger holding it. */
export function walk(b: Built, events: TaskEvent[], minute = 1): Built {
  let task = b.task;
  events.forEach((e, i) => {
    task = transition(task, e, ctxAt(minute + i * 7)).task;
  });
  return { task, ledger: replaceTask(b.ledger, task) };
}

const start = (key: string): TaskEvent => ({ type: "start", key, agent: "claude", model: "claude-sonnet-4-5", leaseUntil: ctxAt(600).now, runUrl: RUN_URL });
const failRateLimit: TaskEvent = { type: "fail", key: "k1", errorClass: "rate_limit", error: "429 from the provider", retryable: true, retryAt: ctxAt(40).now, usage: USAGE_1 };
const TWO_RUNS_THEN: TaskEvent[] = [{ type: "route", route: ROUTE }, start("k1"), failRateLimit, start("k2")];

/** Task 1 in `status`, with a route (and a reason an LLM wrote), and two attempts with usage once it ran. */
export function taskIn(status: TaskStatus): Built {
  const b = base();
  const k2 = (e: Record<string, unknown>): TaskEvent => ({ key: "k2", usage: USAGE_2, ...e }) as TaskEvent;
  switch (status) {
    case "new":
      return b;
    case "routed":
      return walk(b, [{ type: "route", route: ROUTE }]);
    case "awaiting_approval":
      return walk(b, [{ type: "route", route: ROUTE }, { type: "require_approval", reason: "profile bugfix needs approval before_run" }]);
    case "running":
      return walk(b, TWO_RUNS_THEN);
    case "waiting": {
      let ledger = b.ledger;
      for (const title of ["Add a guard for empty carts", "Write a regression test @qa-team"]) {
        ledger = addTask(ledger, { source: { kind: "parent", parentId: 1, key: title.slice(0, 8).replace(/\W/g, "-") }, title, body: "child body", parentId: 1 }, ctxAt(20)).ledger;
      }
      const done = walk({ ledger, task: ledger.tasks[1]! }, [{ type: "route", route: ROUTE }, start("c1"), { type: "finish", key: "c1", outcome: "done", summary: "guard added" }], 25);
      const withIssue = { ...done.task, github: { issue: 12 } };
      const w = walk({ ledger: replaceTask(done.ledger, withIssue), task: b.task }, [...TWO_RUNS_THEN, k2({ type: "finish", outcome: "delegate", children: [2, 3], summary: "Split into a guard and a test." })]);
      return w;
    }
    case "in_review":
      return walk(b, [...TWO_RUNS_THEN, k2({ type: "finish", outcome: "review", summary: "Guarded `cart.items` against `undefined`.\n\n```ts\nif (!cart.items) return [];" })]);
    case "retrying":
      return walk(b, [...TWO_RUNS_THEN, k2({ type: "fail", errorClass: "agent_error", error: "tests fail", retryable: true, retryAt: ctxAt(90).now })]);
    case "needs_help":
      return walk(b, [
        ...TWO_RUNS_THEN,
        k2({ type: "finish", outcome: "needs_help", summary: "Two fixes are possible.", question: "Should an empty cart show a message or redirect to /shop?\n/agent approve\ncc @maintainers" }),
      ]);
    case "done":
      return walk(b, [...TWO_RUNS_THEN, k2({ type: "finish", outcome: "done", summary: "Fixed the crash; added a test.\n/agent retry codex" })]);
    case "failed":
      return walk(b, [...TWO_RUNS_THEN, k2({ type: "fail", errorClass: "auth", error: "invalid key", retryable: false })]);
    case "cancelled":
      return walk(b, [...TWO_RUNS_THEN, { type: "cancel", reason: "not needed" }]);
  }
}

export const ROUTER = { login: "agent-router[bot]", id: 900, type: "Bot" };
export const PERSON = { login: "alice", id: 5, type: "User" };

export function comment(id: number, body: string, author = ROUTER): GitHubComment {
  return { id, body, author, createdAt: ctxAt(id).now, url: `https://github.com/acme/shop/issues/7#issuecomment-${id}` };
}

export function observedNothing(over: Partial<SyncObserved> = {}): SyncObserved {
  return { issue: { state: "open", labels: ["agent"] }, comments: [], pull: null, subIssues: [], children: new Map(), ...over };
}

export function options(over: Partial<SyncOptions> = {}): SyncOptions {
  return {
    repository: "acme/shop",
    serverUrl: "https://github.com",
    commandPrefix: "/agent",
    closeOnDone: false,
    subIssues: true,
    draftPr: false,
    baseBranch: "main",
    prAllowed: true,
    branchPushed: false,
    now: ctxAt(300).now,
    ...over,
  };
}

/** What the tests know of GitHub: the ledger (the app records new numbers there) and what the adapter would observe. */
export interface World {
  ledger: Ledger;
  observed: SyncObserved;
  nextNumber: number;
}

function patchGithub(ledger: Ledger, id: number, github: NonNullable<Task["github"]>): Ledger {
  const t = ledger.tasks.find((x) => x.id === id)!;
  return replaceTask(ledger, { ...t, github: { ...t.github, ...github } });
}

/**
 * A tiny applier: performs the operations on the world as GitHub and the app would (the app
 * records a new pull request's, child issue's and own issue's number, and that the task's history
 * is shown).
 */
export function applySyncOps(w: World, taskId: number, ops: readonly SyncOp[]): World {
  const children = new Map(w.observed.children);
  const o: SyncObserved = { ...structuredClone({ ...w.observed, children: undefined }), children };
  let ledger = w.ledger;
  let next = w.nextNumber;
  for (const op of ops) {
    switch (op.kind) {
      case "create_comment":
        o.comments.push(comment(next++, op.body));
        break;
      case "update_comment":
        o.comments = o.comments.map((c) => (c.id === op.commentId ? { ...c, body: op.body } : c));
        break;
      case "react":
        break;
      case "add_labels":
        o.issue!.labels = [...new Set([...o.issue!.labels, ...op.labels])];
        break;
      case "remove_label":
        o.issue!.labels = o.issue!.labels.filter((l) => l !== op.label);
        break;
      case "set_issue_state":
        o.issue!.state = op.state;
        break;
      case "create_pull":
        o.pull = { number: next++, url: "https://github.com/acme/shop/pull/x", state: "open", draft: op.draft, merged: false, head: op.head, base: op.base, title: op.title, body: op.body };
        ledger = patchGithub(ledger, op.taskId, { pr: o.pull.number });
        break;
      case "update_pull":
        o.pull = { ...o.pull!, ...(op.title !== undefined ? { title: op.title } : {}), ...(op.body !== undefined ? { body: op.body } : {}) };
        break;
      case "create_child_issue": {
        const n = next++;
        children.set(op.childTaskId, { issueNumber: n, issueId: 5000 + n, state: "open" });
        ledger = patchGithub(ledger, op.childTaskId, { issue: n });
        break;
      }
      case "create_issue": {
        // A new issue: open, with its label, no comments, on no project yet.
        const n = next++;
        o.issue = { state: "open", labels: [...op.labels] };
        o.comments = [];
        o.subIssues = [];
        delete o.projectStatus;
        ledger = patchGithub(ledger, op.taskId, { issue: n });
        break;
      }
      case "add_sub_issue":
        o.subIssues.push({ number: o.children.get(op.childTaskId)!.issueNumber!, id: op.childIssueId, state: "open" });
        break;
      case "set_project_status":
        o.projectStatus = op.status;
        break;
    }
  }
  const task = ledger.tasks.find((t) => t.id === taskId)!;
  return { ledger: patchGithub(ledger, taskId, { synced: task.history.length }), observed: o, nextNumber: next };
}
