// Pull requests end to end: a worker's attempt in a real clone commits and pushes the task branch
// to a bare remote that the fake GitHub reads as its repository's branches; the router (never the
// agent) opens the pull request. However often and however concurrently the issue's delivery
// comes, and when a create's response is lost or another writer won the race, there is one pull
// request, updated in place by later attempts.
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { reconcile } from "../../src/app/reconcile.ts";
import { parseMarker } from "../../src/core/sync/markers.ts";
import type { FakeGitHub } from "../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../fakes/fake-github/index.ts";
import { memoryLog } from "../fakes/memory-log.ts";
import { makeRemoteWithClones, removeTempDirs, sh } from "../support/git-repo.ts";
import { cloneWorker, githubDeps, labelledIssue, REPO, runAttempt, writes } from "../support/github-app.ts";

let fake: FakeGitHub;
let bare: string;
let clone: string;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
beforeEach(async () => {
  fake = await startFakeGitHub();
  const made = makeRemoteWithClones(1);
  bare = made.bare;
  clone = made.clones[0]!;
  fake.state.linkGitRemote(REPO, bare);
});
afterEach(async () => {
  expect(fake.state.schemaProblems).toEqual([]);
  await fake.close();
  removeTempDirs();
});
afterAll(() => nock.enableNetConnect());

const pulls = () => [...fake.state.mustRepo(REPO).pulls.values()];
const trackingComments = () => [...fake.state.mustRepo(REPO).comments.values()].filter((c) => parseMarker(c.body)?.kind === "status");
const syncFailures = (log: ReturnType<typeof memoryLog>) => log.lines.filter((l) => /sync failed/.test(l.msg));
const pullPosts = () => fake.requests.filter((r) => r.method === "POST" && /\/pulls$/.test(r.path));

describe("pull requests", () => {
  it("the worker pushes the task branch and the router opens one pull request that closes the issue; the same delivery five times (five at once) changes nothing", async () => {
    const deps = await githubDeps(fake);
    const worker = cloneWorker(deps, clone, [writes("fix.txt", "Kept rows after 1000")]);
    await Promise.all([1, 2, 3, 4, 5].map(() => reconcile(labelledIssue(fake, "d-1"), deps)));
    await runAttempt(deps, worker, 1);

    const head = sh(bare, "rev-parse", "refs/heads/agent-router/task-1");
    expect(sh(bare, "show", `${head}:fix.txt`)).toBe("Kept rows after 1000");
    expect(pulls()).toHaveLength(1);
    expect(pulls()[0]).toMatchObject({ head: "agent-router/task-1", base: "main", state: "open", draft: false });
    expect(pulls()[0]!.body).toMatch(/Closes #1\b/);
    expect(pulls()[0]!.body).toContain("Kept rows after 1000");
    const { ledger } = await deps.store.read();
    expect(ledger.tasks[0]!.github?.pr).toBe(pulls()[0]!.number);

    await Promise.all([1, 2, 3, 4, 5].map(() => reconcile(labelledIssue(fake, "d-1"), deps)));
    for (let i = 0; i < 5; i++) await reconcile(labelledIssue(fake, "d-1"), deps);
    expect((await deps.store.read()).ledger.tasks).toHaveLength(1);
    expect(trackingComments()).toHaveLength(1);
    expect(pulls()).toHaveLength(1);
    expect(pullPosts()).toHaveLength(1);
  });

  it("five reconciles racing to open the pull request end with one: the losers' 422 'already exists' finds the winner's", async () => {
    const deps = await githubDeps(fake);
    await reconcile(labelledIssue(fake, "d-1"), deps);
    // The mirror after the attempt fails to open the pull request (a 502), so five ticks find it missing at once.
    fake.faults.failNext({ method: "POST", path: /\/pulls$/, status: 502, times: 1 });
    await runAttempt(deps, cloneWorker(deps, clone, [writes("fix.txt", "Fixed")]), 1);
    expect(pulls()).toHaveLength(0);

    const log = memoryLog();
    await Promise.all([1, 2, 3, 4, 5].map(() => reconcile({ kind: "tick" }, { ...deps, log })));
    expect(pulls()).toHaveLength(1);
    // Every racer ends synced: a loser's 422 is the winner's pull request, not a failed sync.
    expect(syncFailures(log)).toEqual([]);
    expect(pullPosts().filter((r) => r.status === 422).length).toBeGreaterThan(0);
    const task = (await deps.store.read()).ledger.tasks[0]!;
    expect(task.github?.pr).toBe(pulls()[0]!.number);
    expect(task.github?.synced).toBe(task.history.length);
  });

  it("a pull request POST whose response is lost is found, not opened twice", async () => {
    const deps = await githubDeps(fake);
    await reconcile(labelledIssue(fake, "d-1"), deps);
    fake.faults.dropResponse({ method: "POST", path: /\/pulls$/, times: 1 });
    const log = memoryLog();
    await runAttempt({ ...deps, log }, cloneWorker(deps, clone, [writes("fix.txt", "Fixed")]), 1);
    expect(syncFailures(log)).toEqual([]);
    expect(pulls()).toHaveLength(1);
    expect(pullPosts()).toHaveLength(1);
    expect((await deps.store.read()).ledger.tasks[0]!.github?.pr).toBe(pulls()[0]!.number);
  });

  it("links in the agent's text keep to the allow-list: GitHub's hosts and github.allowedLinkHosts stay, any other is removed", async () => {
    const deps = await githubDeps(fake, { github: { allowedLinkHosts: ["docs.example.com"] } });
    await reconcile(labelledIssue(fake, "d-1"), deps);
    await runAttempt(deps, cloneWorker(deps, clone, [writes("fix.txt", "See https://docs.example.com/csv and https://github.com/acme/widgets/issues/1; ![x](https://evil.example/p.png?q=SECRET)")]), 1);
    const body = pulls()[0]!.body ?? "";
    expect(body).toContain("https://docs.example.com/csv");
    expect(body).toContain("https://github.com/acme/widgets/issues/1");
    expect(body).not.toContain("evil.example");
    expect(body).not.toContain("SECRET");
    expect(body).toContain("link removed: evil[.]example");
  });

  it("a retry's attempt starts from the pushed branch, and its result updates the same pull request", async () => {
    const deps = await githubDeps(fake);
    const maintainer = fake.state.user("maintainer");
    fake.state.mustRepo(REPO).permissions.set("maintainer", "write");
    const worker = cloneWorker(deps, clone, [writes("one.txt", "First pass"), writes("two.txt", "Second pass")]);
    await reconcile(labelledIssue(fake, "d-1"), deps);
    await runAttempt(deps, worker, 1);
    const first = sh(bare, "rev-parse", "refs/heads/agent-router/task-1");

    const said = fake.state.addComment(REPO, 1, "/agent retry", "maintainer");
    const r = await reconcile({ kind: "comment", deliveryId: "c-1", issue: 1, comment: { id: said.id, body: said.body, author: { login: maintainer.login, id: maintainer.id, type: maintainer.type } } }, deps);
    expect(r.outcome).toMatchObject({ kind: "moved" });
    await runAttempt(deps, worker, 1);

    const second = sh(bare, "rev-parse", "refs/heads/agent-router/task-1");
    expect(sh(bare, "rev-parse", `${second}^`)).toBe(first);
    expect(pulls()).toHaveLength(1);
    expect(pulls()[0]!.body).toContain("Second pass");
    expect(pullPosts()).toHaveLength(1);
  });
});
