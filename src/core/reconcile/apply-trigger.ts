import { addTask } from "../ledger/create-task.ts";
import { replaceTask, requireTask } from "../ledger/ledger.ts";
import { isTerminal } from "../ledger/task.ts";
import { applyComment } from "./apply-comment.ts";
import type { Draft } from "./draft.ts";
import type { ReconcileInput, TriggerOutcome } from "./reconcile-types.ts";
import type { IssueEvent } from "./trigger.ts";
import type { TaskEvent } from "../ledger/events.ts";
import type { Task } from "../ledger/task.ts";
import { labelAgent } from "../routing/decide-route.ts";
import type { MainConfig } from "../config/main-config.ts";
import { authorizeCommenter } from "../commands/authorize.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { openedByRouter } from "../sync/task-links.ts";

/** The trigger's own change to the ledger. */
export function applyTrigger(d: Draft, input: ReconcileInput): TriggerOutcome {
  const t = input.trigger;
  switch (t.kind) {
    case "cli": {
      const c = t.command;
      switch (c.verb) {
        case "add": {
          const added = addTask(d.ledger, { source: { kind: "cli" }, title: c.title, body: c.body, labels: c.labels, maxAttempts: input.config.execution.maxAttempts, ...(c.hint ? { hint: c.hint } : {}) }, input.ctx);
          d.ledger = added.ledger;
          d.lines.push(`task ${added.task.id} created: ${c.title.slice(0, 60)}`);
          return { kind: "created", task: added.task };
        }
        case "route":
        case "run":
          requireTask(d.ledger, c.taskId);
          return { kind: "none" };
        case "retry":
          return d.move(c.taskId, { type: "retry", ...(c.agent ? { agent: c.agent } : {}) }, `task ${c.taskId} reopened${c.agent ? ` for ${c.agent}` : ""}`);
        case "approve":
          return d.move(c.taskId, { type: "approve" }, `task ${c.taskId} approved`);
        case "cancel":
          return d.move(c.taskId, { type: "cancel", ...(c.reason ? { reason: c.reason } : {}) }, `task ${c.taskId} cancelled`);
        case "next":
        case "serve":
          return { kind: "none" };
      }
      break;
    }
    case "issue":
      return applyIssue(d, input, t);
    case "comment":
      return applyComment(d, input, t);
    case "tick":
    case "work":
      return { kind: "none" };
  }
  return { kind: "none" };
}

/**
 * What an issue event does to the ledger, decided once for both the permission check (before the
 * plan) and the plan itself, so the two can never disagree.
 */
export type IssueIntent =
  | { kind: "ignore"; why: string }
  | { kind: "create" }
  | { kind: "close"; task: Task }
  | { kind: "reopen"; task: Task }
  | { kind: "edit"; task: Task; edit: EditEvent };

type EditEvent = Extract<TaskEvent, { type: "edit" }>;

export function issueIntent(ledger: Ledger, t: IssueEvent, config: MainConfig): IssueIntent {
  const n = t.issue.number;
  const existing = ledger.tasks.filter((task) => task.source.kind === "issue" && task.source.issue === n && task.parentId === undefined);
  const latest = existing.at(-1);
  const live = existing.find((task) => !isTerminal(task.status));
  const label = config.github.triggerLabel;
  if (t.action === "closed") return live ? { kind: "close", task: live } : { kind: "ignore", why: `no live task for issue #${n}` };
  if (live && (t.action === "edited" || t.action === "labeled" || t.action === "unlabeled")) {
    const edit = editOf(live, t);
    if (edit) return { kind: "edit", task: live, edit };
    if (t.action === "edited") return { kind: "ignore", why: `issue #${n} edited: neither its title nor its body changed` };
  }
  // Reopening an issue whose task was cancelled (closing the issue cancels it) takes the task up again.
  if (t.action === "reopened" && latest?.status === "cancelled" && t.issue.labels.includes(label)) return { kind: "reopen", task: latest };
  const starts = (t.action === "opened" || t.action === "labeled" || t.action === "reopened") && t.issue.labels.includes(label);
  if (!starts) return { kind: "ignore", why: `issue #${n} ${t.action} without the "${label}" label` };
  if (openedByRouter(ledger, t.issue)) return { kind: "ignore", why: `issue #${n} was opened by the router for another task` };
  if (latest) return { kind: "ignore", why: `issue #${n} already has task ${latest.id}` };
  return { kind: "create" };
}

