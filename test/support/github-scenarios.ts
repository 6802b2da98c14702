// GitHub scenarios for the dry-run suite (R18): a world of reconcile deps over one fake GitHub
// (real Octokit adapter, GitHub ledger store, spy executor, scripted agent, workspaces that "push"
// to the fake), step builders, and the two halves of the plan check: which intent each mutating
// request, executor call and agent run of a real run stands for, and which intents a dry run's
// plan lines announce.
import type { AppDeps, ReconcileDeps, WorkerIo } from "../../src/app/app-deps.ts";
import { silentLog } from "../../src/app/app-deps.ts";
import type { ReconcileOptions } from "../../src/app/reconcile.ts";
import { createOctokit } from "../../src/adapters/github/create-octokit.ts";
import { octokitGitHub } from "../../src/adapters/github/octokit-github.ts";
import { githubLedgerStore } from "../../src/adapters/ledger-github/github-ledger-store.ts";
import { Job } from "../../src/core/config/job.ts";
import type { Profile } from "../../src/core/config/profile.ts";
import { readHandoff } from "../../src/core/handoff/handoff.ts";
import type { Ledger } from "../../src/core/ledger/ledger.ts";
import { findTask } from "../../src/core/ledger/ledger.ts";
import type { AttemptResult } from "../../src/core/reconcile/attempt-result.ts";
import type { RoutingSetup } from "../../src/core/routing/decide-route.ts";
import type { CommentEvent, GitHubUser, IssueEvent, Trigger } from "../../src/core/reconcile/trigger.ts";
import { parseMarker } from "../../src/core/sync/markers.ts";
import { issueOf } from "../../src/core/sync/task-links.ts";
import type { FakeGitHub, FakeRepository, FakeRequest, Permission } from "../fakes/fake-github/index.ts";
import { FakeAgentRunner, handoffRun, runRecord } from "../fakes/fake-agent-runner.ts";
import { FakeWorkspaces, MemoryRepoFiles } from "../fakes/fake-workspaces.ts";
import { ManualTimer } from "../fakes/manual-timer.ts";
import { SpyExecutor } from "../fakes/spy-executor.ts";
import type { SteppingClock } from "./app.ts";
import { BOUNDARY, gatedProfile, steppingClock, testRouting, withRouting } from "./app.ts";

export const REPO = "acme/widgets";
export const LEDGER_REF = "refs/heads/agent-router/ledger";

/** FakeWorkspaces whose `publish` moves the task branch on the fake GitHub, as a push would. */
export class PushingWorkspaces extends FakeWorkspaces {
  readonly pushes: number[] = [];
  constructor(private readonly fake: FakeGitHub) {
    super();
  }
  async publish(taskId: number): Promise<{ pushed: string }> {
    this.pushes.push(taskId);
    return { pushed: pushTaskBranch(this.fake, taskId) };
  }
}

export interface World {
  fake: FakeGitHub;
  repo: FakeRepository;
  deps: ReconcileDeps;
  clock: SteppingClock;
  executor: SpyExecutor;
  runner: FakeAgentRunner;
  workspaces: PushingWorkspaces;
  io: WorkerIo;
}

/** A profile that needs a review before its tasks are done. */
const reviewedProfile = (loaded: ReadonlyMap<string, Profile>): Profile => {
  const feature = loaded.get("feature")!;
  return { ...feature, name: "reviewed", review: { ...feature.review, required: true } };
};

const routings = new Map<string, Promise<RoutingSetup>>();
/** Loaded once per config (loading parses every built-in profile): routing is plain data nothing changes. */
function routingFor(config: Record<string, unknown>): Promise<RoutingSetup> {
  const key = JSON.stringify(config);
  let r = routings.get(key);
  if (!r) routings.set(key, (r = testRouting(config, {}, (loaded) => [gatedProfile(loaded), reviewedProfile(loaded)])));
  return r;
}

