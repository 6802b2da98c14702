// Child tasks as GitHub issues: one issue per child however many syncs plan it at once (a claim in
// the ledger lets one create it), a lost create response is found by the child's marker, and a
// claim whose holder crashed lapses and the next sync links the issue it made instead of a second.
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ISSUE_CLAIM_MS } from "../../src/app/ensure-once.ts";
import type { ReconcileDeps } from "../../src/app/app-deps.ts";
import { reconcile } from "../../src/app/reconcile.ts";
import { findTask, replaceTask } from "../../src/core/ledger/ledger.ts";
import { parseMarker } from "../../src/core/sync/markers.ts";
import type { FakeGitHub } from "../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../fakes/fake-github/index.ts";
import { handoffRun } from "../fakes/fake-agent-runner.ts";
import type { SteppingClock } from "../support/app.ts";
import { steppingClock } from "../support/app.ts";
import { makeRemoteWithClones, removeTempDirs } from "../support/git-repo.ts";
import { cloneWorker, githubDeps, labelledIssue, REPO, runAttempt } from "../support/github-app.ts";

let fake: FakeGitHub;
let clock: SteppingClock;
let clone: string;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
beforeEach(async () => {
  // One clock for the router and GitHub: looking for issues "since the claim" compares the two.
  clock = steppingClock();
  fake = await startFakeGitHub({ clock: () => clock.now() });
  const made = makeRemoteWithClones(1);
  clone = made.clones[0]!;
  fake.state.linkGitRemote(REPO, made.bare);
});
afterEach(async () => {
  expect(fake.state.schemaProblems).toEqual([]);
  await fake.close();
  removeTempDirs();
});
afterAll(() => nock.enableNetConnect());

const CONFIG = { router: { fallback: { agent: "claude", profile: "planner" } } };
const split = handoffRun({ status: "delegate", summary: "split in two", delegations: [{ key: "a", title: "Part a", profile: "feature" }, { key: "b", title: "Part b", profile: "feature" }] });

/** Issue #1 becomes task 1, whose attempt delegates tasks 2 and 3. */
async function delegated(deps: ReconcileDeps): Promise<void> {
  await reconcile(labelledIssue(fake, "d-1"), deps);
  await runAttempt(deps, cloneWorker(deps, clone, [() => split]), 1);
}

/** Issues carrying child task `id`'s marker. */
const childIssues = (id: number) => [...fake.state.mustRepo(REPO).issues.values()].filter((i) => !i.pull_request && parseMarker(i.body ?? "")?.kind === "issue" && parseMarker(i.body ?? "")?.taskId === id);
const issuePosts = () => fake.requests.filter((r) => r.method === "POST" && /\/issues$/.test(r.path));

