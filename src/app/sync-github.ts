import type { GitHub, GitHubComment, GitHubIssue } from "../core/github-port.ts";
import { approvedForPr } from "../core/ledger/approval.ts";
import type { Effect } from "../core/ledger/events.ts";
import type { Ledger } from "../core/ledger/ledger.ts";
import { findTask, replaceTask } from "../core/ledger/ledger.ts";
import type { GitHubLinks, Task, TaskStatus } from "../core/ledger/task.ts";
import { SINGLE_KEY, taskMarker } from "../core/sync/markers.ts";
import { sanitizeOutbound } from "../core/sync/outbound.ts";
import { linkAllowList } from "../core/sync/outbound-links.ts";
import type { SyncObserved, SyncOp, SyncOptions } from "../core/sync/plan-sync.ts";
import { planSync, wantsOwnIssue } from "../core/sync/plan-sync.ts";
import { issueOf, taskBranch } from "../core/sync/task-links.ts";
import type { GitHubIo, ReconcileDeps } from "./app-deps.ts";
import { authorOf, ensureComment, ensurePull, ensureTaskIssue, withoutForgedMarkers } from "./ensure-once.ts";
import { logOf, mutateOptionsOf } from "./app-deps.ts";
import { mutateLedger } from "./mutate-ledger.ts";
import { accountOf } from "./router-account.ts";
import type { ReconcilePlan } from "../core/reconcile/plan-reconcile.ts";

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

/**
 * A task whose GitHub mirror is behind its history (a failed or skipped sync is retried by the next
 * reconcile): one with an issue, with children, or that gets an issue of its own (`jobIssue`: its
 * scheduled job does not opt out).
 */
export function needsSync(task: Task, jobIssue = true): boolean {
  return (issueOf(task) !== undefined || task.children.length > 0 || wantsOwnIssue(task, jobIssue)) && (task.github?.synced ?? 0) < task.history.length;
}

