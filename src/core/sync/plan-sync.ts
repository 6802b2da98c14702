/**
 * The desired GitHub state of one task, as `ensure` operations against what was observed: the
 * tracking comment (found by its marker, edited only when its body changes), the status label,
 * the issue's open/closed state, the pull request, child sub-issues and the Projects status. Pure
 * and idempotent: once the operations are applied, planning again yields nothing, except what only
 * GitHub can tell (a new pull request's or child issue's number and id), which the next plan uses.
 *
 * Which tasks get what: a task with an issue (it came from one, or `github.issue` records one)
 * gets everything. A scheduled job's live task without one gets its own issue first
 * (`create_issue`, labelled `agent-router/job`; unless its job says `issue: false`), then
 * everything. A parent's child before its sub-issue exists has nowhere to put a comment, a label or
 * a pull request link, so it only gets its children's sub-issues. A CLI task without an issue gets
 * nothing: it never touches GitHub.
 */
import type { GitHubComment, GitHubPull } from "../github-port.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { findTask } from "../ledger/ledger.ts";
import type { Task, TaskStatus } from "../ledger/task.ts";
import { isTerminal, TASK_STATUSES } from "../ledger/task.ts";
import { findMarked } from "./markers.ts";
import { linkAllowList } from "./outbound-links.ts";
import { outboundTitle, renderChildIssueBody, renderJobIssueBody, renderPullBody } from "./sync-bodies.ts";
import type { RepoRef } from "./task-links.ts";
import { issueOf, taskBranch } from "./task-links.ts";
import { renderTrackingComment } from "./tracking-comment.ts";

/** Every operation names the task it was planned for (a child issue's: the parent; a task's own issue: the task). */
export type SyncOp =
  | { kind: "create_comment"; taskId: number; issue: number; body: string }
  | { kind: "update_comment"; taskId: number; commentId: number; body: string }
  | { kind: "react"; taskId: number; issue: number; content: "eyes" }
  | { kind: "add_labels"; taskId: number; issue: number; labels: string[] }
  | { kind: "remove_label"; taskId: number; issue: number; label: string }
  | { kind: "set_issue_state"; taskId: number; issue: number; state: "open" | "closed"; reason?: "completed" | "not_planned" }
  | { kind: "create_pull"; taskId: number; head: string; base: string; title: string; body: string; draft: boolean }
  | { kind: "update_pull"; taskId: number; pull: number; title?: string; body?: string }
  | { kind: "create_child_issue"; taskId: number; parentTaskId: number; childTaskId: number; title: string; body: string }
  | { kind: "create_issue"; taskId: number; title: string; body: string; labels: string[] }
  | { kind: "add_sub_issue"; taskId: number; issue: number; childTaskId: number; childIssueId: number }
  | { kind: "set_project_status"; taskId: number; issue: number; owner: string; number: number; field: string; status: string };

export interface ObservedChild {
  issueNumber?: number;
  /** The issue's database id (what `addSubIssue` takes). */
  issueId?: number;
  state?: "open" | "closed";
}

/** What the adapter read from GitHub for the task (every list through every page). */
export interface SyncObserved {
  /** null: the task has no issue, or it is gone (deleted, transferred). */
  issue: { state: "open" | "closed"; labels: string[] } | null;
  /** Every comment on the issue. */
  comments: GitHubComment[];
  /** The newest pull request from the task branch. */
  pull: GitHubPull | null;
  subIssues: { number: number; id: number; state: "open" | "closed" }[];
  /** By child task id. */
  children: ReadonlyMap<number, ObservedChild>;
  /** The issue's Projects status when the adapter read it; absent when not read (then it is always set: the call is idempotent). */
  projectStatus?: string | null;
}

export interface SyncOptions extends RepoRef {
  commandPrefix: string;
  closeOnDone: boolean;
  /** Mirror child tasks as sub-issues. */
  subIssues: boolean;
  draftPr: boolean;
  baseBranch: string;
  /** False while an approval before the pull request (profile `approval: before_pr`) is pending. */
  prAllowed: boolean;
  /** The task branch exists on GitHub. */
  branchPushed: boolean;
  runUrl?: string;
  warnings?: string[];
  now: string;
  project?: { owner: string; number: number; field: string; statusFor: (status: TaskStatus) => string | undefined };
  /** False when the task's scheduled job opts out of an issue (job `issue: false`); a job's task gets one otherwise. */
  jobIssue?: boolean;
  /** The router's own account id, when known: only its comments count as marked, so a person cannot plant a marker for it to edit. */
  routerAccountId?: number;
  /**
   * Hosts that links in agent text may point to besides GitHub's and `serverUrl`'s (config
   * `github.allowedLinkHosts`: `host` or `*.host`). Links elsewhere are replaced (outbound.ts).
   */
  linkHosts?: readonly string[];
}