describe("child issues", () => {
  it("each child gets one issue, linked as a sub-issue of the parent's; later reconciles make no more", async () => {
    const deps = await githubDeps(fake, CONFIG, { clock });
    await delegated(deps);
    await reconcile({ kind: "tick" }, deps);
    const { ledger } = await deps.store.read();
    for (const id of [2, 3]) {
      expect(childIssues(id)).toHaveLength(1);
      expect(findTask(ledger, id)!.github).toMatchObject({ issue: childIssues(id)[0]!.number });
      expect(findTask(ledger, id)!.github?.issueClaim).toBeUndefined();
    }
    expect(fake.state.mustRepo(REPO).issues.get(1)!.subIssueIds).toEqual([childIssues(2)[0]!.id, childIssues(3)[0]!.id]);
    await Promise.all([1, 2, 3, 4, 5].map(() => reconcile({ kind: "tick" }, deps)));
    expect(issuePosts()).toHaveLength(2);
  });

  it("five syncs planning the same children at once create each child's issue once", async () => {
    const deps = await githubDeps(fake, CONFIG, { clock });
    // The mirror after the delegation cannot create the issues (a 502 each), so five ticks find them missing at once.
    fake.faults.failNext({ method: "POST", path: /\/issues$/, status: 502, times: 2 });
    await delegated(deps);
    expect(childIssues(2)).toHaveLength(0);
    await Promise.all([1, 2, 3, 4, 5].map(() => reconcile({ kind: "tick" }, deps)));
    await reconcile({ kind: "tick" }, deps);
    expect(childIssues(2)).toHaveLength(1);
    expect(childIssues(3)).toHaveLength(1);
    const { ledger } = await deps.store.read();
    expect(findTask(ledger, 2)!.github?.issue).toBe(childIssues(2)[0]!.number);
    expect(findTask(ledger, 3)!.github?.issue).toBe(childIssues(3)[0]!.number);
  });

  it("a create whose response is lost is found by the child's marker and linked in the same sync", async () => {
    const deps = await githubDeps(fake, CONFIG, { clock });
    fake.faults.dropResponse({ method: "POST", path: /\/issues$/, times: 1 });
    await delegated(deps);
    const { ledger } = await deps.store.read();
    expect(childIssues(2)).toHaveLength(1);
    expect(findTask(ledger, 2)!.github?.issue).toBe(childIssues(2)[0]!.number);
    expect(findTask(ledger, 3)!.github?.issue).toBe(childIssues(3)[0]!.number);
  });

  it("a claim left by a sync that crashed after creating the issue lapses, and the issue it made is linked, not made again", async () => {
    const deps = await githubDeps(fake, CONFIG, { clock });
    fake.faults.failNext({ method: "POST", path: /\/issues$/, status: 502, times: 2 });
    await delegated(deps);
    // The crashed sync: it claimed child 2 and created its issue, then died before linking it.
    const made = fake.state.addIssue(REPO, { title: "Part a", body: "<!-- agent-router:task=2 kind=issue key=1 -->\nChild task 2" });
    const snap = await deps.store.read();
    const child = findTask(snap.ledger, 2)!;
    await deps.store.write({ ledger: replaceTask(snap.ledger, { ...child, github: { ...child.github, issueClaim: { at: clock.now().toISOString(), by: "crashed" } } }), message: "test: a crashed sync's claim" }, snap.head);

    await reconcile({ kind: "tick" }, deps); // the claim is fresh: child 2 is left to its holder
    expect(childIssues(2)).toHaveLength(1);
    expect(findTask((await deps.store.read()).ledger, 2)!.github?.issue).toBeUndefined();

    clock.advance(ISSUE_CLAIM_MS + 1);
    await reconcile({ kind: "tick" }, deps);
    expect(childIssues(2)).toHaveLength(1);
    expect(findTask((await deps.store.read()).ledger, 2)!.github).toMatchObject({ issue: made.number });
    expect(findTask((await deps.store.read()).ledger, 2)!.github?.issueClaim).toBeUndefined();
  });

  it("an issue someone else opened with a copy of the child's marker is not taken for the child's", async () => {
    const deps = await githubDeps(fake, CONFIG, { clock });
    fake.faults.failNext({ method: "POST", path: /\/issues$/, status: 502, times: 2 });
    await delegated(deps);
    // A stranger plants an issue carrying child 2's marker; the router's claim on child 2 then lapses.
    const planted = fake.state.addIssue(REPO, { title: "Part a", body: "<!-- agent-router:task=2 kind=issue key=1 -->\nChild task 2", user: "stranger" });
    const snap = await deps.store.read();
    const child = findTask(snap.ledger, 2)!;
    await deps.store.write({ ledger: replaceTask(snap.ledger, { ...child, github: { ...child.github, issueClaim: { at: clock.now().toISOString(), by: "crashed" } } }), message: "test: a lapsed claim" }, snap.head);
    clock.advance(ISSUE_CLAIM_MS + 1);
    await reconcile({ kind: "tick" }, deps); // looks for the marker (the planted issue is not the router's), then its create meets the last 502
    await reconcile({ kind: "tick" }, deps);
    const linked = findTask((await deps.store.read()).ledger, 2)!.github?.issue;
    expect(linked).toBeDefined();
    expect(linked).not.toBe(planted.number);
    expect(fake.state.mustRepo(REPO).issues.get(linked!)!.user.login).toBe(fake.state.viewer.login);
  });
});
