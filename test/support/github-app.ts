// Reconcile against the fake GitHub: deps with the real Octokit adapter (no write spacing, fast
// retries) and the GitHub ledger store on `agent-router/ledger`; a worker whose attempts run in
// real worktrees of a clone and push to its remote; the labelled-issue trigger.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createOctokit } from "../../src/adapters/github/create-octokit.ts";
import { octokitGitHub } from "../../src/adapters/github/octokit-github.ts";
import { githubLedgerStore } from "../../src/adapters/ledger-github/github-ledger-store.ts";
import { gitWorktrees } from "../../src/adapters/workspace-git/git-worktrees.ts";
import type { ReconcileDeps, WorkerIo } from "../../src/app/app-deps.ts";
import { silentLog } from "../../src/app/app-deps.ts";
import { reconcile } from "../../src/app/reconcile.ts";
import type { Clock } from "../../src/core/ports.ts";
import type { GitHubUser, IssueEvent } from "../../src/core/reconcile/trigger.ts";
import type { FakeGitHub } from "../fakes/fake-github/index.ts";
import type { RunFn } from "../fakes/fake-agent-runner.ts";
import { FakeAgentRunner, handoffRun } from "../fakes/fake-agent-runner.ts";
import { MemoryRepoFiles } from "../fakes/fake-workspaces.ts";
import { ManualTimer } from "../fakes/manual-timer.ts";
import { BOUNDARY, steppingClock, testRouting, withRouting } from "./app.ts";

export const REPO = "acme/widgets";

export async function githubDeps(fake: FakeGitHub, config: Record<string, unknown> = {}, opts: { clock?: Clock } = {}): Promise<ReconcileDeps> {
  const octokit = createOctokit({ token: "ghs_test", baseUrl: fake.url, log: silentLog, throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 }, retry: { baseDelayMs: 5 } });
  const api = octokitGitHub(octokit, { owner: "acme", repo: "widgets" });
  const routing = await testRouting(config);
  const store = githubLedgerStore(api, { branch: "agent-router/ledger", path: "ledger.yml" });
  const base = { store, clock: opts.clock ?? steppingClock(), backoff: { sleep: async () => undefined, random: () => 0.5 }, config: routing.config, traceId: `00-${"a".repeat(32)}-${"b".repeat(16)}-01`, actor: "router" };
  return { ...withRouting(base, routing), github: { api, serverUrl: "https://github.com" } };
}

/** An agent step that writes `file` in its worktree and hands off done. */
export const writes =
  (file: string, summary: string): RunFn =>
  (req) => {
    writeFileSync(join(req.workdir, file), `${summary}\n`);
    return handoffRun({ status: "done", summary });
  };

/** A worker whose claude runs `steps` in worktrees of `clone`, pushing to its `origin`. */
export function cloneWorker(deps: ReconcileDeps, clone: string, steps: RunFn[]): WorkerIo {
  return {
    runner: new FakeAgentRunner({ claude: steps }),
    workspaces: gitWorktrees(clone, { remote: "origin" }),
    repoFor: () => new MemoryRepoFiles({ "README.md": "# widgets\n" }),
    root: clone,
    profiles: deps.routing.profiles,
    newBoundary: () => BOUNDARY,
    timer: new ManualTimer(),
  };
}

/** A person with write access to the repository (who labels issues). */
export function maintainerOf(fake: FakeGitHub): GitHubUser {
  const u = fake.state.user("maintainer");
  fake.state.mustRepo(REPO).permissions.set("maintainer", "write");
  return { login: u.login, id: u.id, type: u.type };
}

/** The `labeled` delivery of issue #1 (made on first use), opened by octocat and labelled by a maintainer. */
export function labelledIssue(fake: FakeGitHub, deliveryId: string): IssueEvent {
  const author = fake.state.user("octocat");
  const issue = fake.state.mustRepo(REPO).issues.get(1) ?? fake.state.addIssue(REPO, { title: "Importer drops rows", body: "Rows after 1000 vanish.", labels: ["agent"], user: "octocat" });
  return { kind: "issue", action: "labeled", deliveryId, label: "agent", issue: { number: issue.number, title: issue.title, body: issue.body ?? "", labels: ["agent"], author: { login: author.login, id: author.id, type: author.type } }, sender: maintainerOf(fake) };
}

/** One attempt of a task: claimed by a CLI `run`, performed by the worker, recorded and mirrored. */
export async function runAttempt(deps: ReconcileDeps, worker: WorkerIo, taskId: number): Promise<void> {
  const claimed = await reconcile({ kind: "cli", command: { verb: "run", taskId } }, deps, { claim: { limit: 1 } });
  if (claimed.outcome.kind !== "claimed") throw new Error(`task ${taskId} was not claimed: ${JSON.stringify(claimed.outcome)}`);
  const { claim } = claimed.outcome;
  await reconcile({ kind: "work", taskId, attempt: claim.attempt, key: claim.key }, deps, { worker });
}