/** Deps against `fake`, with the built-in profiles plus `gated` (approval before it runs) and `reviewed`. */
export async function worldFor(fake: FakeGitHub, config: Record<string, unknown> = {}): Promise<World> {
  const octokit = createOctokit({ token: "ghs_test", baseUrl: fake.url, log: silentLog, throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 }, retry: { baseDelayMs: 1 } });
  const api = octokitGitHub(octokit, { owner: "acme", repo: "widgets" });
  const routing = await routingFor(config);
  const store = githubLedgerStore(api, { branch: "agent-router/ledger", path: "ledger.yml" });
  const clock = steppingClock();
  const base: AppDeps = { store, clock, backoff: { sleep: async () => undefined, random: () => 0.5 }, config: routing.config, traceId: `00-${"a".repeat(32)}-${"b".repeat(16)}-01`, actor: "router" };
  const deps: ReconcileDeps = { ...withRouting(base, routing), github: { api, serverUrl: "https://github.com" } };
  const runner = new FakeAgentRunner({ claude: () => handoffRun({ status: "done", summary: "Rows after 1000 are kept now." }) });
  const workspaces = new PushingWorkspaces(fake);
  const repoFiles = new MemoryRepoFiles({ "README.md": "# widgets\n" });
  const io: WorkerIo = { runner, workspaces, repoFor: () => repoFiles, root: "/repo", profiles: routing.profiles, newBoundary: () => BOUNDARY, timer: new ManualTimer() };
  return { fake, repo: fake.state.mustRepo(REPO), deps, clock, executor: new SpyExecutor(), runner, workspaces, io };
}

/** A scheduled job due every minute whose tasks run on claude. */
export const SWEEP_JOB: Job = Job.parse({ name: "sweep", schedule: "* * * * *", enabled: true, task: { title: "Sweep the flaky tests", body: "Run the suite five times; fix what flakes.", agent: "claude" } });

/** The world's reconciles know the `sweep` job from now on (as the Action loads the enabled jobs). */
export const withJob = (w: World): void => {
  w.deps.jobs = [SWEEP_JOB];
};

/** One reconcile of a scenario: its trigger and options (dryRun is the runner's to set). */
export interface Step {
  trigger: Trigger;
  opts?: Omit<ReconcileOptions, "dryRun" | "executor">;
}

/** Builds a step against a world; may seed the fake first (a comment, a pushed branch, a fault). */
export type StepFn = (w: World) => Step | Promise<Step>;

/** A user with this permission on the repository ("none": not a collaborator, the API answers 404). */
export function person(w: World, login: string, permission: Permission): GitHubUser {
  const u = w.fake.state.user(login);
  if (permission !== "none") w.repo.permissions.set(login.toLowerCase(), permission);
  return { login: u.login, id: u.id, type: u.type };
}

/** Issue #1 (created on first use, by a reader) labelled `agent` by `sender` (a writer unless told), delivered as `deliveryId`. */
export const labelled =
  (deliveryId: string, action: IssueEvent["action"] = "labeled", sender: { login: string; permission: Permission } = { login: "maintainer", permission: "write" }): StepFn =>
  (w) => {
    const author = person(w, "octocat", "read");
    const issue = w.repo.issues.get(1) ?? w.fake.state.addIssue(REPO, { title: "Importer drops rows", body: "Rows after 1000 vanish.", labels: ["agent"], user: "octocat" });
    const by = person(w, sender.login, sender.permission);
    return { trigger: { kind: "issue", action, deliveryId, label: "agent", issue: { number: issue.number, title: issue.title, body: issue.body ?? "", labels: [...issue.labels], author }, sender: by } };
  };

/** Someone comments `body` on `issue` (the comment is made on the fake first, as GitHub would). */
export const say =
  (body: string, login = "maintainer", permission: Permission = "write", issue = 1): StepFn =>
  (w) => {
    const author = person(w, login, permission);
    const comment = w.fake.state.addComment(REPO, issue, body, login);
    const trigger: CommentEvent = { kind: "comment", deliveryId: `c-${comment.id}`, issue, comment: { id: comment.id, body, author } };
    return { trigger };
  };

export const tick =
  (opts: Step["opts"] = {}): StepFn =>
  () => ({ trigger: { kind: "tick" }, opts });

