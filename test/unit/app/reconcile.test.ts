// reconcile(trigger): one trigger kind per test, over the memory store and the fakes. Every
// reconcile reads, plans, writes at most ONE compare-and-swap commit and then performs effects; a
// dry run plans the same and writes, runs and asks nothing.
import { describe, expect, it } from "vitest";
import type { ReconcileDeps } from "../../../src/app/app-deps.ts";
import type { ReconcileOptions, ReconcileResult } from "../../../src/app/reconcile.ts";
import { reconcile } from "../../../src/app/reconcile.ts";
import type { Profile } from "../../../src/core/config/profile.ts";
import type { IssueEvent, Trigger } from "../../../src/core/reconcile/trigger.ts";
import type { GitHubPermission } from "../../../src/core/github-port.ts";
import { MemoryGitHub } from "../../fakes/memory-github.ts";
import type { Script } from "../../fakes/fake-agent-runner.ts";
import { failedRun, handoffRun } from "../../fakes/fake-agent-runner.ts";
import { InstrumentedLedgerStore } from "../../fakes/instrumented-ledger-store.ts";
import { spyClassifier } from "../../fakes/spy-classifier.ts";
import { SpyExecutor } from "../../fakes/spy-executor.ts";
import type { AppHarness } from "../../support/app.ts";
import { applyEvent, appHarness, gatedProfile, T0, testRouting } from "../../support/app.ts";

const done = (summary = "all good") => handoffRun({ status: "done", summary });
const reviewedProfile = (loaded: ReadonlyMap<string, Profile>): Profile => ({ ...loaded.get("feature")!, name: "reviewed", review: { required: true, maxRounds: 1 } });

type Harness = AppHarness & { store: InstrumentedLedgerStore; classifier: ReturnType<typeof spyClassifier>; once: (trigger: Trigger, opts?: ReconcileOptions, deps?: ReconcileDeps) => Promise<ReconcileResult> };

async function harness(scripts: Record<string, Script> = {}, config: Record<string, unknown> = {}, classifier = spyClassifier()): Promise<Harness> {
  const store = new InstrumentedLedgerStore();
  const h = appHarness(await testRouting(config, {}, (l) => [gatedProfile(l), reviewedProfile(l)]), { scripts, store, classifier });
  /** One reconcile, checked to write at most one commit. */
  const once = async (trigger: Trigger, opts: ReconcileOptions = {}, deps: ReconcileDeps = h.deps): Promise<ReconcileResult> => {
    const s = deps.store as InstrumentedLedgerStore;
    const before = s.writes;
    const r = await reconcile(trigger, deps, opts);
    expect(s.writes - before, `${trigger.kind} wrote more than one commit`).toBeLessThanOrEqual(1);
    expect(s.writes - before).toBe(r.written ? 1 : 0);
    return r;
  };
  return { ...h, store, classifier, once };
}

const cli = (command: Extract<Trigger, { kind: "cli" }>["command"]): Trigger => ({ kind: "cli", command });
const OCTOCAT = { login: "octocat", id: 583231, type: "User" };
const issue = (action: IssueEvent["action"], deliveryId: string | undefined, labels = ["agent"], n = 12): IssueEvent => ({ kind: "issue", action, ...(deliveryId ? { deliveryId } : {}), issue: { number: n, title: "Importer drops rows", body: "Rows after 1000 vanish.", labels, author: OCTOCAT }, sender: OCTOCAT });

