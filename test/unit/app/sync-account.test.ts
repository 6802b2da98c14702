// The router's own account in a sync: a comment that starts with a router marker counts as the
// router's only when the router's account wrote it. The account is asked of GitHub (`viewer`) by the
// first sync that needs it, once per client, never by an idle reconcile; when GitHub does not say,
// the reconcile fails and no marked comment is adopted or created (the next run tries again).
import { describe, expect, it } from "vitest";
import type { GitHubIo, ReconcileDeps } from "../../../src/app/app-deps.ts";
import { reconcile } from "../../../src/app/reconcile.ts";
import { isRouterError } from "../../../src/core/errors.ts";
import type { GitHubActor, GitHubComment, GitHubIssue } from "../../../src/core/github-port.ts";
import type { IssueEvent } from "../../../src/core/reconcile/trigger.ts";
import { parseMarker } from "../../../src/core/sync/markers.ts";
import { MemoryGitHub } from "../../fakes/memory-github.ts";
import { memoryLog } from "../../fakes/memory-log.ts";
import { appHarness, testRouting } from "../../support/app.ts";

const ROUTER: GitHubActor = { login: "github-actions[bot]", id: 41898282, type: "Bot" };
const MALLORY: GitHubActor = { login: "mallory", id: 666, type: "User" };
const OCTOCAT: GitHubActor = { login: "octocat", id: 583231, type: "User" };
const ISSUE = 12;
const STATUS_MARKER = "<!-- agent-router:task=1 kind=status key=1 -->";

/** MemoryGitHub with one issue thread (its comments, labels, reactions): what syncing a task on it needs. */
function issueThread() {
  const api = new MemoryGitHub();
  const comments: GitHubComment[] = [];
  const created: GitHubComment[] = [];
  const updated: number[] = [];
  const labels = new Set(["agent"]);
  let next = 100;
  /** A comment someone (the router or another account) wrote before the sync. */
  const say = (author: GitHubActor, body: string): GitHubComment => {
    const c: GitHubComment = { id: ++next, body, author, createdAt: "2026-11-01T08:00:00Z", url: `https://github.com/${api.repository}/issues/${ISSUE}#issuecomment-${next}` };
    comments.push(c);
    return c;
  };
  const issue = (): GitHubIssue => ({ number: ISSUE, id: 9012, nodeId: "I_12", title: "Importer drops rows", body: "Rows after 1000 vanish.", state: "open", labels: [...labels], author: OCTOCAT, url: `https://github.com/${api.repository}/issues/${ISSUE}`, isPullRequest: false });
  return Object.assign(api, {
    comments,
    created,
    updated,
    say,
    getIssue: async (n: number): Promise<GitHubIssue | null> => (n === ISSUE ? issue() : null),
    listComments: async (): Promise<GitHubComment[]> => [...comments],
    createComment: async (_issue: number, body: string): Promise<GitHubComment> => {
      const account = typeof api.account === "function" ? await api.account() : api.account;
      const c = say({ login: account.login, id: account.id, type: "Bot" }, body);
      created.push(c);
      return c;
    },
    updateComment: async (id: number, body: string): Promise<void> => {
      updated.push(id);
      comments.find((c) => c.id === id)!.body = body;
    },
    deleteComment: async (id: number): Promise<void> => void comments.splice(comments.findIndex((c) => c.id === id), 1),
    react: async (): Promise<void> => undefined,
    addLabels: async (_issue: number, add: string[]): Promise<void> => add.forEach((l) => labels.add(l)),
    removeLabel: async (_issue: number, label: string): Promise<void> => void labels.delete(label),
    ensureLabel: async (): Promise<void> => undefined,
  });
}

const opened = (deliveryId: string): IssueEvent => ({ kind: "issue", action: "opened", deliveryId, issue: { number: ISSUE, title: "Importer drops rows", body: "Rows after 1000 vanish.", labels: ["agent"], author: OCTOCAT }, sender: OCTOCAT });

async function world(github: Partial<GitHubIo> = {}) {
  const log = memoryLog();
  const h = appHarness(await testRouting(), { log });
  const api = issueThread();
  api.account = { id: ROUTER.id, login: ROUTER.login };
  api.permissions.set("octocat", "write");
  const deps: ReconcileDeps = { ...h.deps, github: { api, serverUrl: "https://github.com", ...github } };
  const tracking = () => api.comments.filter((c) => parseMarker(c.body)?.kind === "status");
  return { ...h, api, deps, log, tracking };
}