/** A tick that may claim one attempt. */
export const claim = (): StepFn => tick({ claim: { limit: 1 } });

/** Commits to task `taskId`'s branch on the fake (a worker's push); returns the new head. */
export function pushTaskBranch(fake: FakeGitHub, taskId: number): string {
  return fake.state.commit(fake.state.mustRepo(REPO), `agent-router/task-${taskId}`, { [`src/fix-${taskId}.ts`]: `export const fixed = ${taskId};\n` }, `agent-router: task ${taskId}`).sha;
}

/** The current attempt of task `taskId` hands back this handoff (recorded by a tick); `push` first pushes its work. */
export const result =
  (taskId: number, handoff: Record<string, unknown>, more: { push?: boolean } = {}): StepFn =>
  async (w) => {
    const task = findTask((await w.deps.store.read()).ledger, taskId);
    const key = task?.attempts.at(-1)?.key;
    if (!key) throw new Error(`task ${taskId} has no attempt to record`);
    if (more.push) pushTaskBranch(w.fake, taskId);
    const r: AttemptResult = { kind: "ran", taskId, key, record: runRecord({ inputTokens: 10, outputTokens: 5 }), handoff: readHandoff(JSON.stringify({ schemaVersion: 1, ...handoff }), "") };
    return { trigger: { kind: "tick" }, opts: { results: [r] } };
  };

/** The Work trigger for task `taskId`'s open attempt, with the scripted agent. */
export const work =
  (taskId: number): StepFn =>
  async (w) => {
    const task = findTask((await w.deps.store.read()).ledger, taskId);
    const attempt = task?.attempts.at(-1);
    if (!attempt) throw new Error(`task ${taskId} has no attempt to perform`);
    return { trigger: { kind: "work", taskId, attempt: attempt.n, key: attempt.key }, opts: { worker: w.io } };
  };

/** Runs `setup` on the world (seeding the fake, moving the clock), then the step. */
export const after =
  (setup: (w: World) => void, step: StepFn): StepFn =>
  (w) => {
    setup(w);
    return step(w);
  };

// ---------------------------------------------------------------------------------------------
// Intents. A real run's mutating requests, executor calls and agent runs, and a dry run's plan
// lines, are both turned into the same keys; every key of the real run must be announced by the
// plan at least as many times as it occurs.

const ISSUES = `/repos/${REPO}/issues`;
const num = (s: string | undefined): number => Number(s);

/** A ledger commit, by what its headline says it records. */
function ledgerCommit(headline: string): string {
  if (headline.startsWith("github: synced")) return "ledger commit: GitHub links";
  // ensureTaskIssue (src/app/ensure-once.ts): a claim on creating a task's issue (a child's, a job's), given back when the create fails.
  if (/^github: task \d+ claims its issue/.test(headline)) return "ledger commit: issue claim";
  if (/^github: task \d+ gives back its issue claim/.test(headline)) return "ledger commit: issue claim given back";
  return "ledger commit: changes";
}

