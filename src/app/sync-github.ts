import type { GitHub, GitHubComment, GitHubPull } from "../core/github-port.ts";
import { approvedForPr } from "../core/ledger/approval.ts";
import type { Effect } from "../core/ledger/events.ts";
import type { Ledger } from "../core/ledger/ledger.ts";
import { findTask } from "../core/ledger/ledger.ts";
import type { GitHubLinks, Task, TaskStatus } from "../core/ledger/task.ts";
import type { MarkerQuery } from "../core/sync/markers.ts";
import { findMarked, parseMarker, SINGLE_KEY, taskMarker } from "../core/sync/markers.ts";
import { capComment, sanitizeOutbound } from "../core/sync/outbound.ts";
import { linkAllowList } from "../core/sync/outbound-links.ts";
import type { SyncObserved, SyncOp, SyncOptions } from "../core/sync/plan-sync.ts";
import { planSync } from "../core/sync/plan-sync.ts";
import { issueOf, taskBranch } from "../core/sync/task-links.ts";
import type { GitHubIo, ReconcileDeps } from "./app-deps.ts";
import { ensureChildIssue } from "./child-issues.ts";
import { logOf } from "./app-deps.ts";

/** What one sync round found out, to be written back to the ledger (links, and how much of the history GitHub shows). */
export type LinkPatches = Map<number, Partial<GitHubLinks>>;

export interface SyncRound {
  /** Dry run: what a real run would do, one line per operation. */
  plan: string[];
  patches: LinkPatches;
  failures: { taskId: number; error: string }[];
}

/** Statuses whose task branch may hold work for a pull request (the only ones that look for one). */
const MAY_HAVE_CODE = new Set(["in_review", "done", "needs_help"]);

/** A task whose GitHub mirror is behind its history (a failed or skipped sync is retried by the next reconcile). */
export function needsSync(task: Task): boolean {
  return (issueOf(task) !== undefined || task.children.length > 0) && (task.github?.synced ?? 0) < task.history.length;
}

/**
 * Brings GitHub to each task's desired state (`planSync`), then performs the comment effects
 * (replies, reactions). Look-before-create everywhere: a creating POST that failed is followed by a
 * look for its marker, so a lost response never makes a second comment. One task's failure does
 * not stop the others; its `synced` stays behind, so the next reconcile tries again.
 */
