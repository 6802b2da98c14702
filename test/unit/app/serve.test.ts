// serve: the local scheduler, a loop of reconciles with the LocalExecutor running claims and reviews
// in the background. Delegation trees, parallelism, approval gates, review rounds, Ctrl-C, batching
// of results into few commits, backoff when the ledger cannot be written, and untilIdle.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ServeEvent } from "../../../src/app/serve.ts";
import { serve } from "../../../src/app/serve.ts";
import { BUILTIN_PROFILES } from "../../../src/adapters/config-fs/builtin-data.generated.ts";
import type { Profile } from "../../../src/core/config/profile.ts";
import { findTask } from "../../../src/core/ledger/ledger.ts";
import type { Task } from "../../../src/core/ledger/task.ts";
import type { RunFn, Step } from "../../fakes/fake-agent-runner.ts";
import { barrier, deferred, failedRun, FakeAgentRunner, handoffRun, hangUntilAbort } from "../../fakes/fake-agent-runner.ts";
import { InstrumentedLedgerStore } from "../../fakes/instrumented-ledger-store.ts";
import { addTask, applyEvent, appHarness, routeTask, testRouting } from "../../support/app.ts";

afterEach(() => void vi.useRealTimers());

const done = (summary: string) => handoffRun({ status: "done", summary });
type Child = { key: string; title: string; profile: string; after?: string[] };
const delegate = (delegations: Child[]) => handoffRun({ status: "delegate", summary: "split into children", delegations });
const verdict = (decision: "approve" | "request_changes", notes: string) => handoffRun({ status: "done", summary: `review: ${decision}`, review: { decision, notes } });

/**
 * Routing from a repository whose own planner may also delegate to planners (so a tree can be three
 * levels deep), with a config ACL that allows it, a profile gated by approval, and one reviewed.
 */
async function setupRouting() {
  const planner = BUILTIN_PROFILES["planner"]!.replace("to: [feature,", "to: [planner, feature,");
  expect(planner).toContain("to: [planner, feature,");
  const gated = BUILTIN_PROFILES["feature"]!.replace("name: feature", "name: gated").replace("approval: none", "approval: before_run");
  const reviewed = (loaded: ReadonlyMap<string, Profile>): Profile => ({ ...loaded.get("feature")!, name: "reviewed", review: { required: true, maxRounds: 2 } });
  return testRouting({ delegation: { acl: { planner: ["planner", "feature", "docs"] } } }, { ".github/agent-router/profiles/planner.yml": planner, ".github/agent-router/profiles/gated.yml": gated }, (l) => [reviewed(l)]);
}

/** Every agent answers from a table keyed by the task's title: the n-th run of a title takes step n. */
function byTitle(store: InstrumentedLedgerStore, table: Record<string, Step[]>): RunFn {
  const used = new Map<string, number>();
  return async (req, signal) => {
    const title = findTask((await store.read()).ledger, req.taskId)!.title;
    const i = used.get(title) ?? 0;
    used.set(title, i + 1);
    const step = table[title]?.[i];
    if (step === undefined) throw new Error(`no run ${i + 1} scripted for "${title}"`);
    return typeof step === "function" ? step(req, signal) : step;
  };
}

async function harness(table: Record<string, Step[]> | RunFn, store = new InstrumentedLedgerStore()) {
  const routing = await setupRouting();
  const script = typeof table === "function" ? table : byTitle(store, table);
  const runner = new FakeAgentRunner({ claude: script, codex: script, opencode: script });
  const h = appHarness(routing, { runner, store, actor: "router" });
  const byName = async (title: string): Promise<Task> => (await h.tasks()).find((x) => x.title === title)!;
  /** `add` with an agent and profile hint: serve routes it (an override) in its first reconcile. */
  const add = async (title: string, profile: string): Promise<number> => (await addTask(h.deps, title, { hint: { agent: "claude", profile } })).id;
  const run = (opts: { parallelism?: number; untilIdle?: boolean; signal?: AbortSignal; onEvent?: (e: ServeEvent) => void; pollMs?: number } = {}) =>
    serve(h.deps, h.io, { parallelism: opts.parallelism ?? 3, untilIdle: opts.untilIdle ?? true, signal: opts.signal ?? new AbortController().signal, pollMs: opts.pollMs ?? 1, ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) });
  return { ...h, store, byName, add, run };
}