export const STATUS_LABEL_PREFIX = "agent-router/";
/**
 * The label of the issue the router opens for a scheduled job's task. Under the router's prefix, so
 * a scheduled run's discovery of labelled issues leaves it alone like any issue that has a task; it
 * is not a status label, so the sync never removes it.
 */
export const JOB_ISSUE_LABEL = `${STATUS_LABEL_PREFIX}job`;
/** GitHub's limit on sub-issues per parent, closed ones included. */
export const MAX_SUB_ISSUES = 100;

export function statusLabel(status: TaskStatus): string {
  return `${STATUS_LABEL_PREFIX}${status}`;
}

const STATUS_LABELS: ReadonlySet<string> = new Set(TASK_STATUSES.map(statusLabel));

/** Only status labels are the router's to remove; other labels under the prefix are left alone. */
export function isStatusLabel(label: string): boolean {
  return STATUS_LABELS.has(label);
}

/** Bodies equal up to line endings and trailing blanks (the web editor saves CRLF; a needless edit costs a write). */
export function sameBody(observed: string, desired: string): boolean {
  return observed.replace(/\r\n?/g, "\n").trimEnd() === desired.replace(/\r\n?/g, "\n").trimEnd();
}

/** The task has work on its branch worth a pull request. */
function producedCode(task: Task): boolean {
  return task.status === "in_review" || task.status === "done" || (task.status === "needs_help" && task.attempts.length > 0);
}

/**
 * The first attempt started and GitHub has not been told yet (`github.synced` counts the history
 * entries already shown). Reactions cannot be read cheaply; this emits the eyes once per task.
 */
function firstStartUnsynced(task: Task): boolean {
  if (task.status !== "running" || task.attempts.length !== 1) return false;
  const start = task.history.findIndex((h) => h.type === "start");
  return start >= 0 && (task.github?.synced ?? 0) <= start;
}

/**
 * A person's issue closes when its task is done only with `closeOnDone`; an issue the router opened
 * for a scheduled job's run is the router's own and always closes (a failed run's stays open: that
 * is the one to look at), so a nightly job does not leave an issue per night.
 */
function issueState(task: Task, state: "open" | "closed", o: SyncOptions): Pick<Extract<SyncOp, { kind: "set_issue_state" }>, "state" | "reason"> | null {
  const closes = o.closeOnDone || task.source.kind === "job";
  if (state === "open" && closes && task.status === "done") return { state: "closed", reason: "completed" };
  if (state === "open" && closes && task.status === "cancelled") return { state: "closed", reason: "not_planned" };
  if (state === "closed" && !isTerminal(task.status)) return { state: "open" };
  return null;
}

function pullOps(task: Task, observed: SyncObserved, o: SyncOptions, links: readonly string[]): SyncOp[] {
  if (!o.branchPushed || !producedCode(task) || !o.prAllowed) return [];
  const title = outboundTitle(task.title, links);
  const body = renderPullBody(task, links);
  const pull = observed.pull;
  if (!pull) return [{ kind: "create_pull", taskId: task.id, head: taskBranch(task), base: o.baseBranch, title, body, draft: o.draftPr }];
  // A closed pull request was closed (or merged) by a person: reopening or replacing it is theirs to do.
  const titleDiffers = pull.title !== title;
  const bodyDiffers = !sameBody(pull.body, body);
  if (pull.state !== "open" || (!titleDiffers && !bodyDiffers)) return [];
  return [{ kind: "update_pull", taskId: task.id, pull: pull.number, ...(titleDiffers ? { title } : {}), ...(bodyDiffers ? { body } : {}) }];
}