export async function syncGitHub(deps: ReconcileDeps, gh: GitHubIo, ledger: Ledger, taskIds: readonly number[], effects: readonly Effect[], dryRun: boolean): Promise<SyncRound> {
  const log = logOf(deps);
  const round: SyncRound = { plan: [], patches: new Map(), failures: [] };
  for (const id of taskIds) {
    const task = findTask(ledger, id);
    if (!task) continue;
    try {
      await syncTask(deps, gh, ledger, task, round, dryRun);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      log.warn("GitHub sync failed; the next reconcile tries again", { taskId: id, error });
      round.failures.push({ taskId: id, error });
    }
  }
  for (const e of effects) {
    if (e.kind !== "reply" && e.kind !== "react") continue;
    if (dryRun) {
      round.plan.push(e.kind === "reply" ? `would reply to comment ${e.commentId} on #${e.issue}` : `would react ${e.content} to comment ${e.commentId} on #${e.issue}`);
      continue;
    }
    try {
      if (e.kind === "react") await gh.api.react({ comment: e.commentId }, e.content);
      else {
        const marker = { taskId: e.taskId ?? 0, kind: "reply" as const, key: String(e.commentId), ...authorOf(gh.accountId) };
        await ensureComment(gh.api, e.issue, marker, `${taskMarker(marker)}\n${sanitizeOutbound(e.text, { maxChars: 60_000, allowedHosts: linkAllowList(gh.serverUrl, deps.config.github.allowedLinkHosts) })}`);
      }
    } catch (err) {
      log.warn("could not answer a comment", { commentId: e.commentId, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return round;
}

async function syncTask(deps: ReconcileDeps, gh: GitHubIo, ledger: Ledger, task: Task, round: SyncRound, dryRun: boolean): Promise<void> {
  const { config } = deps;
  const now = deps.clock.now().toISOString();
  const issue = issueOf(task);
  const api = gh.api;
  const mayHaveCode = MAY_HAVE_CODE.has(task.status) && task.attempts.length > 0;
  const branch = taskBranch(task);
  const [observedIssue, comments, pull, branchHead] = await Promise.all([
    issue === undefined ? null : api.getIssue(issue),
    issue === undefined ? [] : api.listComments(issue).then((cs) => withoutForgedMarkers(cs, gh.accountId)),
    mayHaveCode ? api.findPull(branch) : null,
    mayHaveCode ? api.branchHead(branch) : null,
  ]);
  const subIssues = issue !== undefined && config.github.subIssues && task.children.length > 0 ? await api.listSubIssues(issue) : [];
  const children = new Map<number, { issueNumber?: number; issueId?: number; state?: "open" | "closed" }>();
  for (const childId of task.children) {
    const child = findTask(ledger, childId);
    const n = child ? issueOf(child) : undefined;
    if (n === undefined) continue;
    const linked = subIssues.find((s) => s.number === n);
    const found = linked ?? (await api.getIssue(n));
    if (found) children.set(childId, { issueNumber: n, issueId: found.id, state: found.state });
  }
  const profile = deps.routing.profiles.get(task.route?.profile ?? "");
  const options: SyncOptions = {
    repository: api.repository,
    serverUrl: gh.serverUrl,
    commandPrefix: config.github.commandPrefix,
    closeOnDone: config.github.closeOnDone,
    linkHosts: config.github.allowedLinkHosts,
    subIssues: config.github.subIssues,
    draftPr: config.github.draftPullRequests,
    baseBranch: await api.defaultBranch(),
    prAllowed: profile?.approval !== "before_pr" || approvedForPr(task, now, config.approvals.expireDays),
    branchPushed: branchHead !== null,
    ...(gh.runUrl ? { runUrl: gh.runUrl } : {}),
    ...(config.github.project ? { project: projectOptions(config.github.project) } : {}),
    now,
  };
  const observed: SyncObserved = { issue: observedIssue ? { state: observedIssue.state, labels: observedIssue.labels } : null, comments, pull, subIssues, children };
  let ops = planSync(task, ledger, observed, options);
  if (dryRun) {
    round.plan.push(...ops.map((op) => `would ${describeOp(op)}`));
    // The real run writes back how much of the history GitHub shows, even when nothing else changed.
    round.patches.set(task.id, { ...round.patches.get(task.id), synced: task.history.length });
    return;
  }
  const patch: Partial<GitHubLinks> = {};
  // The Projects status first: a token that cannot reach the project is a warning shown in the
  // tracking comment, so the comment is planned again with it.
  const project = ops.find((op) => op.kind === "set_project_status");
  if (project) {
    const warning = await setProjectStatus(api, project, patch);
    ops = planSync(task, ledger, observed, { ...options, ...(warning ? { warnings: [warning] } : {}) }).filter((op) => op.kind !== "set_project_status");
  }
  const pending = { value: false };
  for (const op of ops) await perform(deps, api, op, { comments, patch, round, parentIssue: issue, pending, accountId: gh.accountId });
  if (pull && task.github?.pr === undefined) patch.pr = pull.number;
  round.patches.set(task.id, { ...round.patches.get(task.id), ...patch, ...(pending.value ? {} : { synced: task.history.length }) });
}

/** What performing one task's operations shares: its comments, its link patch, the round, and its issue. */
interface TaskRound {
  comments: GitHubComment[];
  patch: Partial<GitHubLinks>;
  round: SyncRound;
  parentIssue: number | undefined;
  /** Set when something was left for another sync to finish: the task's `synced` then stays behind. */
  pending: { value: boolean };
  accountId: number | undefined;
}

async function perform(deps: ReconcileDeps, api: GitHub, op: SyncOp, { comments, patch, round, parentIssue, pending, accountId }: TaskRound): Promise<void> {
  switch (op.kind) {
    case "create_comment":
      patch.commentId = (await ensureComment(api, op.issue, { taskId: op.taskId, kind: "status", key: SINGLE_KEY, ...authorOf(accountId) }, op.body, comments)).id;
      return;
    case "update_comment":
      return api.updateComment(op.commentId, op.body);
    case "react":
      return api.react({ issue: op.issue }, op.content);
    case "add_labels":
      return api.addLabels(op.issue, op.labels);
    case "remove_label":
      return api.removeLabel(op.issue, op.label);
    case "set_issue_state":
      return api.setIssueState(op.issue, op.state, op.reason);
    case "create_pull":
      patch.pr = (await ensurePull(api, op)).number;
      return;
    case "update_pull":
      return api.updatePull(op.pull, { ...(op.title ? { title: op.title } : {}), ...(op.body ? { body: op.body } : {}) });
    case "create_child_issue": {
      const child = await ensureChildIssue(deps, api, op);
      // Another sync is creating it: this task is not in sync until it is linked.
      if (child === undefined) return void (pending.value = true);
      round.patches.set(op.childTaskId, { ...round.patches.get(op.childTaskId), issue: child.number });
      // Linked at once: the parent's next plan may be far off (it is in sync once this round ends).
      if (parentIssue !== undefined && deps.config.github.subIssues && child.id !== undefined) await api.addSubIssue(parentIssue, child.id);
      return;
    }
    case "add_sub_issue":
      return api.addSubIssue(op.issue, op.childIssueId);
    case "set_project_status":
      await setProjectStatus(api, op, patch);
      return;
  }
}

/** The default board columns of a GitHub Project, per task status; `statusMap` overrides any. */
const PROJECT_COLUMNS: Readonly<Record<TaskStatus, string>> = {
  new: "Todo",
  routed: "Todo",
  awaiting_approval: "Todo",
  needs_help: "Todo",
  running: "In Progress",
  waiting: "In Progress",
  in_review: "In Progress",
  retrying: "In Progress",
  done: "Done",
  failed: "Done",
  cancelled: "Done",
};

function projectOptions(p: NonNullable<ReconcileDeps["config"]["github"]["project"]>): NonNullable<SyncOptions["project"]> {
  return { owner: p.owner, number: p.number, field: p.statusField, statusFor: (s) => p.statusMap[s] ?? PROJECT_COLUMNS[s] };
}

/** Sets the issue's Projects status; the warning when the token or the project cannot do it. */
async function setProjectStatus(api: GitHub, op: Extract<SyncOp, { kind: "set_project_status" }>, patch: Partial<GitHubLinks>): Promise<string | undefined> {
  const issue = await api.getIssue(op.issue);
  if (!issue) return undefined;
  const r = await api.setProjectStatus({ owner: op.owner, number: op.number, field: op.field, issueNodeId: issue.nodeId, status: op.status });
  if (r.ok) patch.projectItemId = r.itemId;
  return r.ok ? undefined : r.warning;
}

const authorOf = (accountId: number | undefined): { authorId?: number } => (accountId === undefined ? {} : { authorId: accountId });

/**
 * The comments with a marker that the router's own account wrote, and every comment without one:
 * anyone can start a comment with a marker, and one the router took for its own would be edited
 * (or, when it may not, block the task's mirror). All of them when the account is not known.
 */
function withoutForgedMarkers(comments: GitHubComment[], accountId: number | undefined): GitHubComment[] {
  return accountId === undefined ? comments : comments.filter((c) => c.author.id === accountId || parseMarker(c.body) === null);
}

/**
 * A comment with this marker on its first line, created once: found among the issue's comments
 * (every page) first, and looked for again when the create failed (its response may have been lost
 * after GitHub made it), so a retry never duplicates it.
 */
async function ensureComment(api: GitHub, issue: number, marker: MarkerQuery & { key: string }, body: string, known?: GitHubComment[]): Promise<GitHubComment> {
  const mine = (cs: readonly GitHubComment[]): GitHubComment | undefined => findMarked(cs, marker);
  const existing = mine(known ?? (await api.listComments(issue)));
  if (existing) return existing;
  let created: GitHubComment;
  try {
    created = await api.createComment(issue, capComment(body));
  } catch (err) {
    const landed = mine(await api.listComments(issue));
    if (landed) return landed;
    throw err;
  }
  // Two writers that looked at once both created one: the oldest stays, and each deletes its own
  // if it is not the oldest, so they converge on exactly one whatever the interleaving.
  const oldest = mine(await api.listComments(issue));
  if (oldest && oldest.id !== created.id) {
    await api.deleteComment(created.id);
    return oldest;
  }
  return created;
}

/**
 * The task branch's pull request, opened once: a create that failed (another writer opened it a
 * moment earlier and GitHub answered 422 "already exists", or the response was lost after GitHub
 * made it) is followed by a look for the branch's pull request, which is then the one.
 */
async function ensurePull(api: GitHub, op: Extract<SyncOp, { kind: "create_pull" }>): Promise<GitHubPull> {
  try {
    return await api.createPull(op);
  } catch (err) {
    const landed = await api.findPull(op.head);
    if (landed && landed.state === "open") return landed;
    throw err;
  }
}

function describeOp(op: SyncOp): string {
  switch (op.kind) {
    case "create_comment":
      return `create the tracking comment of task ${op.taskId} on #${op.issue}`;
    case "update_comment":
      return `update the tracking comment ${op.commentId} of task ${op.taskId}`;
    case "add_labels":
      return `add ${op.labels.join(", ")} to #${op.issue}`;
    case "remove_label":
      return `remove ${op.label} from #${op.issue}`;
    case "create_pull":
      return `open a pull request from ${op.head} to ${op.base} for task ${op.taskId}`;
    default:
      return `${op.kind.replace(/_/g, " ")} for task ${op.taskId}`;
  }
}
