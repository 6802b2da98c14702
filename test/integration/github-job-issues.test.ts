// A scheduled job's task on GitHub: the sync opens one issue for it (title, the job's prompt, its
// marker, the agent-router/job label) however many syncs race (the ledger claim decides), a lost
// create response and a crashed creator's issue are found by the marker, and the issue gets the
// tracking comment and status label of any issue's task. The issue never becomes a task of its own:
// not when someone puts the trigger label on it, not before the ledger links it, not when a scheduled
// run looks for labelled issues whose event was lost. A job with `issue: false` opens none.
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ReconcileDeps } from "../../src/app/app-deps.ts";
import { missedIssueEvents } from "../../src/app/discover-issues.ts";
import { ISSUE_CLAIM_MS } from "../../src/app/ensure-once.ts";
import { reconcile } from "../../src/app/reconcile.ts";
import { Job } from "../../src/core/config/job.ts";
import { findTask, replaceTask } from "../../src/core/ledger/ledger.ts";
import type { IssueEvent } from "../../src/core/reconcile/trigger.ts";
import { parseMarker } from "../../src/core/sync/markers.ts";
import type { FakeGitHub } from "../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../fakes/fake-github/index.ts";
import type { SteppingClock } from "../support/app.ts";
import { steppingClock } from "../support/app.ts";
import { githubDeps, maintainerOf, REPO } from "../support/github-app.ts";

let fake: FakeGitHub;
let clock: SteppingClock;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
beforeEach(async () => {
  // One clock for the router and GitHub: looking for issues "since the claim" compares the two.
  clock = steppingClock();
  fake = await startFakeGitHub({ clock: () => clock.now() });
});
afterEach(async () => {
  expect(fake.state.schemaProblems).toEqual([]);
  await fake.close();
});
afterAll(() => nock.enableNetConnect());

const CONFIG = { router: { fallback: { agent: "claude", profile: "feature" } } };
const SWEEP = { name: "sweep", schedule: "* * * * *", enabled: true, task: { title: "Sweep the flaky tests @qa-team", body: "Run the suite five times.\n/agent approve", labels: ["tests"] } };

/** Deps whose reconciles know the `sweep` job (due every minute: the first reconcile makes its task 1). */
async function jobDeps(job: Record<string, unknown> = {}): Promise<ReconcileDeps> {
  return { ...(await githubDeps(fake, CONFIG, { clock })), jobs: [Job.parse({ ...SWEEP, ...job })] };
}

/** Issues carrying task `id`'s issue marker. */
const issuesOf = (id: number) => [...fake.state.mustRepo(REPO).issues.values()].filter((i) => !i.pull_request && parseMarker(i.body ?? "")?.kind === "issue" && parseMarker(i.body ?? "")?.taskId === id);
const issuePosts = () => fake.requests.filter((r) => r.method === "POST" && /\/issues$/.test(r.path));
const statusComments = (issue: number) => [...fake.state.mustRepo(REPO).comments.values()].filter((c) => c.issue_number === issue && parseMarker(c.body)?.kind === "status");
const tasks = async (deps: ReconcileDeps) => (await deps.store.read()).ledger.tasks;

/** The `issues` event for issue `number` as GitHub would deliver it, sent by a maintainer. */
function issueEvent(number: number, action: IssueEvent["action"], deliveryId: string): IssueEvent {
  const i = fake.state.mustRepo(REPO).issues.get(number)!;
  return { kind: "issue", action, deliveryId, label: "agent", issue: { number, title: i.title, body: i.body ?? "", labels: [...i.labels], author: { login: i.user.login, id: i.user.id, type: i.user.type } }, sender: maintainerOf(fake) };
}