/** Whether the task's scheduled job wants its tasks to have an issue (`issue: false` opts out); a job no longer enabled keeps the default. */
function jobWantsIssue(deps: ReconcileDeps, task: Task): boolean {
  const source = task.source;
  return source.kind !== "job" || (deps.jobs?.find((j) => j.name === source.jobId)?.issue ?? true);
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
  // The router's own account tells its marked comments from forged ones: known before any task is
  // synced or comment answered (so every path that reads comments has it), asked only then (an idle
  // reconcile asks nothing), and its failure fails the round, never syncs without it.
  const accountId = taskIds.length > 0 || (!dryRun && effects.some((e) => e.kind === "reply")) ? await accountOf(gh) : undefined;
  for (const id of taskIds) {
    const task = findTask(ledger, id);
    if (!task) continue;
    try {
      await syncTask(deps, gh, ledger, task, round, dryRun, accountId);
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
        const marker = { taskId: e.taskId ?? 0, kind: "reply" as const, key: String(e.commentId), ...authorOf(accountId) };
        await ensureComment(gh.api, e.issue, marker, `${taskMarker(marker)}\n${sanitizeOutbound(e.text, { maxChars: 60_000, allowedHosts: linkAllowList(gh.serverUrl, deps.config.github.allowedLinkHosts) })}`);
      }
    } catch (err) {
      log.warn("could not answer a comment", { commentId: e.commentId, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return round;
}

async function syncTask(deps: ReconcileDeps, gh: GitHubIo, ledger: Ledger, task: Task, round: SyncRound, dryRun: boolean, accountId: number | undefined): Promise<void> {
  const { config } = deps;
  const now = deps.clock.now().toISOString();
  const issue = issueOf(task);
  const api = gh.api;
  const mayHaveCode = MAY_HAVE_CODE.has(task.status) && task.attempts.length > 0;
  const branch = taskBranch(task);
  const [observedIssue, comments, pull, branchHead] = await Promise.all([
    issue === undefined ? null : api.getIssue(issue),
    issue === undefined ? [] : api.listComments(issue).then((cs) => withoutForgedMarkers(cs, accountId)),
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
    jobIssue: jobWantsIssue(deps, task),
    now,
  };
  const observed: SyncObserved = { issue: observedIssue ? { state: observedIssue.state, labels: observedIssue.labels } : null, comments, pull, subIssues, children };
  let ops = planSync(task, ledger, observed, options);
  const own = ops.find((op) => op.kind === "create_issue");
  if (own) return syncWithOwnIssue(deps, gh, ledger, task, round, dryRun, accountId, own);
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
  for (const op of ops) await perform(deps, api, op, { comments, patch, round, parentIssue: issue, pending, accountId });
  if (pull && task.github?.pr === undefined) patch.pr = pull.number;
  round.patches.set(task.id, { ...round.patches.get(task.id), ...patch, ...(pending.value ? {} : { synced: task.history.length }) });
}

/** The issue a dry run plans against before it exists (GitHub numbers issues from 1). */
const NEW_ISSUE = 0;

/**
 * A task that gets an issue of its own (a scheduled job's): the issue is created once however many
 * syncs race (a ledger claim, then its marker: `ensureTaskIssue`), recorded at once, and the task is
 * synced against it in the same round (tracking comment, labels, pull request, children's
 * sub-issues). When another sync is creating it now, the task stays behind (its `synced` does not
 * move) and a later reconcile syncs it. A dry run says which issue it would create, then plans
 * against it as GitHub would show it just made (open, its label, no comments).
 */
async function syncWithOwnIssue(deps: ReconcileDeps, gh: GitHubIo, ledger: Ledger, task: Task, round: SyncRound, dryRun: boolean, accountId: number | undefined, op: Extract<SyncOp, { kind: "create_issue" }>): Promise<void> {
  const withIssue = (issue: number): Task => ({ ...task, github: { ...task.github, issue } });
  if (dryRun) {
    round.plan.push(`would ${describeOp(op)}`);
    const api = gh.api;
    const made: GitHubIssue = { number: NEW_ISSUE, id: 0, nodeId: "", title: op.title, body: op.body, state: "open", labels: op.labels, author: { login: "", id: accountId ?? 0, type: "Bot" }, url: "", isPullRequest: false };
    const seen: GitHub = Object.assign(Object.create(api) as GitHub, {
      getIssue: (n: number) => (n === NEW_ISSUE ? Promise.resolve(made) : api.getIssue(n)),
      listComments: (n: number) => (n === NEW_ISSUE ? Promise.resolve([]) : api.listComments(n)),
      listSubIssues: (n: number) => (n === NEW_ISSUE ? Promise.resolve([]) : api.listSubIssues(n)),
    });
    return syncTask(deps, { ...gh, api: seen }, ledger, withIssue(NEW_ISSUE), round, dryRun, accountId);
  }
  const made = await ensureTaskIssue(deps, gh.api, { taskId: op.taskId, title: op.title, body: op.body, labels: op.labels, accountId });
  if (made === undefined) return;
  // Recorded at once: a failure further on must not lose which issue is the task's.
  round.patches.set(task.id, { ...round.patches.get(task.id), issue: made.number });
  return syncTask(deps, gh, ledger, withIssue(made.number), round, dryRun, accountId);
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
      const child = await ensureTaskIssue(deps, api, { taskId: op.childTaskId, title: op.title, body: op.body, accountId });
      // Another sync is creating it: this task is not in sync until it is linked.
      if (child === undefined) return void (pending.value = true);
      round.patches.set(op.childTaskId, { ...round.patches.get(op.childTaskId), issue: child.number });
      // Linked at once: the parent's next plan may be far off (it is in sync once this round ends).
      if (parentIssue !== undefined && deps.config.github.subIssues && child.id !== undefined) await api.addSubIssue(parentIssue, child.id);
      return;
    }
    case "create_issue":
      return; // planned alone and made before anything else (syncWithOwnIssue)
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

function describeOp(op: SyncOp): string {
  const on = (issue: number): string => (issue === NEW_ISSUE ? "the new issue" : `#${issue}`);
  switch (op.kind) {
    case "create_comment":
      return `create the tracking comment of task ${op.taskId} on ${on(op.issue)}`;
    case "update_comment":
      return `update the tracking comment ${op.commentId} of task ${op.taskId}`;
    case "add_labels":
      return `add ${op.labels.join(", ")} to ${on(op.issue)}`;
    case "remove_label":
      return `remove ${op.label} from ${on(op.issue)}`;
    case "create_issue":
      return `create the issue of task ${op.taskId}, labelled ${op.labels.join(", ")}: ${op.title}`;
    case "create_pull":
      return `open a pull request from ${op.head} to ${op.base} for task ${op.taskId}`;
    default:
      return `${op.kind.replace(/_/g, " ")} for task ${op.taskId}`;
  }
}

/** Tasks synced per reconcile at most (besides those this reconcile changed): repairs catch up over a few runs. */
const SYNC_REPAIRS_PER_RUN = 20;

/**
 * After the commit: GitHub is brought to the state of every task this reconcile changed, and of
 * tasks whose mirror is behind (an earlier sync failed or was cut short), then what GitHub assigned
 * (comment ids, pull requests, child issues) and how much history it shows go back to the ledger
 * in one more commit. An idle reconcile touches GitHub not at all.
 */
export async function mirrorToGitHub(deps: ReconcileDeps, gh: GitHubIo, p: ReconcilePlan, dryRun: boolean): Promise<string[]> {
  const changed = new Set<number>();
  for (const e of p.effects) if ((e.kind === "sync_task" || e.kind === "reopen_issue") && e.taskId !== undefined) changed.add(e.taskId);
  for (const id of [...changed]) {
    const parent = findTask(p.ledger, id)?.parentId;
    if (parent !== undefined) changed.add(parent);
  }
  const behind = p.ledger.tasks.filter((t) => !changed.has(t.id) && needsSync(t, jobWantsIssue(deps, t))).slice(0, SYNC_REPAIRS_PER_RUN).map((t) => t.id);
  const ids = [...changed].filter((id) => { const t = findTask(p.ledger, id); return t !== undefined && needsSync(t, jobWantsIssue(deps, t)); }).concat(behind);
  const round = await syncGitHub(deps, gh, p.ledger, ids, p.effects, dryRun);
  const synced = `github: synced ${[...round.patches.keys()].map((id) => `#${id}`).join(", ")}`;
  if (dryRun) return round.patches.size === 0 ? round.plan : [...round.plan, `would write the ledger commit "${synced}"`];
  if (round.patches.size === 0) return round.plan;
  await mutateLedger(
    deps.store,
    (snap) => {
      let ledger = snap.ledger;
      for (const [id, patch] of round.patches) {
        const t = findTask(ledger, id);
        if (!t) continue;
        const { issueClaim, ...github } = { ...t.github, ...patch };
        // A linked issue ends the claim on creating it.
        ledger = replaceTask(ledger, { ...t, github: github.issue === undefined && issueClaim ? { ...github, issueClaim } : github });
      }
      return { ledger, result: undefined, summary: synced };
    },
    mutateOptionsOf(deps),
  );
  return round.plan;
}