function childOps(task: Task, ledger: Ledger, observed: SyncObserved, o: SyncOptions, parentIssue: number | undefined, links: readonly string[]): { ops: SyncOp[]; unlinked: number } {
  const ops: SyncOp[] = [];
  let unlinked = 0;
  if (!o.subIssues) return { ops, unlinked };
  let linked = observed.subIssues.length;
  for (const id of task.children) {
    const child = findTask(ledger, id);
    if (!child) continue;
    const seen = observed.children.get(id);
    const childIssue = seen?.issueNumber ?? issueOf(child);
    if (childIssue === undefined) {
      // A child that finished before it was mirrored is not worth a new issue.
      if (!isTerminal(child.status)) {
        ops.push({ kind: "create_child_issue", taskId: task.id, parentTaskId: task.id, childTaskId: id, title: outboundTitle(child.title, links), body: renderChildIssueBody(child, task, links) });
      }
    } else if (parentIssue !== undefined && seen?.issueId !== undefined && !observed.subIssues.some((s) => s.id === seen.issueId)) {
      if (linked >= MAX_SUB_ISSUES) unlinked++;
      else {
        linked++;
        ops.push({ kind: "add_sub_issue", taskId: task.id, issue: parentIssue, childTaskId: id, childIssueId: seen.issueId });
      }
    }
  }
  return { ops, unlinked };
}

/**
 * The task gets an issue of its own from the sync: a scheduled job's live task that has none, unless
 * its job opts out. One that ended before it was mirrored (a ledger from before job issues) is not
 * worth a new issue, as for a child.
 */
export function wantsOwnIssue(task: Task, jobIssue = true): boolean {
  return jobIssue && task.source.kind === "job" && issueOf(task) === undefined && !isTerminal(task.status);
}

/** The operations that bring GitHub to the task's desired state; [] when it is there. */
export function planSync(task: Task, ledger: Ledger, observed: SyncObserved, o: SyncOptions): SyncOp[] {
  const number = issueOf(task);
  if (number === undefined && task.source.kind === "cli") return [];
  const issue = number !== undefined && observed.issue !== null ? { number, ...observed.issue } : undefined;
  const links = linkAllowList(o.serverUrl, o.linkHosts);
  const children = childOps(task, ledger, observed, o, issue?.number, links);
  if (!issue && wantsOwnIssue(task, o.jobIssue)) {
    // Its children's issues wait for it, so they are linked as its sub-issues.
    return [{ kind: "create_issue", taskId: task.id, title: outboundTitle(task.title, links), body: renderJobIssueBody(task, links), labels: [JOB_ISSUE_LABEL] }];
  }
  if (!issue) return children.ops;

  const ops: SyncOp[] = [];
  const id = task.id;
  const held = o.branchPushed && producedCode(task) && !o.prAllowed && !observed.pull;
  const shown = observed.pull && task.github?.pr === undefined ? { ...task, github: { ...task.github, pr: observed.pull.number } } : task;
  const warnings = [...(o.warnings ?? [])];
  if (children.unlinked > 0) warnings.push(`${children.unlinked} child issue(s) are not linked as sub-issues: GitHub allows ${MAX_SUB_ISSUES} per issue. The checklist above lists every child.`);
  const body = renderTrackingComment(shown, ledger, { ...o, warnings, prHeld: held });
  const comment = findMarked(observed.comments, { taskId: id, kind: "status", ...(o.routerAccountId !== undefined ? { authorId: o.routerAccountId } : {}) });
  if (!comment) ops.push({ kind: "create_comment", taskId: id, issue: issue.number, body });
  else if (!sameBody(comment.body, body)) ops.push({ kind: "update_comment", taskId: id, commentId: comment.id, body });

  if (firstStartUnsynced(task)) ops.push({ kind: "react", taskId: id, issue: issue.number, content: "eyes" });

  // Add the new status label before removing the old: never a moment without one (or a lost add).
  const want = statusLabel(task.status);
  if (!issue.labels.includes(want)) ops.push({ kind: "add_labels", taskId: id, issue: issue.number, labels: [want] });
  for (const label of issue.labels) if (label !== want && isStatusLabel(label)) ops.push({ kind: "remove_label", taskId: id, issue: issue.number, label });

  const state = issueState(task, issue.state, o);
  if (state) ops.push({ kind: "set_issue_state", taskId: id, issue: issue.number, ...state });

  ops.push(...pullOps(task, observed, o, links), ...children.ops);

  const status = o.project?.statusFor(task.status);
  if (o.project && status !== undefined && observed.projectStatus !== status) {
    ops.push({ kind: "set_project_status", taskId: id, issue: issue.number, owner: o.project.owner, number: o.project.number, field: o.project.field, status });
  }
  return ops;
}