describe("a scheduled job's task gets its own issue", () => {
  it("one issue with the job's title, prompt, marker and label, its tracking comment and status label; later reconciles make no more", async () => {
    const deps = await jobDeps();
    await reconcile({ kind: "tick" }, deps);
    const [issue] = issuesOf(1);
    expect(issuesOf(1)).toHaveLength(1);
    expect(issue).toMatchObject({ title: "Sweep the flaky tests @\u2060qa-team", state: "open" });
    expect(issue!.body).toContain("Task 1 of the scheduled job `sweep`, slot ");
    expect(issue!.body).toContain("Run the suite five times.\n\\/agent approve");
    expect(issue!.labels).toEqual(expect.arrayContaining(["agent-router/job", "agent-router/routed"]));
    expect(statusComments(issue!.number)).toHaveLength(1);
    const [task] = await tasks(deps);
    expect(task).toMatchObject({ source: { kind: "job", jobId: "sweep" }, status: "routed", github: { issue: issue!.number, synced: task!.history.length } });
    expect(task!.github?.issueClaim).toBeUndefined();

    await Promise.all([1, 2, 3].map(() => reconcile({ kind: "tick" }, deps)));
    expect(issuePosts()).toHaveLength(1);
    expect(statusComments(issue!.number)).toHaveLength(1);
    expect(await tasks(deps)).toHaveLength(1);
  });

  it("five syncs that find it missing at once create it once", async () => {
    const deps = await jobDeps();
    // The sync after the task is made cannot create the issue (a 502), so five ticks find it missing at once.
    fake.faults.failNext({ method: "POST", path: /\/issues$/, status: 502, times: 1 });
    await reconcile({ kind: "tick" }, deps);
    expect(issuesOf(1)).toHaveLength(0);
    expect((await tasks(deps))[0]!.github?.issueClaim).toBeUndefined(); // given back after the failed create
    await Promise.all([1, 2, 3, 4, 5].map(() => reconcile({ kind: "tick" }, deps)));
    await reconcile({ kind: "tick" }, deps);
    expect(issuesOf(1)).toHaveLength(1);
    expect((await tasks(deps))[0]!.github?.issue).toBe(issuesOf(1)[0]!.number);
    expect(statusComments(issuesOf(1)[0]!.number)).toHaveLength(1);
  });

  it("a create whose response is lost is found by the task's marker and synced in the same round", async () => {
    const deps = await jobDeps();
    fake.faults.dropResponse({ method: "POST", path: /\/issues$/, times: 1 });
    await reconcile({ kind: "tick" }, deps);
    expect(issuesOf(1)).toHaveLength(1);
    expect((await tasks(deps))[0]!.github?.issue).toBe(issuesOf(1)[0]!.number);
    expect(statusComments(issuesOf(1)[0]!.number)).toHaveLength(1);
  });

  it("a claim left by a sync that crashed after creating the issue lapses, and the issue it made is linked, not made again", async () => {
    const deps = await jobDeps();
    fake.faults.failNext({ method: "POST", path: /\/issues$/, status: 502, times: 1 });
    await reconcile({ kind: "tick" }, deps);
    // The crashed sync: it claimed task 1's issue and created it, then died before linking it.
    const made = fake.state.addIssue(REPO, { title: "Sweep the flaky tests", body: "<!-- agent-router:task=1 kind=issue key=1 -->\nTask 1 of the scheduled job `sweep`", labels: ["agent-router/job"] });
    const snap = await deps.store.read();
    const task = findTask(snap.ledger, 1)!;
    await deps.store.write({ ledger: replaceTask(snap.ledger, { ...task, github: { ...task.github, issueClaim: { at: clock.now().toISOString(), by: "crashed" } } }), message: "test: a crashed sync's claim" }, snap.head);

    await reconcile({ kind: "tick" }, deps); // the claim is fresh: the issue is left to its holder
    expect(findTask((await deps.store.read()).ledger, 1)!.github?.issue).toBeUndefined();

    clock.advance(ISSUE_CLAIM_MS + 1);
    await reconcile({ kind: "tick" }, deps);
    expect(issuesOf(1)).toHaveLength(1);
    expect(findTask((await deps.store.read()).ledger, 1)!.github).toMatchObject({ issue: made.number });
    expect(statusComments(made.number)).toHaveLength(1);
  });

  it("a job with issue: false opens none, and its task is not synced", async () => {
    const deps = await jobDeps({ issue: false });
    await reconcile({ kind: "tick" }, deps);
    await reconcile({ kind: "tick" }, deps);
    expect(await tasks(deps)).toHaveLength(1);
    expect(issuePosts()).toEqual([]);
    // Nothing about issues or pull requests is even read: the task has nowhere to show.
    expect(fake.requests.filter((r) => /\/(issues|pulls)\b/.test(r.path)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});

describe("the job's issue never becomes a task of its own", () => {
  it("not when a maintainer puts the trigger label on it, nor when it is reopened with it", async () => {
    const deps = await jobDeps();
    await reconcile({ kind: "tick" }, deps);
    const n = issuesOf(1)[0]!.number;
    maintainerOf(fake);
    fake.state.labelIssue(REPO, n, "agent", "maintainer");
    fake.state.labelIssue(REPO, n, "agent:codex", "maintainer");
    for (const [action, id] of [["labeled", "d-1"], ["opened", "d-2"], ["reopened", "d-3"]] as const) {
      const r = await reconcile(issueEvent(n, action, id), deps);
      expect(r.outcome).toEqual({ kind: "ignored", why: `issue #${n} was opened by the router for another task` });
    }
    expect((await tasks(deps)).map((t) => [t.id, t.source.kind])).toEqual([[1, "job"]]);
  });

  it("not before the ledger links it: its marker is enough", async () => {
    const deps = await jobDeps();
    await reconcile({ kind: "tick" }, deps);
    // An issue the router is creating for a task right now (the create landed, the link is not written yet).
    const opening = fake.state.addIssue(REPO, { title: "Sweep", body: "<!-- agent-router:task=7 kind=issue key=1 -->\nTask 7", labels: ["agent"] });
    const r = await reconcile(issueEvent(opening.number, "opened", "d-1"), deps);
    expect(r.outcome).toMatchObject({ kind: "ignored" });
    expect(await tasks(deps)).toHaveLength(1);
  });

  it("not when a scheduled run looks for labelled issues whose event was lost (even with the router's labels taken off)", async () => {
    const deps = await jobDeps();
    await reconcile({ kind: "tick" }, deps);
    const n = issuesOf(1)[0]!.number;
    const issue = fake.state.mustRepo(REPO).issues.get(n)!;
    issue.labels = [];
    issue.body = "Edited by a person: the marker is gone.";
    maintainerOf(fake);
    fake.state.labelIssue(REPO, n, "agent", "maintainer");
    // A person's labelled issue whose event was lost is found; the job's is not.
    const other = fake.state.addIssue(REPO, { title: "Importer drops rows", body: "Rows vanish.", user: "octocat" });
    fake.state.labelIssue(REPO, other.number, "agent", "maintainer");
    const missed = await missedIssueEvents(deps, deps.github!);
    expect(missed.map((e) => e.issue.number)).toEqual([other.number]);
  });
});