describe("reconcile: cli verbs", () => {
  it("add creates the task in one commit and does not route it (the CLI routes when asked)", async () => {
    const h = await harness();
    const r = await h.once(cli({ verb: "add", title: "Add a CSV parser", body: "with quotes", labels: ["feature"] }));
    expect(r.outcome).toMatchObject({ kind: "created", task: { id: 1, title: "Add a CSV parser", status: "new" } });
    expect(r.written).toBe(true);
    expect(h.store.messages[0]).toMatch(/^cli add: task 1 created: Add a CSV parser\n\nTrace: 00-trace-01$/);
    expect((await h.task(1)).status).toBe("new");
    expect(h.classifier.asked).toEqual([]);
  });

  it("route decides (rules, then the classifier, then the fallback) and records the route with the classifier's call, in one commit", async () => {
    const h = await harness();
    await h.once(cli({ verb: "add", title: "Add a CSV parser", body: "", labels: [] }));
    await h.once(cli({ verb: "add", title: "Fix the crash on empty input", body: "", labels: [] }));
    const first = await h.once(cli({ verb: "route", taskId: 1 }));
    expect(first.outcome).toMatchObject({ kind: "routed", taskId: 1, route: { agent: "codex", profile: "feature", decidedBy: "llm" } });
    expect((await h.task(1)).route).toMatchObject({ agent: "codex", complexity: "high", classifier: { provider: "spy", outcome: "verdict" } });
    expect((await h.task(2)).status).toBe("new"); // only the task named
    const byRule = await h.once(cli({ verb: "route", taskId: 2 }));
    expect(byRule.decisions.get(2)!.route).toMatchObject({ profile: "bugfix", decidedBy: "rule" });
    expect(h.classifier.asked.map((t) => t.title)).toEqual(["Add a CSV parser"]);
    // Routing again re-routes, and says what it was before.
    const again = await h.once(cli({ verb: "route", taskId: 1 }));
    expect(again.outcome).toMatchObject({ kind: "routed", previous: { agent: "codex" } });
  });

  it("run claims one attempt in one commit; the Work reconcile performs and records it in one more", async () => {
    const h = await harness({ claude: [done("parsed")] });
    const id = await h.add("Add a CSV parser");
    const exec = new SpyExecutor();
    const claimed = await h.once(cli({ verb: "run", taskId: id }), { claim: { limit: 1 }, executor: exec });
    expect(claimed.outcome).toEqual({ kind: "claimed", claim: { taskId: id, attempt: 1, key: "key-1-1", agent: "claude" } });
    expect(exec.attempts).toEqual([claimed.claims[0]]); // the run_attempt effect goes to the executor after the commit
    expect((await h.task(id)).status).toBe("running");
    const w = await h.once({ kind: "work", taskId: id, attempt: 1, key: "key-1-1" }, { worker: h.io });
    expect(w.written).toBe(true);
    expect(w.recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "done" })]);
    expect(h.store.messages.at(-1)).toContain("work on task 1 attempt 1: task 1: done");
  });

  it("run refuses tasks that are not runnable, claiming and writing nothing", async () => {
    const h = await harness({ claude: [handoffRun({ status: "delegate", summary: "split", delegations: [{ key: "a", title: "Part a", profile: "feature" }, { key: "b", title: "Part b", profile: "feature", after: ["a"] }] })] });
    const parent = await h.add("Plan it", { profile: "planner" });
    const before = h.store.writes;
    await h.run(parent);
    expect(h.store.writes).toBe(before + 2); // the claim, then the result with both children in one write
    const fresh = (await h.once(cli({ verb: "add", title: "Never routed", body: "", labels: [] }))).outcome;
    const neverRouted = fresh.kind === "created" ? fresh.task.id : 0;
    const [a, b] = (await h.task(parent)).children;
    expect((await h.task(b!)).after).toEqual(["a"]);
    for (const child of [a!, b!]) await applyEvent(h.deps, child, { type: "route", route: { agent: "claude", profile: "feature", complexity: "low", reason: "test", decidedBy: "override" } });

    const writes = h.store.writes;
    const run = async (id: number) => (await h.once(cli({ verb: "run", taskId: id }), { claim: { limit: 1 } })).outcome;
    expect(await run(neverRouted)).toEqual({ kind: "not_runnable", taskId: neverRouted, why: "status new" });
    expect(await run(b!)).toEqual({ kind: "not_runnable", taskId: b, why: "waiting for the tasks it comes after" });
    expect(await run(parent)).toEqual({ kind: "not_runnable", taskId: parent, why: "status waiting" });
    await expect(reconcile(cli({ verb: "run", taskId: 99 }), h.deps, { claim: { limit: 1 } })).rejects.toThrow("no task 99");
    expect(h.store.writes).toBe(writes);
    expect(h.runner.requests).toHaveLength(1);
    expect((await h.task(b!)).attempts).toEqual([]);
  });

  it("run computes retryAt from the injected clock and does not claim before it", async () => {
    const h = await harness({ claude: [failedRun("agent_error", "tool crashed"), done()] });
    const id = await h.add("Flaky");
    await h.run(id);
    const retrying = await h.task(id);
    expect(retrying.status).toBe("retrying");
    // full jitter: floor(random 0.5 × retryBaseSeconds 30 s) after the clock's now
    expect(retrying.retryAt).toBe(new Date(T0 + 15_000).toISOString());
    h.clock.advance(14_999);
    const writes = h.store.writes;
    expect((await h.once(cli({ verb: "run", taskId: id }), { claim: { limit: 1 } })).outcome).toEqual({ kind: "not_runnable", taskId: id, why: `retrying at ${retrying.retryAt}` });
    expect(h.store.writes).toBe(writes);
    h.clock.advance(1);
    expect((await h.run(id)).recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "done", attempt: 2 })]);
    expect((await h.task(id)).attempts[1]!.startedAt).toBe(new Date(T0 + 15_000).toISOString());
  });

  it("next claims the lowest runnable task; with nothing runnable it says so and writes nothing", async () => {
    const h = await harness();
    await h.once(cli({ verb: "add", title: "Unrouted", body: "", labels: [] }));
    const second = await h.add("Second");
    await h.add("Third");
    const r = await h.once(cli({ verb: "next" }), { claim: { limit: 1 } });
    expect(r.outcome).toMatchObject({ kind: "claimed", claim: { taskId: second } });
    expect(r.claims).toHaveLength(1);
    await h.once(cli({ verb: "next" }), { claim: { limit: 1 } });
    const writes = h.store.writes;
    expect((await h.once(cli({ verb: "next" }), { claim: { limit: 1 } })).outcome).toEqual({ kind: "ignored", why: "nothing to run" });
    expect(h.store.writes).toBe(writes);
  });

  it("retry reopens a finished task with a fresh budget, on another agent when asked", async () => {
    const h = await harness({ claude: [done("first")] });
    const id = await h.add("Do it again");
    await h.run(id);
    const r = await h.once(cli({ verb: "retry", taskId: id, agent: "codex" }));
    expect(r.outcome).toEqual({ kind: "moved", taskId: id, event: "retry", from: "done", to: "routed" });
    expect(await h.task(id)).toMatchObject({ status: "routed", budgetFrom: 2, route: { agent: "codex", decidedBy: "override" } });
    await expect(reconcile(cli({ verb: "retry", taskId: id }), h.deps)).rejects.toThrow(/cannot apply "retry" in status "routed"/);
  });

  it("approve lets a gated task run: the gate holds until then, and a dry run of the gate writes nothing", async () => {
    const h = await harness({ claude: [done("gated work")] });
    const id = await h.add("Touch production", { profile: "gated" });
    const writes = h.store.writes;
    const run = (opts: ReconcileOptions = {}) => h.once(cli({ verb: "run", taskId: id }), { claim: { limit: 1 }, ...opts });
    expect((await run({ dryRun: true })).outcome).toEqual({ kind: "awaiting_approval", taskId: id });
    expect(h.store.writes).toBe(writes);
    expect((await run()).outcome).toEqual({ kind: "awaiting_approval", taskId: id });
    expect((await h.task(id)).status).toBe("awaiting_approval");
    expect((await run()).outcome).toEqual({ kind: "not_runnable", taskId: id, why: "status awaiting_approval" });
    expect(h.runner.requests).toEqual([]);
    const approved = await h.once(cli({ verb: "approve", taskId: id }));
    expect(approved.outcome).toEqual({ kind: "moved", taskId: id, event: "approve", from: "awaiting_approval", to: "routed" });
    expect((await h.task(id)).approvals).toEqual([{ by: "cli:tester", at: new Date(T0).toISOString(), attempt: 0 }]);
    expect((await h.run(id)).recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "done" })]);
    expect(h.runner.requests).toHaveLength(1);
  });

  it("cancel of a running task ends its attempt and tells the executor to stop it", async () => {
    const h = await harness();
    const running = await h.add("Running");
    const routed = await h.add("Routed");
    await h.claim(running);
    const exec = new SpyExecutor();
    const r = await h.once(cli({ verb: "cancel", taskId: running, reason: "not needed" }), { executor: exec });
    expect(r.outcome).toEqual({ kind: "moved", taskId: running, event: "cancel", from: "running", to: "cancelled" });
    expect(exec.cancels).toEqual([{ taskId: running, key: "key-1-1" }]);
    expect((await h.task(running)).attempts[0]).toMatchObject({ outcome: "cancelled" });
    const quiet = new SpyExecutor();
    await h.once(cli({ verb: "cancel", taskId: routed }), { executor: quiet });
    expect(quiet.idle).toBe(true);
    expect((await h.task(routed)).status).toBe("cancelled");
  });

  it("serve routes every new task, gates, claims up to the limit and hands the claims and reviews to the executor, in one commit", async () => {
    const h = await harness();
    await h.once(cli({ verb: "add", title: "Add a CSV parser", body: "", labels: [] }));
    await h.once(cli({ verb: "add", title: "Fix the crash on empty input", body: "", labels: [] }));
    const gated = await h.add("Gated", { profile: "gated" });
    const reviewed = await h.add("Reviewed", { profile: "reviewed" });
    await h.claim(reviewed);
    await applyEvent(h.deps, reviewed, { type: "finish", key: "key-4-1", outcome: "review" });
    const exec = new SpyExecutor();
    const writes = h.store.writes;
    const r = await h.once(cli({ verb: "serve" }), { claim: { limit: 5 }, reviews: { limit: 5 }, executor: exec });
    expect(h.store.writes).toBe(writes + 1);
    expect([...r.decisions.keys()]).toEqual([1, 2]);
    expect(r.claims.map((c) => [c.taskId, c.agent])).toEqual([[1, "codex"], [2, "claude"]]);
    expect(exec.attempts).toEqual(r.claims);
    expect(exec.reviews).toEqual([{ taskId: reviewed, key: expect.stringMatching(new RegExp(`^review-${reviewed}-1-[0-9a-z]+$`)), agent: "codex" }]);
    expect((await h.task(reviewed)).reviewClaim).toMatchObject({ key: exec.reviews[0]!.key });
    expect((await h.task(gated)).status).toBe("awaiting_approval");
    expect(h.classifier.asked).toHaveLength(1); // task 2 matched a rule
  });
});

