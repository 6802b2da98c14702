import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUILTIN_PROFILES } from "../../../src/adapters/config-fs/builtin-data.generated.ts";
import { loadRouting } from "../../../src/adapters/config-fs/load-routing.ts";
import { MemoryLedgerStore } from "../../../src/adapters/ledger-memory/memory-ledger-store.ts";
import type { AppDeps } from "../../../src/app/app-deps.ts";
import type { WorkerIo } from "../../../src/app/run-task.ts";
import type { ServeEvent } from "../../../src/app/serve.ts";
import { serve } from "../../../src/app/serve.ts";
import { addTaskCommand } from "../../../src/app/task-commands.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import { findTask } from "../../../src/core/ledger/ledger.ts";
import type { Task } from "../../../src/core/ledger/task.ts";
import type { RunFn, Step } from "../../fakes/fake-agent-runner.ts";
import { barrier, deferred, failedRun, FakeAgentRunner, handoffRun, hangUntilAbort } from "../../fakes/fake-agent-runner.ts";
import { FakeWorkspaces, MemoryRepoFiles } from "../../fakes/fake-workspaces.ts";
import { removeTempDirs, tempDir } from "../../support/git-repo.ts";

afterAll(removeTempDirs);

const T0 = Date.UTC(2026, 10, 1, 9, 0, 0);
const done = (summary: string) => handoffRun({ status: "done", summary });
type Child = { key: string; title: string; profile: string; after?: string[] };
const delegate = (delegations: Child[]) => handoffRun({ status: "delegate", summary: "split into children", delegations });

/**
 * Routing from a repository whose own planner may also delegate to planners (so a tree can be three
 * levels deep), with a config ACL that allows it, plus a profile gated by approval.
 */
async function setupRouting() {
  const root = tempDir();
  const dir = join(root, ".github/agent-router/profiles");
  mkdirSync(dir, { recursive: true });
  const planner = BUILTIN_PROFILES["planner"]!.replace("to: [feature,", "to: [planner, feature,");
  expect(planner).toContain("to: [planner, feature,");
  writeFileSync(join(dir, "planner.yml"), planner);
  writeFileSync(join(dir, "gated.yml"), BUILTIN_PROFILES["feature"]!.replace("name: feature", "name: gated").replace("approval: none", "approval: before_run"));
  const config = MainConfig.parse({ delegation: { acl: { planner: ["planner", "feature", "docs"] } } });
  const loaded = await loadRouting(root, config);
  expect(loaded.problems).toEqual([]);
  return { config, profiles: loaded.profiles, rules: loaded.rules };
}

/** Every agent answers from a table keyed by the task's title: the n-th run of a title takes step n. */
function byTitle(store: MemoryLedgerStore, table: Record<string, Step[]>): RunFn {
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

async function harness(table: Record<string, Step[]> | RunFn) {
  const routing = await setupRouting();
  let t = T0;
  let stepOnRead = 0;
  /** A stepping clock: it moves on `advance`, or by `ms` on every read once `stepOnRead(ms)` is called. */
  const clock = { now: () => new Date((t += stepOnRead)), advance: (ms: number) => void (t += ms), stepOnRead: (ms: number) => void (stepOnRead = ms) };
  const store = new MemoryLedgerStore();
  const deps: AppDeps = { store, clock, backoff: { sleep: async () => undefined, random: () => 0.5 }, config: routing.config, traceId: "00-trace-01", actor: "router" };
  const script = typeof table === "function" ? table : byTitle(store, table);
  const runner = new FakeAgentRunner({ claude: script, codex: script, opencode: script });
  let keys = 0;
  const io: WorkerIo = { runner, workspaces: new FakeWorkspaces(), repoAt: () => new MemoryRepoFiles(), root: "/repo", profiles: routing.profiles, newKey: () => `key-${++keys}`, newBoundary: () => "9d1e6b3f0a2c4e8d7b5a3c1e9f0d2b4a", random: () => 0.5 };
  const tasks = async (): Promise<Task[]> => (await store.read()).ledger.tasks;
  const byName = async (title: string): Promise<Task> => (await tasks()).find((x) => x.title === title)!;
  const add = (title: string, profile: string) => addTaskCommand(deps, { title, hint: { agent: "claude", profile } });
  const run = (opts: { parallelism?: number; untilIdle?: boolean; signal?: AbortSignal; onEvent?: (e: ServeEvent) => void; pollMs?: number } = {}) =>
    serve(deps, io, { parallelism: opts.parallelism ?? 3, untilIdle: opts.untilIdle ?? true, signal: opts.signal ?? new AbortController().signal, routing, classifier: null, pollMs: opts.pollMs ?? 1, ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) });
  return { deps, store, clock, runner, tasks, byName, add, run };
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

  // Regression (was a bug, fixed): a child that hands back status "failed" keeps no result, so its parent resumes
  // without the child's own account of why it gave up (only "failed" and the title).
  it("shows the resuming parent why a child gave up", async () => {
    const h = await harness({
      "Ship the release": [delegate([{ key: "x", title: "Build artefacts", profile: "feature" }]), done("release-handled")],
      "Build artefacts": [handoffRun({ status: "failed", summary: "compiler-missing" })],
    });
    const root = await h.add("Ship the release", "planner");
    await h.run();
    expect(h.runner.requestsFor(root.id)[1]!.bundle).toContain("compiler-missing");
  });

  it("returns when only a person can move things on", async () => {
    const h = await harness({ "Ask first": [handoffRun({ status: "needs_help", summary: "stuck", question: "Which format?" })] });
    await h.add("Ask first", "feature");
    await h.add("Needs approval", "gated");
    const outcomes = await h.run();
    expect(outcomes.map((o) => o.kind).sort()).toEqual(["awaiting_approval", "recorded"]);
    expect((await h.tasks()).map((x) => x.status)).toEqual(["needs_help", "awaiting_approval"]);
    expect(h.runner.requests).toHaveLength(1);
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

  it("on abort releases every running attempt and returns", async () => {
    const h = await harness(hangUntilAbort);
    await h.add("Long one", "feature");
    await h.add("Long two", "feature");
    const controller = new AbortController();
    const serving = h.run({ parallelism: 2, untilIdle: false, signal: controller.signal });
    await h.runner.started(2);
    controller.abort();
    const outcomes = await serving;
    expect(outcomes.map((o) => o.kind)).toEqual(["released", "released"]);
    const tasks = await h.tasks();
    expect(tasks.map((x) => x.status)).toEqual(["routed", "routed"]);
    expect(tasks.flatMap((x) => x.attempts.map((a) => a.outcome))).toEqual(["released", "released"]);
  });
});
