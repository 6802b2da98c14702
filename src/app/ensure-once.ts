/**
 * Things the router creates on GitHub once, however many runs race and whatever responses are lost
 * (REST has no idempotency key and creating POSTs are never re-sent): the tracking comment and
 * replies (found by their marker), the task's pull request (found by its branch), the issue the
 * router opens for a task, a child's or a scheduled job's (a ledger claim, then its marker).
 */
import type { GitHub, GitHubComment, GitHubIssue, GitHubPull } from "../core/github-port.ts";
import { findTask, replaceTask } from "../core/ledger/ledger.ts";
import type { GitHubLinks } from "../core/ledger/task.ts";
import type { MarkerQuery } from "../core/sync/markers.ts";
import { findMarked, parseMarker, SINGLE_KEY } from "../core/sync/markers.ts";
import { capComment } from "../core/sync/outbound.ts";
import type { SyncOp } from "../core/sync/plan-sync.ts";
import type { ReconcileDeps } from "./app-deps.ts";
import { mutateOptionsOf } from "./app-deps.ts";
import { mutateLedger } from "./mutate-ledger.ts";

/** How long a claim on creating a task's issue keeps other syncs away (a crashed creator's claim lapses). */
export const ISSUE_CLAIM_MS = 10 * 60_000;
/** Issues are looked for from this long before the claim (clocks of two machines differ a little). */
const CLOCK_SLACK_MS = 60_000;

type Claimed = { linked: number } | { busy: true } | { won: { at: string; by: string }; lapsed?: { at: string } };

/** A task's issue: its number, and its database id when this sync made or found it (for linking a child's as a sub-issue). */
export interface TaskIssue {
  number: number;
  id?: number;
}

/** The issue the router opens for a task (a child's, a scheduled job's): its body starts with the task's issue marker. */
export interface TaskIssueRequest {
  taskId: number;
  title: string;
  body: string;
  labels?: string[];
  /** The router's own account, when known: an issue carrying the task's marker by anyone else is not taken for the router's. */
  accountId?: number | undefined;
}

/**
 * The issue the router opens for a task that has none (a delegated child's, a scheduled job's),
 * created once however many syncs (two replicas of the app, a webhook and a tick, two Action runs)
 * plan it at the same moment: a claim in the ledger (compare-and-swap) lets one create it.
 * The winner of a lapsed claim (its creator crashed, or lost the response) first looks for an
 * issue with the task's marker made since then, and links that instead of making another.
 * Returns the issue, or undefined when another sync is creating it now.
 */
export async function ensureTaskIssue(deps: ReconcileDeps, api: GitHub, want: TaskIssueRequest): Promise<TaskIssue | undefined> {
  const claimed = await claim(deps, want.taskId);
  if ("linked" in claimed) return { number: claimed.linked };
  if ("busy" in claimed) return undefined;
  const mine = (issues: readonly GitHubIssue[]): GitHubIssue | undefined => {
    const found = issues.filter((i) => {
      // Anyone can open an issue whose body starts with a copy of the marker.
      if (want.accountId !== undefined && i.author.id !== want.accountId) return false;
      const m = parseMarker(i.body);
      return m !== null && m.kind === "issue" && m.taskId === want.taskId && m.key === SINGLE_KEY;
    });
    return found.sort((a, b) => a.number - b.number)[0];
  };
  const since = (at: string): string => new Date(Date.parse(at) - CLOCK_SLACK_MS).toISOString();
  if (claimed.lapsed) {
    const earlier = mine(await api.issuesSince(since(claimed.lapsed.at)));
    if (earlier) return earlier;
  }
  try {
    return await api.createIssue({ title: want.title, body: want.body, ...(want.labels?.length ? { labels: want.labels } : {}) });
  } catch (err) {
    // The response may have been lost after GitHub made it.
    const landed = mine(await api.issuesSince(since(claimed.won.at)));
    if (landed) return landed;
    await release(deps, want.taskId, claimed.won.by);
    throw err;
  }
}

async function claim(deps: ReconcileDeps, taskId: number): Promise<Claimed> {
  const now = deps.clock.now();
  const by = `${deps.actor} ${Math.floor(deps.random() * 2 ** 48).toString(36)}`;
  const r = await mutateLedger<Claimed>(
    deps.store,
    (snap) => {
      const task = findTask(snap.ledger, taskId);
      const links: GitHubLinks = task?.github ?? {};
      if (!task) return { ledger: snap.ledger, result: { busy: true }, summary: "" };
      if (links.issue !== undefined) return { ledger: snap.ledger, result: { linked: links.issue }, summary: "" };
      const held = links.issueClaim;
      if (held && now.getTime() - Date.parse(held.at) < ISSUE_CLAIM_MS) return { ledger: snap.ledger, result: { busy: true }, summary: "" };
      const won = { at: now.toISOString(), by };
      const ledger = replaceTask(snap.ledger, { ...task, github: { ...links, issueClaim: won } });
      return { ledger, result: { won, ...(held ? { lapsed: { at: held.at } } : {}) }, summary: `github: task ${taskId} claims its issue` };
    },
    mutateOptionsOf(deps),
  );
  return r.result;
}

/** Gives the claim back after a create that failed, so the next sync tries at once rather than after the claim lapses. */
async function release(deps: ReconcileDeps, taskId: number, by: string): Promise<void> {
  await mutateLedger(
    deps.store,
    (snap) => {
      const task = findTask(snap.ledger, taskId);
      if (task?.github?.issueClaim?.by !== by) return { ledger: snap.ledger, result: undefined, summary: "" };
      const { issueClaim: _released, ...links } = task.github;
      return { ledger: replaceTask(snap.ledger, { ...task, github: links }), result: undefined, summary: `github: task ${taskId} gives back its issue claim` };
    },
    mutateOptionsOf(deps),
  ).catch(() => undefined); // a claim that stays lapses after ISSUE_CLAIM_MS
}

export const authorOf = (accountId: number | undefined): { authorId?: number } => (accountId === undefined ? {} : { authorId: accountId });

/**
 * The comments with a marker that the router's own account wrote, and every comment without one:
 * anyone can start a comment with a marker, and one the router took for its own would be edited
 * (or, when it may not, block the task's mirror). All of them when the account is not known.
 */
export function withoutForgedMarkers(comments: GitHubComment[], accountId: number | undefined): GitHubComment[] {
  return accountId === undefined ? comments : comments.filter((c) => c.author.id === accountId || parseMarker(c.body) === null);
}

/**
 * A comment with this marker on its first line, created once: found among the issue's comments
 * (every page) first, and looked for again when the create failed (its response may have been lost
 * after GitHub made it), so a retry never duplicates it.
 */
export async function ensureComment(api: GitHub, issue: number, marker: MarkerQuery & { key: string }, body: string, known?: GitHubComment[]): Promise<GitHubComment> {
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
export async function ensurePull(api: GitHub, op: Extract<SyncOp, { kind: "create_pull" }>): Promise<GitHubPull> {
  try {
    return await api.createPull(op);
  } catch (err) {
    const landed = await api.findPull(op.head);
    if (landed && landed.state === "open") return landed;
    throw err;
  }
}