describe("reconcile: issue events", () => {
  /** A harness whose GitHub answers the permission API only (its sync fails, which reconcile logs and outlives). */
  async function withGitHub(permission: GitHubPermission = "write") {
    const h = await harness();
    const api = new MemoryGitHub();
    api.permissions.set("octocat", permission);
    const deps: ReconcileDeps = { ...h.deps, github: { api, serverUrl: "https://github.com" } };
    return { ...h, api, once: (t: Trigger) => h.once(t, {}, deps) };
  }

  it("a labelled issue opened becomes one routed task; the replayed delivery is a duplicate that writes nothing", async () => {
    const h = await withGitHub();
    const r = await h.once(issue("opened", "d-1"));
    expect(r.outcome).toMatchObject({ kind: "created", task: { id: 1, source: { kind: "issue", issue: 12 } } });
    const t = await h.task(1);
    expect(t.status).toBe("routed"); // an issue's reconcile routes new tasks in the same commit
    expect(t.route?.decidedBy).toBe("llm");
    expect((await h.store.read()).ledger.deliveries).toEqual([{ id: "d-1", at: new Date(T0).toISOString() }]);
    const writes = h.store.writes;
    const replay = await h.once(issue("opened", "d-1"));
    expect(replay.outcome).toEqual({ kind: "duplicate", deliveryId: "d-1" });
    expect(replay.written).toBe(false);
    expect(h.store.writes).toBe(writes);
    expect(await h.tasks()).toHaveLength(1);
    // Labelled again later (another delivery): still one task.
    expect((await h.once(issue("labeled", "d-2"))).outcome).toEqual({ kind: "ignored", why: "issue #12 already has task 1" });
    expect(await h.tasks()).toHaveLength(1);
  });

  it("an agent label added by a writer is checked against GitHub and routes the task again in the same commit; a reader's is refused", async () => {
    const h = await withGitHub();
    await h.once(issue("opened", "d-1"));
    const other = (await h.task(1)).route?.agent === "codex" ? "claude" : "codex";
    const labelled = (deliveryId: string): IssueEvent => ({ ...issue("labeled", deliveryId, ["agent", `agent:${other}`]), label: `agent:${other}` });
    h.api.permissions.set("octocat", "read");
    const refused = await h.once(labelled("d-2"));
    expect(refused.outcome).toMatchObject({ kind: "refused", why: expect.stringContaining("octocat has read access; changing a task needs write access") });
    expect((await h.task(1)).hint).toBeUndefined();
    h.api.permissions.set("octocat", "write");
    const writes = h.store.writes;
    const r = await h.once(labelled("d-3"));
    expect(r.outcome).toEqual({ kind: "moved", taskId: 1, event: "edit", from: "routed", to: "new" });
    expect(h.store.writes).toBe(writes + 1);
    expect(await h.task(1)).toMatchObject({ status: "routed", hint: { agent: other }, route: { agent: other } });
  });

  it("closing the issue cancels its live task", async () => {
    const h = await withGitHub();
    await h.once(issue("opened", "d-1"));
    const r = await h.once(issue("closed", "d-2"));
    expect(r.outcome).toEqual({ kind: "moved", taskId: 1, event: "cancel", from: "routed", to: "cancelled" });
    expect((await h.task(1)).history.at(-1)).toMatchObject({ type: "cancel", note: "issue #12 was closed" });
  });

  it("an issue without the trigger label is ignored and nothing is written", async () => {
    const h = await harness();
    const r = await h.once(issue("opened", undefined, ["bug"]));
    expect(r.outcome).toEqual({ kind: "ignored", why: 'issue #12 opened without the "agent" label' });
    expect(r.written).toBe(false);
    expect(h.store.writes).toBe(0);
    expect(await h.tasks()).toEqual([]);
  });

  it("a sender without write access, or with no GitHub to ask, makes no task and writes nothing", async () => {
    const reader = await withGitHub("read");
    expect((await reader.once(issue("opened", "d-1"))).outcome).toMatchObject({ kind: "refused", why: expect.stringContaining("octocat has read access") });
    expect(reader.store.writes).toBe(0);
    const offline = await harness();
    expect((await offline.once(issue("opened", "d-1"))).outcome).toMatchObject({ kind: "refused", why: expect.stringContaining("was not checked") });
    expect(offline.store.writes).toBe(0);
  });
});