/** What one mutating request did, as intent keys (a label request may add several). */
export function requestIntents(q: FakeRequest): string[] {
  const path = q.path.replace(/\?.*$/, "");
  const body = (q.body ?? {}) as Record<string, unknown>;
  if (path === "/graphql") {
    const fields = q.graphqlFields ?? [];
    const input = ((body.variables as Record<string, unknown> | undefined)?.input ?? {}) as { message?: { headline?: string } };
    if (fields.includes("createCommitOnBranch")) return [ledgerCommit(input.message?.headline ?? "")];
    if (fields.includes("addProjectV2ItemById")) return ["project item added"];
    if (fields.includes("updateProjectV2ItemFieldValue")) return ["project status set"];
    return [`GraphQL mutation ${fields.join(",")}`];
  }
  const m = (re: RegExp): RegExpExecArray | null => re.exec(path);
  let x: RegExpExecArray | null;
  if (q.method === "POST" && (x = m(/^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/))) {
    const marker = parseMarker(typeof body.body === "string" ? body.body : "");
    if (marker?.kind === "status") return [`tracking comment of task ${marker.taskId} created on #${x[1]}`];
    if (marker?.kind === "reply") return [`reply to comment ${marker.key} on #${x[1]}`];
    return [`unmarked comment on #${x[1]}`];
  }
  if (q.method === "PATCH" && (x = m(/\/issues\/comments\/(\d+)$/))) return [`comment ${x[1]} updated`];
  if (q.method === "POST" && (x = m(/\/issues\/comments\/(\d+)\/reactions$/))) return [`reaction ${String(body.content)} on comment ${x[1]}`];
  if (q.method === "POST" && (x = m(/\/issues\/(\d+)\/reactions$/))) return [`reaction ${String(body.content)} on #${x[1]}`];
  if (q.method === "POST" && (x = m(/\/issues\/(\d+)\/labels$/))) return (body.labels as string[]).map((l) => `label ${l} added to #${x![1]}`);
  if (q.method === "DELETE" && (x = m(/\/issues\/(\d+)\/labels\/([^/]+)$/))) return [`label ${decodeURIComponent(x[2]!)} removed from #${x[1]}`];
  if (q.method === "PATCH" && (x = m(/\/issues\/(\d+)$/))) return [`issue #${x[1]} state set`];
  if (q.method === "POST" && path === ISSUES) {
    // A job's task's own issue carries a label; a child's sub-issue none.
    const labels = Array.isArray(body.labels) ? (body.labels as string[]) : [];
    const marker = parseMarker(typeof body.body === "string" ? body.body : "");
    return [labels.length > 0 ? `issue of task ${marker?.taskId ?? "?"} created, labelled ${labels.join(", ")}` : "child issue created"];
  }
  if (q.method === "POST" && (x = m(/\/issues\/(\d+)\/sub_issues$/))) return [`sub-issue linked to #${x[1]}`];
  if (q.method === "POST" && m(/\/git\/refs$/)) return [`branch ${String(body.ref)} created`];
  if (q.method === "POST" && m(/\/pulls$/)) return [`pull request opened from ${String(body.head)} to ${String(body.base)}`];
  if (q.method === "PATCH" && (x = m(/\/pulls\/(\d+)$/))) return [`pull request #${x[1]} updated`];
  return [`unmapped ${q.method} ${path}`];
}

/**
 * The intents one dry-run plan announces. `ledger` is the dry run's would-be ledger (for lines that
 * name a task, not its issue); `newIssue` is the number GitHub gives the next issue (lines about
 * "the new issue", and tasks that have none yet, are about the issue the plan would create).
 */