describe("serve", () => {
  it("runs a three-level delegation tree in after-order, in parallel where allowed, and resumes each parent once with its children's results", async () => {
    const meetAB = barrier(2); // "Plan the parsing" and "Write the docs" must be in flight together
    const meetLeaves = barrier(2);
    let planStatusWhenWired: string | undefined;
    const h = await harness({
      "Build the importer": [
        delegate([{ key: "a", title: "Plan the parsing", profile: "planner" }, { key: "b", title: "Write the docs", profile: "docs" }, { key: "c", title: "Wire the CLI", profile: "feature", after: ["a"] }]),
        done("importer assembled"),
      ],
      "Plan the parsing": [async () => (await meetAB(), delegate([{ key: "a1", title: "Parse headers", profile: "feature" }, { key: "a2", title: "Parse rows", profile: "feature" }])), done("parsing-planned-and-merged")],
      "Write the docs": [async () => (await meetAB(), done("docs-written"))],
      "Parse headers": [async () => (await meetLeaves(), done("headers-parsed"))],
      "Parse rows": [async () => (await meetLeaves(), done("rows-parsed"))],
      "Wire the CLI": [async () => ((planStatusWhenWired = (await h.byName("Plan the parsing")).status), done("cli-wired"))],
    });
    await h.add("Build the importer", "planner");
    const outcomes = await h.run({ parallelism: 3, pollMs: 60_000 }); // a finished run wakes the loop: no poll needed

    const all = await h.tasks();
    expect(all.map((x) => [x.title, x.status])).toEqual([
      ["Build the importer", "done"], ["Plan the parsing", "done"], ["Write the docs", "done"], ["Wire the CLI", "done"], ["Parse headers", "done"], ["Parse rows", "done"],
    ]);
    expect(all.find((x) => x.title === "Parse rows")!.parentId).toBe(all.find((x) => x.title === "Plan the parsing")!.id);
    expect(outcomes.every((o) => o.kind === "recorded")).toBe(true);
    expect(outcomes).toHaveLength(8);
    expect(h.runner.peak).toBeGreaterThanOrEqual(2);
    expect(h.runner.peak).toBeLessThanOrEqual(3);

    // "Wire the CLI" (after a) started only after a's last run ended, and saw a done in the ledger.
    const [plan, wire, root] = [await h.byName("Plan the parsing"), await h.byName("Wire the CLI"), await h.byName("Build the importer")];
    const lastEndOfPlan = h.runner.log.findLastIndex((e) => e.kind === "end" && e.taskId === plan.id);
    const startOfWire = h.runner.log.findIndex((e) => e.kind === "start" && e.taskId === wire.id);
    expect(startOfWire).toBeGreaterThan(lastEndOfPlan);
    expect(planStatusWhenWired).toBe("done");

    const rootRuns = h.runner.requestsFor(root.id);
    expect(rootRuns).toHaveLength(2);
    for (const summary of ["parsing-planned-and-merged", "docs-written", "cli-wired"]) {
      expect(rootRuns[0]!.bundle).not.toContain(summary);
      expect(rootRuns[1]!.bundle).toContain(summary);
    }
    const planRuns = h.runner.requestsFor(plan.id);
    expect(planRuns).toHaveLength(2);
    expect(planRuns[1]!.bundle).toContain("headers-parsed");
    expect(planRuns[1]!.bundle).toContain("rows-parsed");
    // Every attempt had its own worktree, and none is left behind.
    expect(new Set(h.workspaces.prepared.map((p) => p.key)).size).toBe(8);
    expect(h.workspaces.live.size).toBe(0);
  }, 10_000);

  it("cancels a child whose dependency failed, and the parent still resumes", async () => {
    const h = await harness({
      "Ship the release": [delegate([{ key: "x", title: "Build artefacts", profile: "feature" }, { key: "y", title: "Publish artefacts", profile: "feature", after: ["x"] }]), done("release-handled")],
      "Build artefacts": [handoffRun({ status: "failed", summary: "compiler-missing" })],
    });
    await h.add("Ship the release", "planner");
    await h.run();
    const [root, build, publish] = [await h.byName("Ship the release"), await h.byName("Build artefacts"), await h.byName("Publish artefacts")];
    expect(build.status).toBe("failed");
    expect(publish.status).toBe("cancelled");
    expect(publish.history.at(-1)).toMatchObject({ type: "cancel", note: `dependency #${build.id} ended failed` });
    expect(h.runner.requestsFor(publish.id)).toEqual([]);
    expect(root.status).toBe("done");
    const rootRuns = h.runner.requestsFor(root.id);
    expect(rootRuns).toHaveLength(2);
    expect(rootRuns[1]!.bundle).toMatch(/\(x\), failed:[\s\S]*Build artefacts/);
    expect(rootRuns[1]!.bundle).toMatch(/\(y\), cancelled:[\s\S]*Publish artefacts/);
  });

  // Regression (was a bug, fixed): a child that hands back status "failed" kept no result, so its parent resumed
  // without the child's own account of why it gave up (only "failed" and the title).
  it("shows the resuming parent why a child gave up", async () => {
    const h = await harness({
      "Ship the release": [delegate([{ key: "x", title: "Build artefacts", profile: "feature" }]), done("release-handled")],
      "Build artefacts": [handoffRun({ status: "failed", summary: "compiler-missing" })],
    });
    const root = await h.add("Ship the release", "planner");
    await h.run();
    expect(h.runner.requestsFor(root)[1]!.bundle).toContain("compiler-missing");
  });

  it("returns when only a person can move things on: a question asked, a gate not yet approved", async () => {
    const h = await harness({ "Ask first": [handoffRun({ status: "needs_help", summary: "stuck", question: "Which format?" })] });
    await h.add("Ask first", "feature");
    await h.add("Needs approval", "gated");
    const outcomes = await h.run();
    expect(outcomes.map((o) => o.kind)).toEqual(["recorded"]);
    expect((await h.tasks()).map((x) => x.status)).toEqual(["needs_help", "awaiting_approval"]);
    expect(h.runner.requests).toHaveLength(1);
    // Once approved, the next serve runs it.
    await applyEvent(h.deps, 2, { type: "approve" });
    const again = await harness({ "Needs approval": [done("approved work")] }, h.store);
    await again.run();
    expect((await again.byName("Needs approval")).status).toBe("done");
  });

  it("sends a task routed to a profile that no longer exists to needs_help instead of looping", async () => {
    const h = await harness({});
    const id = await h.add("Orphaned profile", "feature");
    await applyEvent(h.deps, id, { type: "route", route: { agent: "claude", profile: "vanished", complexity: "medium", reason: "the profile was deleted since", decidedBy: "override" } });
    const writes = h.store.writes;
    await h.run();
    const task = await h.task(id);
    expect(task.status).toBe("needs_help");
    expect(task.history.at(-1)).toMatchObject({ type: "escalate", note: expect.stringContaining('profile "vanished" does not exist') });
    expect(h.runner.requests).toEqual([]);
    expect(h.store.writes - writes).toBe(1);
  });

  it("does not treat a task waiting to retry as idle: it runs once the clock passes retryAt", async () => {
    const h = await harness({ Flaky: [failedRun("agent_error", "tool crashed"), done("second time lucky")] });
    await h.add("Flaky", "feature");
    const seen: ServeEvent[] = [];
    // Once the failure is reported the clock moves one second per read, so serve sees the task
    // retrying but not yet due (retryAt is 15 s on) for several rounds before it becomes due.
    const retrying = (e: ServeEvent) => e.kind === "end" && e.outcome.kind === "recorded" && e.outcome.status === "retrying";
    await h.run({ onEvent: (e) => (seen.push(e), retrying(e) ? h.clock.stepOnRead(1000) : undefined) });
    const flaky = await h.byName("Flaky");
    expect(flaky.status).toBe("done");
    expect(flaky.attempts.map((a) => a.outcome)).toEqual(["failure", "success"]);
    expect(seen.filter(retrying)).toHaveLength(1);
    const retryAt = flaky.history.find((e) => e.to === "retrying")!.data!["retryAt"] as string;
    expect(flaky.attempts[1]!.startedAt >= retryAt).toBe(true);
  });

  it("never runs more than `parallelism` tasks at once", async () => {
    const gate = deferred<void>();
    const h = await harness(async () => (await gate.promise, done("ok")));
    for (const title of ["one", "two", "three", "four"]) await h.add(title, "feature");
    const starts: number[] = [];
    const serving = h.run({ parallelism: 2, onEvent: (e) => (e.kind === "start" ? starts.push(e.id) : undefined) });
    await h.runner.started(2);
    expect(starts).toEqual([1, 2]); // the loop started what it could before either agent ran
    gate.resolve();
    await serving;
    expect((await h.tasks()).map((x) => x.status)).toEqual(["done", "done", "done", "done"]);
    expect(h.runner.peak).toBe(2);
  });

  it("records many results that finish together in few commits", async () => {
    const children = Array.from({ length: 8 }, (_, i) => ({ key: `c${i}`, title: `child ${i}`, profile: "feature" }));
    const together = barrier(8);
    const table: Record<string, Step[]> = { "Fan out": [delegate(children), done("merged")] };
    for (const c of children) table[c.title] = [async () => (await together(), done(`${c.title} done`))];
    const h = await harness(table);
    await h.add("Fan out", "planner");
    const writes = h.store.writes;
    await h.run({ parallelism: 8, pollMs: 60_000 });
    expect((await h.tasks()).every((t) => t.status === "done")).toBe(true);
    expect(h.runner.peak).toBe(8);
    const childIds = (await h.tasks()).filter((t) => t.parentId !== undefined).map((t) => t.id);
    const recording = h.store.messages.filter((m) => childIds.some((id) => m.includes(`task ${id}: done`)));
    expect(recording.length).toBeLessThanOrEqual(2); // one result per commit would be 8
    // parent claimed · delegation recorded, children routed and claimed · children recorded · parent recorded
    expect(h.store.writes - writes).toBeLessThan(2 * childIds.length);
    expect(h.store.writes - writes).toBeLessThanOrEqual(3 + recording.length);
  }, 10_000);

  it("runs reviews between rounds: the author is sent back with the notes, then approved", async () => {
    const h = await harness({
      "Reviewed change": [done("first try"), done("second try")],
    });
    // The reviewer is another agent (codex) on the same title: answer by request instead.
    const reviews = [verdict("request_changes", "Handle empty rows."), verdict("approve", "Good now.")];
    const author = h.runner.run.bind(h.runner);
    h.runner.run = (req, signal) => (req.profile.name === "review" ? (h.runner.requests.push(req), Promise.resolve(reviews.shift()!)) : author(req, signal));
    const id = await h.add("Reviewed change", "reviewed");
    const outcomes = await h.run();
    const task = await h.task(id);
    expect(task.status).toBe("done");
    expect(task.history.filter((e) => e.type === "review").map((e) => [e.to, e.note])).toEqual([["retrying", "Handle empty rows."], ["done", "Good now."]]);
    expect(h.runner.requests.map((r) => [r.agent, r.profile.name])).toEqual([["claude", "reviewed"], ["codex", "review"], ["claude", "reviewed"], ["codex", "review"]]);
    expect(outcomes.map((o) => o.kind === "recorded" && o.status)).toEqual(["in_review", "retrying", "in_review", "done"]);
    expect(h.workspaces.live.size).toBe(0);
  });

  it("on abort claims nothing more, stops every running agent, gives their claims back and returns", async () => {
    const h = await harness(hangUntilAbort);
    for (const title of ["Long one", "Long two", "Long three"]) await h.add(title, "feature");
    const controller = new AbortController();
    const serving = h.run({ parallelism: 2, untilIdle: false, signal: controller.signal });
    await h.runner.started(2);
    // A loop that kept claiming after the abort would never return: fail its writes after a few, so it does.
    let writesAfterAbort = 0;
    h.store.beforeWrite = () => {
      if (++writesAfterAbort > 5) throw new Error("serve keeps writing after the abort");
    };
    controller.abort();
    const outcomes = await serving;
    expect(writesAfterAbort).toBeLessThanOrEqual(2); // the released claims, in one commit or two
    expect(outcomes.map((o) => o.kind)).toEqual(["released", "released"]);
    const tasks = await h.tasks();
    expect(tasks.map((x) => x.status)).toEqual(["routed", "routed", "routed"]);
    expect(tasks.flatMap((x) => x.attempts.map((a) => a.outcome))).toEqual(["released", "released"]);
    expect(h.runner.requests).toHaveLength(2);
    expect(h.runner.signals.every((s) => s?.aborted)).toBe(true);
    expect(h.workspaces.live.size).toBe(0);
  });

  it("backs off when reconcile keeps failing (the ledger cannot be written) instead of hot-looping", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const h = await harness({ Work: [done("finally")] });
    await h.add("Work", "feature");
    h.store.failWrites = Number.POSITIVE_INFINITY;
    const errors: number[] = [];
    const controller = new AbortController();
    const serving = h.run({ untilIdle: false, pollMs: 30_000, signal: controller.signal, onEvent: (e) => (e.kind === "error" ? errors.push(Date.now()) : undefined) });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(errors.length).toBeLessThanOrEqual(4); // at 0 s, 2 s and 6 s
    await vi.advanceTimersByTimeAsync(590_000);
    const reads = h.store.reads;
    // Hot-looping would be thousands; with backoff (2 s, 4 s, … capped at 60 s) about fourteen in ten minutes.
    expect(errors.length).toBeGreaterThanOrEqual(5);
    expect(errors.length).toBeLessThanOrEqual(20);
    expect(reads).toBeLessThanOrEqual(3 * errors.length);
    const gaps = errors.slice(1).map((t, i) => t - errors[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(1000);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThanOrEqual(gaps[i - 1]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(60_000);
    expect(h.runner.requests).toEqual([]);
    // The store heals: the next round claims and runs the task.
    h.store.failWrites = 0;
    await vi.advanceTimersByTimeAsync(60_000);
    expect((await h.tasks())[0]!.status).toBe("done");
    controller.abort();
    await vi.advanceTimersByTimeAsync(5_000);
    await serving;
  });

  // Regression (was a bug, fixed): the backoff returned at once while a finished result waited to be
  // written, so a ledger outage with a result in hand was a hot loop of failing reconciles.
  it("backs off also while a finished result waits to be written", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const finish = deferred<void>();
    const h = await harness({
      Work: [
        async () => {
          await finish.promise;
          return done("finished during the outage");
        },
      ],
    });
    await h.add("Work", "feature");
    const controller = new AbortController();
    const errors: number[] = [];
    const serving = h.run({
      untilIdle: false,
      pollMs: 30_000,
      signal: controller.signal,
      // A hot loop would never let the fake clock move on: stop it after a bounded number of errors.
      onEvent: (e) => {
        if (e.kind === "error" && errors.push(Date.now()) > 50) controller.abort();
      },
    });
    await h.runner.started(1);
    h.store.failWrites = Number.POSITIVE_INFINITY;
    finish.resolve();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeLessThanOrEqual(4); // at 0 s, 2 s and 6 s
    expect(controller.signal.aborted).toBe(false);
    // The result is kept through the outage and written once the store heals.
    h.store.failWrites = 0;
    await vi.advanceTimersByTimeAsync(60_000);
    expect((await h.tasks())[0]!.status).toBe("done");
    controller.abort();
    await vi.advanceTimersByTimeAsync(5_000);
    await serving;
  });

  it("untilIdle waits for a task held by another worker's live lease and does not exit until that lease ends", async () => {
    const h = await harness({ "Held elsewhere": [done("taken over")] });
    const id = await h.add("Held elsewhere", "feature");
    await routeTask(h.deps, id);
    await h.claim(id); // another worker's claim: this serve does not run it
    const leaseUntil = (await h.task(id)).attempts[0]!.leaseUntil!;
    const events: ServeEvent[] = [];
    const waiting = deferred<void>();
    let finished = false;
    const serving = h
      .run({ onEvent: (e) => (events.push(e), e.kind === "waiting" ? waiting.resolve() : undefined) })
      .finally(() => void (finished = true));
    await waiting.promise;
    expect(events.filter((e) => e.kind === "waiting")).toEqual([{ kind: "waiting", id, leaseUntil }]);
    // Many rounds later it still waits: the lease holds.
    const reads = h.store.reads;
    while (h.store.reads < reads + 20 && !finished) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(finished).toBe(false);
    expect((await h.task(id)).status).toBe("running");
    expect(h.runner.requests).toEqual([]);
    // The other worker vanished: its lease lapses, the task is retried here, and serve returns.
    h.clock.advance(5 * 60_000 + 1);
    await serving;
    const task = await h.task(id);
    expect(task.status).toBe("done");
    expect(task.attempts.map((a) => a.outcome)).toEqual(["lease_expired", "success"]);
    expect(events.filter((e) => e.kind === "waiting")).toHaveLength(1); // said once, not every round
  }, 5_000);
});