describe("reconcile: comment, tick and work", () => {
  it("without GitHub (the local CLI) a comment's permission cannot be checked, so its command is refused and nothing is written", async () => {
    const h = await harness();
    await h.add("Something");
    const writes = h.store.writes;
    const r = await h.once({ kind: "comment", issue: 12, comment: { id: 1, body: "/agent retry", author: { login: "octocat", id: 583231, type: "User" } } });
    expect(r.outcome).toEqual({ kind: "refused", why: "octocat's permission was not checked; nothing was done" });
    expect(h.store.writes).toBe(writes);
  });

  it("tick gives a task whose lease expired back for a retry, in one commit", async () => {
    const h = await harness();
    const id = await h.add("Worker vanished");
    await h.claim(id);
    h.clock.advance(5 * 60_000);
    expect((await h.once({ kind: "tick" })).written).toBe(false); // the lease holds to its last instant
    h.clock.advance(1);
    const r = await h.once({ kind: "tick" });
    expect(r.written).toBe(true);
    expect(r.plan).toEqual([`tick: lease_expired #${id}`]);
    expect(await h.task(id)).toMatchObject({ status: "retrying", retryAt: new Date(T0 + 300_001).toISOString(), attempts: [expect.objectContaining({ outcome: "lease_expired" })] });
  });

  it("tick routes a waiting parent once its children have all settled", async () => {
    const h = await harness({ claude: [handoffRun({ status: "delegate", summary: "split", delegations: [{ key: "a", title: "Part a", profile: "feature" }, { key: "b", title: "Part b", profile: "feature" }] })] });
    const parent = await h.add("Plan it", { profile: "planner" });
    await h.run(parent);
    const [a, b] = (await h.task(parent)).children;
    await applyEvent(h.deps, a!, { type: "cancel" });
    expect((await h.once({ kind: "tick" })).written).toBe(false);
    await applyEvent(h.deps, b!, { type: "cancel" });
    const r = await h.once({ kind: "tick" });
    expect(r.plan).toEqual([`tick: children_settled #${parent}`]);
    expect((await h.task(parent)).status).toBe("routed");
  });

  it("work performs the attempt and records it in the same single commit", async () => {
    const h = await harness({ claude: [done("worked")] });
    const id = await h.add("Do the work");
    const claim = await h.claim(id);
    const writes = h.store.writes;
    const r = await h.once({ kind: "work", taskId: id, attempt: claim.attempt, key: claim.key }, { worker: h.io });
    expect(h.store.writes).toBe(writes + 1);
    expect(r.work).toMatchObject({ kind: "ran" });
    expect((await h.task(id)).status).toBe("done");
    await expect(reconcile({ kind: "work", taskId: id, attempt: 1, key: claim.key }, h.deps)).rejects.toThrow("needs the worker's io");
  });

  it("records many results, routes and claims in one commit, and re-plans on the fresh ledger when another writer wins the race", async () => {
    const h = await harness();
    const ids = [await h.add("one"), await h.add("two"), await h.add("three")];
    for (const id of ids) await h.claim(id);
    await h.once(cli({ verb: "add", title: "Add a CSV parser", body: "", labels: [] }));
    const fourth = await h.add("four");
    // Between this reconcile's read and its write, someone cancels task 4.
    let raced = false;
    h.store.beforeWrite = async () => {
      if (raced) return;
      raced = true;
      await reconcile(cli({ verb: "cancel", taskId: fourth }), h.deps);
    };
    const writes = h.store.writes;
    const results = ids.map((id) => ({ kind: "released" as const, taskId: id, key: `key-${id}-1`, reason: "test" }));
    const r = await reconcile(cli({ verb: "serve" }), h.deps, { results, claim: { limit: 10, busy: new Set(ids) } });
    expect(h.store.writes).toBe(writes + 2); // the other writer's commit, then this reconcile's one
    expect(r.recorded.map((o) => o.kind)).toEqual(["released", "released", "released"]);
    expect(r.claims.map((c) => c.taskId)).toEqual([4]); // task 5 was cancelled meanwhile: not claimed
    expect((await h.task(fourth)).status).toBe("cancelled");
    expect(h.store.messages.at(-1)).toMatch(/^cli serve: 5 changes\n\n/);
  });
});