/**
 * The change an issue event makes to its live task: for `edited`, the title and body that the
 * payload says changed (never the rest: a field someone else edited before stays as the task has
 * it); for a label event, the `agent:<name>` label. Other labels do not change a routed task.
 */
function editOf(task: Task, t: IssueEvent): EditEvent | undefined {
  const edit: EditEvent = { type: "edit" };
  if (t.action === "edited") {
    const title = t.issue.title.trim() || `Issue #${t.issue.number}`;
    if (t.changed?.includes("title") && title !== task.title) edit.title = title;
    if (t.changed?.includes("body") && t.issue.body !== task.body) edit.body = t.issue.body;
  } else if (t.label?.startsWith("agent:")) {
    const agent = labelAgent(t.issue.labels) ?? null;
    if (agent !== (task.hint?.agent ?? null)) edit.agent = agent;
    if (JSON.stringify(t.issue.labels) !== JSON.stringify(task.labels)) edit.labels = t.issue.labels;
  }
  return Object.keys(edit).length > 1 ? edit : undefined;
}

/** An issue event that needs its sender's permission: one that would make, change or reopen a task. */
export function issueWantsPermission(ledger: Ledger, t: IssueEvent, config: MainConfig): boolean {
  const intent = issueIntent(ledger, t, config).kind;
  return intent === "create" || intent === "edit" || intent === "reopen";
}

const DOING = { create: "start a task", edit: "change a task", reopen: "start a task" } as const;

/**
 * A labelled issue becomes a task (once per issue); a later edit of its title or body, or its
 * `agent:<name>` label, changes the live task; reopening the issue takes up its cancelled task;
 * closing it cancels the live task. All but closing need a sender with write access.
 */
function applyIssue(d: Draft, input: ReconcileInput, t: IssueEvent): TriggerOutcome {
  const n = t.issue.number;
  const intent = issueIntent(d.ledger, t, input.config);
  if (intent.kind === "ignore") return { kind: "ignored", why: intent.why };
  if (intent.kind === "close") return d.move(intent.task.id, { type: "cancel", reason: `issue #${n} was closed` }, `task ${intent.task.id} cancelled: issue closed`);
  const auth = authorizeCommenter(t.sender, input.commenter, input.config, DOING[intent.kind]);
  if (!auth.ok) return { kind: "refused", why: `${intent.kind === "create" ? "no task" : `task ${intent.task.id} unchanged`} for issue #${n}: ${auth.why}` };
  if (intent.kind === "edit") return d.move(intent.task.id, intent.edit, `task ${intent.task.id} edited from issue #${n}`);
  if (intent.kind === "reopen") return d.move(intent.task.id, { type: "retry" }, `task ${intent.task.id} reopened: issue #${n} reopened`);
  const agentLabel = labelAgent(t.issue.labels);
  const added = addTask(
    d.ledger,
    { source: { kind: "issue", issue: n }, title: t.issue.title.trim() || `Issue #${n}`, body: t.issue.body, labels: t.issue.labels, maxAttempts: input.config.execution.maxAttempts, ...(agentLabel ? { hint: { agent: agentLabel } } : {}) },
    input.ctx,
  );
  // The requester is remembered so that they cannot approve their own task (approvals.allowSelf).
  const task = { ...added.task, github: { issue: n, requester: { login: t.issue.author.login, id: t.issue.author.id } } };
  d.ledger = replaceTask(added.ledger, task);
  d.lines.push(`task ${task.id} created from issue #${n}`);
  return { kind: "created", task };
}