export function planIntents(plan: readonly string[], ledger: Ledger, ledgerBranchExists: boolean, newIssue?: number): string[] {
  const out: string[] = [];
  const fresh = `#${newIssue ?? "?"}`;
  const issue = (taskId: string | undefined): string => {
    const t = findTask(ledger, num(taskId));
    const n = t ? issueOf(t) : undefined;
    return t && n === undefined ? fresh : `#${n ?? "?"}`;
  };
  const on = (ref: string): string => (ref === "the new issue" ? fresh : ref);
  let changes = false;
  let sync = false;
  for (const line of plan) {
    let x: RegExpExecArray | null;
    const m = (re: RegExp): RegExpExecArray | null => re.exec(line);
    if (!line.startsWith("would ")) {
      changes = true;
      continue;
    }
    if ((x = m(/^would create the tracking comment of task (\d+) on (#\d+|the new issue)$/))) out.push(`tracking comment of task ${x[1]} created on ${on(x[2]!)}`);
    else if ((x = m(/^would update the tracking comment (\d+) of task \d+$/))) out.push(`comment ${x[1]} updated`);
    else if ((x = m(/^would add (.+) to (#\d+|the new issue)$/))) out.push(...x[1]!.split(", ").map((l) => `label ${l} added to ${on(x![2]!)}`));
    else if ((x = m(/^would remove (.+) from (#\d+|the new issue)$/))) out.push(`label ${x[1]} removed from ${on(x[2]!)}`);
    else if ((x = m(/^would react for task (\d+)$/))) out.push(`reaction eyes on ${issue(x[1])}`);
    else if ((x = m(/^would set issue state for task (\d+)$/))) out.push(`issue ${issue(x[1])} state set`);
    else if ((x = m(/^would open a pull request from (\S+) to (\S+) for task \d+$/))) out.push(`pull request opened from ${x[1]} to ${x[2]}`);
    else if ((x = m(/^would update pull for task (\d+)$/))) out.push(`pull request #${findTask(ledger, num(x[1]))?.github?.pr ?? "?"} updated`);
    // Creating a child's issue is claimed in the ledger first and linked as a sub-issue at once (src/app/ensure-once.ts).
    else if ((x = m(/^would create child issue for task (\d+)$/))) out.push("child issue created", "ledger commit: issue claim", `sub-issue linked to ${issue(x[1])}`);
    // A job's task's own issue: claimed in the ledger, then created (the lines after it are about it).
    else if ((x = m(/^would create the issue of task (\d+), labelled ([^:]+): .+$/))) out.push(`issue of task ${x[1]} created, labelled ${x[2]}`, "ledger commit: issue claim");
    else if ((x = m(/^would add sub issue for task (\d+)$/))) out.push(`sub-issue linked to ${issue(x[1])}`);
    else if (m(/^would set project status for task \d+$/)) out.push("project item added", "project status set");
    else if ((x = m(/^would reply to comment (\d+) on #(\d+)$/))) out.push(`reply to comment ${x[1]} on #${x[2]}`);
    else if ((x = m(/^would react (\S+) to comment (\d+) on #\d+$/))) out.push(`reaction ${x[1]} on comment ${x[2]}`);
    else if ((x = m(/^would run attempt (\d+) of task (\d+) \(key \S+\)$/))) out.push(`attempt ${x[1]} of task ${x[2]} handed to the executor`);
    else if ((x = m(/^would review task (\d+) \(key \S+\)$/))) out.push(`review of task ${x[1]} handed to the executor`);
    else if ((x = m(/^would stop the running attempt (\S+) of task (\d+)$/))) out.push(`attempt ${x[1]} of task ${x[2]} stopped`);
    else if ((x = m(/^would perform attempt (\d+) \(key \S+\) of task (\d+)$/))) out.push(`attempt ${x[1]} of task ${x[2]} performed`);
    // The write-back commit of what GitHub assigned and how much history it shows.
    else if (m(/^would write the ledger commit "github: synced [^"]*"$/)) sync = true;
    else out.push(`unparsed plan line: ${line}`);
    // Sync lines: what GitHub assigns (comment ids, pull requests, child issues) is written back.
    if (!/^would (reply|react \S+ to comment|run attempt|review task|stop the running|perform attempt)/.test(line)) sync = true;
  }
  if (changes) out.push("ledger commit: changes");
  if (changes && !ledgerBranchExists) out.push(`branch ${LEDGER_REF} created`);
  if (sync) out.push("ledger commit: GitHub links");
  return out;
}

/** Keys the real run produced that the plan does not announce (as many times), with counts. */
export function unannounced(real: readonly string[], planned: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const k of planned) left.set(k, (left.get(k) ?? 0) + 1);
  const missing: string[] = [];
  for (const k of real) {
    const n = left.get(k) ?? 0;
    if (n > 0) left.set(k, n - 1);
    else missing.push(k);
  }
  return missing;
}

/** Maps and sets as arrays, records copied: a deep copy that toEqual compares (and diffs) well. */
function plain(v: unknown): unknown {
  if (v instanceof Map) return [...(v as Map<unknown, unknown>)].map(([k, x]) => [k, plain(x)]);
  if (v instanceof Set) return [...(v as Set<unknown>)];
  if (Array.isArray(v)) return (v as unknown[]).map(plain);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Everything the fake holds (repositories with their issues, comments, reactions, labels, pulls, refs, commits, dispatches; projects), as a deep copy. */
export function fakeSnapshot(fake: FakeGitHub): unknown {
  return { repos: [...fake.state.repositories.values()].map(plain), projects: plain(fake.state.projects) };
}