describe("reconcile --dry-run", () => {
  /**
   * 1 new (the classifier would route it), 2 routed, 3 awaiting approval, 4 cancelled, 5 running
   * whose lease lapsed, 6 in review, 7 routed to a gated profile (the gate is met at its claim).
   */
  async function scenario() {
    const h = await harness({}, {}, spyClassifier({ ok: false, reason: "the spy abstains" }));
    await h.once(cli({ verb: "add", title: "Add a CSV parser", body: "", labels: [] }));
    await h.add("Routed one");
    const gated = await h.add("Gated one", { profile: "gated" });
    await h.once(cli({ verb: "run", taskId: gated }), { claim: { limit: 1 } });
    const cancelled = await h.add("Cancelled one");
    await applyEvent(h.deps, cancelled, { type: "cancel" });
    const lapsed = await h.add("Lapsed one");
    await h.claim(lapsed);
    const reviewed = await h.add("Reviewed one", { profile: "reviewed" });
    await h.claim(reviewed);
    await applyEvent(h.deps, reviewed, { type: "finish", key: `key-${reviewed}-1`, outcome: "review" });
    await h.add("Gated two", { profile: "gated" });
    expect((await h.tasks()).map((t) => t.status)).toEqual(["new", "routed", "awaiting_approval", "cancelled", "running", "in_review", "routed"]);
    h.clock.advance(6 * 60_000);
    return h;
  }

  const suite: { name: string; trigger: Trigger; opts: ReconcileOptions }[] = [
    { name: "serve", trigger: cli({ verb: "serve" }), opts: { claim: { limit: 4 }, reviews: { limit: 2 } } },
    { name: "run", trigger: cli({ verb: "run", taskId: 2 }), opts: { claim: { limit: 1 } } },
    { name: "next", trigger: cli({ verb: "next" }), opts: { claim: { limit: 1 } } },
    { name: "retry", trigger: cli({ verb: "retry", taskId: 4 }), opts: {} },
    { name: "approve", trigger: cli({ verb: "approve", taskId: 3 }), opts: {} },
    { name: "run a gated task", trigger: cli({ verb: "run", taskId: 7 }), opts: { claim: { limit: 1 } } },
    { name: "cancel", trigger: cli({ verb: "cancel", taskId: 2 }), opts: {} },
    { name: "add", trigger: cli({ verb: "add", title: "More", body: "", labels: [] }), opts: {} },
    { name: "route", trigger: cli({ verb: "route", taskId: 1 }), opts: {} },
    { name: "tick", trigger: { kind: "tick" }, opts: { claim: { limit: 2 } } },
    { name: "issue", trigger: issue("opened", "d-1"), opts: { claim: { limit: 1 } } },
    { name: "comment", trigger: { kind: "comment", issue: 1, comment: { id: 1, body: "hi", author: { login: "a", id: 2, type: "User" } } }, opts: {} },
  ];

  it("writes nothing, runs nothing, changes no worktree and asks no classifier, over the whole scenario suite", async () => {
    const h = await scenario();
    const text = h.store.currentText();
    const writeCalls = h.store.writeCalls;
    const exec = new SpyExecutor();
    for (const s of suite) {
      const r = await reconcile(s.trigger, h.deps, { ...s.opts, dryRun: true, worker: h.io, executor: exec });
      expect(r.dryRun, s.name).toBe(true);
      expect(r.written, s.name).toBe(false);
    }
    await reconcile({ kind: "work", taskId: 5, attempt: 1, key: "key-5-1" }, h.deps, { dryRun: true, worker: h.io });
    expect(h.store.writeCalls).toBe(writeCalls);
    expect(h.store.currentText()).toBe(text);
    expect(h.runner.requests).toEqual([]);
    expect(h.workspaces.prepared).toEqual([]);
    expect(h.workspaces.commits).toEqual([]);
    expect(h.workspaces.removed).toEqual([]);
    expect(h.timer.intervals).toEqual([]);
    expect(h.classifier.asked).toEqual([]);
    expect(exec.idle).toBe(true);
  });

  it("plans exactly what a real run on an identical ledger does", async () => {
    const h = await scenario();
    const text = h.store.currentText()!;
    // Without a classifier both decide the same routes, so the whole ledger must match; with one
    // (which abstains), only the real run asks it, and claims, effects and changes still match.
    for (const [name, deps] of [["no classifier", { ...h.deps, classifier: null }], ["a classifier", h.deps]] as const) {
      for (const s of suite) {
      const label = `${s.name} (${name})`;
      const dryExec = new SpyExecutor();
      const asked = h.classifier.asked.length;
      const dry = await reconcile(s.trigger, deps, { ...s.opts, dryRun: true, worker: h.io, executor: dryExec });
      expect(h.classifier.asked.length, label).toBe(asked);
      const twin = new InstrumentedLedgerStore(text);
      const realExec = new SpyExecutor();
      const real = await reconcile(s.trigger, { ...deps, store: twin }, { ...s.opts, executor: realExec });
      // (A route outcome carries the classifier's call and reason, which only the real run has.)
      if (deps.classifier === null || s.name !== "route") expect(dry.outcome, label).toEqual(real.outcome);
      else expect(dry.outcome.kind, label).toBe(real.outcome.kind);
      expect(dry.claims, label).toEqual(real.claims);
      expect(dry.reviews, label).toEqual(real.reviews);
      expect(dry.effects, label).toEqual(real.effects);
      if (deps.classifier === null) expect(dry.ledger, label).toEqual(real.ledger);
      expect(twin.writes, label).toBe(real.written ? 1 : 0);
      // The printed plan: every change the real commit made, then every effect the real run performed.
      const changes = dry.plan.filter((l) => !l.startsWith("would "));
      expect(changes, label).toEqual(real.plan);
      for (const c of real.claims) expect(dry.plan, label).toContain(`would run attempt ${c.attempt} of task ${c.taskId} (key ${c.key})`);
      for (const { taskId, key } of real.reviews) expect(dry.plan, label).toContain(`would review task ${taskId} (key ${key})`);
      expect(realExec.attempts, label).toEqual(real.claims);
      expect(realExec.reviews, label).toEqual(real.reviews);
      expect(dryExec.idle, label).toBe(true);
      expect(dry.agentPlans.map((p) => p.claim), label).toEqual(real.claims);
      }
    }
    // The suite did exercise the interesting parts.
    const serve = await reconcile(cli({ verb: "serve" }), h.deps, { claim: { limit: 4 }, reviews: { limit: 2 }, dryRun: true, worker: h.io });
    expect(serve.plan).toEqual(
      expect.arrayContaining(["tick: lease_expired #5", "task 1 routed to claude/feature (fallback)", "task 7: awaiting approval", "would run attempt 1 of task 1 (key key-1-1)", "would run attempt 1 of task 2 (key key-2-1)", "would run attempt 2 of task 5 (key key-5-2)", "task 6: review claimed", expect.stringMatching(/^would review task 6 \(key review-6-1-[0-9a-z]+\)$/)]),
    );
    expect(h.classifier.asked.length).toBeGreaterThan(0); // the real runs did ask it
  });

  it("run --dry-run returns the runner's exact plan for the claim, and the task stays routed", async () => {
    const h = await harness();
    const id = await h.add("Plan only");
    const writes = h.store.writeCalls;
    const r = await reconcile(cli({ verb: "run", taskId: id }), h.deps, { dryRun: true, claim: { limit: 1 }, worker: h.io });
    expect(h.store.writeCalls).toBe(writes);
    expect(h.runner.requests).toEqual([]);
    expect(h.workspaces.prepared).toEqual([]);
    expect(h.runner.planned).toHaveLength(1);
    const planned = h.runner.planned[0]!;
    expect(planned.bundle).toContain("Plan only");
    expect(planned.workdir).toBe(`(a new worktree for attempt 1 of task ${id})`);
    expect(r.outcome).toEqual({ kind: "claimed", claim: { taskId: id, attempt: 1, key: "key-1-1", agent: "claude" } });
    expect(r.agentPlans).toEqual([{ claim: r.claims[0], plan: h.runner.plan(planned) }]);
    expect((await h.task(id)).status).toBe("routed");
  });
});
