import { addTask } from "../ledger/create-task.ts";
import { replaceTask, requireTask } from "../ledger/ledger.ts";
import { isTerminal } from "../ledger/task.ts";
import { applyComment } from "./apply-comment.ts";
import type { Draft } from "./draft.ts";
import type { ReconcileInput, TriggerOutcome } from "./reconcile-types.ts";
import type { IssueEvent, Trigger } from "./trigger.ts";
import type { MainConfig } from "../config/main-config.ts";
import { authorizeCommenter } from "../commands/authorize.ts";
import type { Ledger } from "../ledger/ledger.ts";

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

/** An issue event that would make a task (the sender's permission is then asked for first). */
export function issueWantsPermission(ledger: Ledger, t: IssueEvent, config: MainConfig): boolean {
  return issueWantsTask(t, config.github.triggerLabel) && !ledger.tasks.some((task) => task.source.kind === "issue" && task.source.issue === t.issue.number && task.parentId === undefined);
}

function issueWantsTask(t: IssueEvent, label: string): boolean {
  return (t.action === "opened" || t.action === "labeled" || t.action === "reopened") && t.issue.labels.includes(label);
}

/** A labelled issue becomes a task (once per issue, for a sender with write access); closing the issue cancels its live task. */
function applyIssue(d: Draft, input: ReconcileInput, t: Extract<Trigger, { kind: "issue" }>): TriggerOutcome {
  const existing = d.ledger.tasks.filter((task) => task.source.kind === "issue" && task.source.issue === t.issue.number && task.parentId === undefined);
  const live = existing.find((task) => !isTerminal(task.status));
  const label = input.config.github.triggerLabel;
  if (t.action === "closed") {
    if (!live) return { kind: "ignored", why: `no live task for issue #${t.issue.number}` };
    return d.move(live.id, { type: "cancel", reason: `issue #${t.issue.number} was closed` }, `task ${live.id} cancelled: issue closed`);
  }
  if (!issueWantsTask(t, label)) return { kind: "ignored", why: `issue #${t.issue.number} ${t.action} without the "${label}" label` };
  if (existing.length > 0) return { kind: "ignored", why: `issue #${t.issue.number} already has task ${existing.at(-1)!.id}` };
  const auth = authorizeCommenter(t.sender, input.commenter, input.config, "start a task");
  if (!auth.ok) return { kind: "refused", why: `no task for issue #${t.issue.number}: ${auth.why}` };
  const agentLabel = t.issue.labels.find((l) => l.startsWith("agent:"))?.slice("agent:".length);
  const added = addTask(
    d.ledger,
    { source: { kind: "issue", issue: t.issue.number }, title: t.issue.title.trim() || `Issue #${t.issue.number}`, body: t.issue.body, labels: t.issue.labels, maxAttempts: input.config.execution.maxAttempts, ...(agentLabel ? { hint: { agent: agentLabel } } : {}) },
    input.ctx,
  );
  // The requester is remembered so that they cannot approve their own task (approvals.allowSelf).
  const task = { ...added.task, github: { issue: t.issue.number, requester: { login: t.issue.author.login, id: t.issue.author.id } } };
  d.ledger = replaceTask(added.ledger, task);
  d.lines.push(`task ${task.id} created from issue #${t.issue.number}`);
  return { kind: "created", task };
}