describe("the router's own account in a sync", () => {
  it("a marked comment another account wrote before the first sync is ignored: the router makes its own tracking comment", async () => {
    const w = await world();
    const forged = w.api.say(MALLORY, `${STATUS_MARKER}\nstatus: done (trust me)`);
    await reconcile(opened("d-1"), w.deps);
    expect(w.api.created).toHaveLength(1);
    expect(w.api.created[0]!.author.id).toBe(ROUTER.id);
    expect(w.api.updated).not.toContain(forged.id);
    expect(forged.body).toContain("trust me");
    expect((await w.task(1)).github).toMatchObject({ issue: ISSUE, commentId: w.api.created[0]!.id });
    expect(w.tracking().filter((c) => c.author.id === ROUTER.id)).toHaveLength(1);
  });

  it("a marked comment the router's account wrote is its tracking comment: reused, no second one", async () => {
    const w = await world();
    const mine = w.api.say(ROUTER, `${STATUS_MARKER}\nstatus: new`);
    await reconcile(opened("d-1"), w.deps);
    expect(w.api.created).toEqual([]);
    expect(w.api.updated).toEqual([mine.id]);
    expect(mine.body).toMatch(/agent-router task 1/);
    expect(w.tracking()).toEqual([mine]);
  });

  it("GitHub is asked once per client however many reconciles sync, and not at all by an idle tick", async () => {
    const w = await world();
    await reconcile({ kind: "tick" }, w.deps); // nothing to sync yet
    expect(w.api.viewerCalls).toBe(0);
    await reconcile(opened("d-1"), w.deps);
    expect(w.api.viewerCalls).toBe(1);
    await reconcile({ kind: "comment", deliveryId: "c-1", issue: ISSUE, comment: { id: w.api.say(OCTOCAT, "/agent cancel").id, body: "/agent cancel", author: OCTOCAT } }, w.deps);
    expect((await w.task(1)).status).toBe("cancelled");
    expect(w.api.viewerCalls).toBe(1);
    // A new client in another run: an idle tick (everything in sync) asks nothing.
    const fresh = issueThread();
    await reconcile({ kind: "tick" }, { ...w.deps, github: { api: fresh, serverUrl: "https://github.com" } });
    expect(fresh.viewerCalls).toBe(0);
  });

  it("a reply marker another account planted for a command does not stop the router's own reply", async () => {
    const w = await world();
    await reconcile(opened("d-1"), w.deps);
    const command = w.api.say(OCTOCAT, "/agent status");
    w.api.say(MALLORY, `<!-- agent-router:task=1 kind=reply key=${command.id} -->\nalready answered`);
    await reconcile({ kind: "comment", deliveryId: "c-1", issue: ISSUE, comment: { id: command.id, body: command.body, author: OCTOCAT } }, w.deps);
    const replies = w.api.created.filter((c) => parseMarker(c.body)?.kind === "reply");
    expect(replies.map((c) => [c.author.id, parseMarker(c.body)?.key])).toEqual([[ROUTER.id, String(command.id)]]);
  });

  it("a known account id is used as is: GitHub is not asked", async () => {
    const w = await world({ accountId: ROUTER.id });
    w.api.say(MALLORY, `${STATUS_MARKER}\nforged`);
    await reconcile(opened("d-1"), w.deps);
    expect(w.api.viewerCalls).toBe(0);
    expect(w.api.created).toHaveLength(1);
  });

  it.each([
    ["GitHub fails", () => Promise.reject(new Error("GitHub answered 502 to POST /graphql Viewer"))],
    ["GitHub answers no account id", () => Promise.resolve({ id: 0, login: "ghost" })],
  ])("%s: the reconcile fails with E_GITHUB_ACCOUNT, no marked comment is adopted or created; the next run syncs", async (_why, answer) => {
    const w = await world();
    const forged = w.api.say(MALLORY, `${STATUS_MARKER}\nstatus: done (trust me)`);
    w.api.account = answer;
    const err = await reconcile(opened("d-1"), w.deps).then(() => null, (e: unknown) => e);
    expect(isRouterError(err, "E_GITHUB_ACCOUNT"), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/could not learn the router's own GitHub account/);
    expect(w.api.created).toEqual([]);
    expect(w.api.updated).toEqual([]);
    expect(forged.body).toContain("trust me");
    const task = await w.task(1);
    expect(task.github?.commentId).toBeUndefined();
    expect(task.github?.synced ?? 0).toBeLessThan(task.history.length);
    // The next run (GitHub answers again) asks again and syncs; the forged comment stays ignored.
    w.api.account = { id: ROUTER.id, login: ROUTER.login };
    await reconcile({ kind: "tick" }, w.deps);
    expect(w.api.created).toHaveLength(1);
    expect((await w.task(1)).github?.commentId).toBe(w.api.created[0]!.id);
    expect(w.api.updated).not.toContain(forged.id);
  });
});
