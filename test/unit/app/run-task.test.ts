import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRouting } from "../../../src/adapters/config-fs/load-routing.ts";
import { MemoryLedgerStore } from "../../../src/adapters/ledger-memory/memory-ledger-store.ts";
import type { AppDeps } from "../../../src/app/app-deps.ts";
import type { WorkerIo } from "../../../src/app/run-task.ts";
import { applyEvent, runTask } from "../../../src/app/run-task.ts";
import { addTaskCommand } from "../../../src/app/task-commands.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import type { Profile } from "../../../src/core/config/profile.ts";
import { findTask } from "../../../src/core/ledger/ledger.ts";
import type { Script } from "../../fakes/fake-agent-runner.ts";
import { deferred, failedRun, FakeAgentRunner, garbageRun, handoffRun, hangUntilAbort } from "../../fakes/fake-agent-runner.ts";
import { FakeWorkspaces, MemoryRepoFiles } from "../../fakes/fake-workspaces.ts";
import { removeTempDirs, tempDir } from "../../support/git-repo.ts";

const T0 = Date.UTC(2026, 10, 1, 9, 0, 0);
const BOUNDARY = "9d1e6b3f0a2c4e8d7b5a3c1e9f0d2b4a";
const done = (summary = "all good") => handoffRun({ status: "done", summary });

let profiles: Map<string, Profile>;
beforeAll(async () => {
  const loaded = (await loadRouting(tempDir(), MainConfig.parse({}))).profiles;
  profiles = new Map([...loaded, ["gated", { ...loaded.get("feature")!, name: "gated", approval: "before_run" as const }]]);
});
afterAll(removeTempDirs);

/** A memory ledger, a stepping clock (moves only on `advance`), the fakes, and task helpers. */
function harness(scripts: Record<string, Script>, config: Record<string, unknown> = {}) {
  let t = T0;
  const clock = { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
  const store = new MemoryLedgerStore();
  const deps: AppDeps = { store, clock, backoff: { sleep: async () => undefined, random: () => 0.5 }, config: MainConfig.parse(config), traceId: "00-trace-01", actor: "cli:tester" };
  const runner = new FakeAgentRunner(scripts);
  const workspaces = new FakeWorkspaces();
  let keys = 0;
  const io: WorkerIo = { runner, workspaces, repoAt: () => new MemoryRepoFiles({ "README.md": "# demo\n" }), root: "/repo", profiles, newKey: () => `key-${++keys}`, newBoundary: () => BOUNDARY, random: () => 0.5 };
  const task = async (id: number) => findTask((await store.read()).ledger, id)!;
  const add = async (title: string, route: { agent?: string; profile?: string } = {}) => {
    const { id } = await addTaskCommand(deps, { title });
    await applyEvent(deps, id, { type: "route", route: { agent: route.agent ?? "claude", profile: route.profile ?? "feature", complexity: "medium", reason: "test", decidedBy: "override" } });
    return id;
  };
  return { deps, store, clock, runner, workspaces, io, task, add };
}

describe("runTask", () => {
  it("runs a routed task to done, recording usage and session, and commits under the attempt key", async () => {
    const h = harness({ claude: [handoffRun({ status: "done", summary: "Added the parser" }, { inputTokens: 1200, outputTokens: 300, costUsd: 0.42, turns: 7, sessionId: "sess-9" })] });
    const id = await h.add("Add a CSV parser");
    const out = await runTask(h.deps, id, h.io);
    expect(out).toMatchObject({ kind: "recorded", status: "done", attempt: 1 });
    const task = await h.task(id);
    expect(task.status).toBe("done");
    expect(task.result).toMatchObject({ status: "done", summary: "Added the parser" });
    expect(task.attempts).toHaveLength(1);
    const [attempt] = task.attempts;
    expect(attempt).toMatchObject({ key: "key-1", agent: "claude", outcome: "success", sessionId: "sess-9", usage: { inputTokens: 1200, outputTokens: 300, costUsd: 0.42, turns: 7 } });
    expect(attempt!.leaseUntil).toBeUndefined();
    expect(h.runner.requests).toHaveLength(1);
    expect(h.runner.requests[0]).toMatchObject({ taskId: id, key: "key-1", workdir: h.workspaces.pathOf(id) });
    expect(h.runner.requests[0]!.bundle).toContain("Add a CSV parser");
    expect(h.workspaces.commits).toHaveLength(1);
    expect(h.workspaces.commits[0]!.message).toContain("Agent-Router-Attempt: key-1");
    expect(h.workspaces.commits[0]!.message).toContain("Added the parser");
  });

  // Regression (was a bug, fixed): the bundle is planned after the claim, so a first run lists its own open attempt
  // under "Earlier attempts" (taking one of the last-K slots) and gets the branch diff as if it retried.
  it("shows a first run no earlier attempts and no previous diff", async () => {
    const h = harness({ claude: [done()] });
    const id = await h.add("First try");
    await runTask(h.deps, id, { ...h.io, repoAt: () => new MemoryRepoFiles({}, { [id]: "diff --git a/stale b/stale" }) });
    expect(h.runner.requests[0]!.bundle).not.toContain("attempt 1 by claude");
    expect(h.runner.requests[0]!.bundle).not.toContain("diff --git a/stale");
  });

  it("refuses tasks that are not runnable without claiming them", async () => {
    const h = harness({ claude: [handoffRun({ status: "delegate", summary: "split", delegations: [{ key: "a", title: "Part a" }, { key: "b", title: "Part b", after: ["a"] }] })] });
    const { id: fresh } = await addTaskCommand(h.deps, { title: "Never routed" });
    const parent = await h.add("Plan it", { profile: "planner" });
    const before = h.store.writes;
    await runTask(h.deps, parent, h.io);
    expect(h.store.writes).toBe(before + 2); // the claim, then the result with both children in one write
    const [a, b] = (await h.task(parent)).children;
    expect((await h.task(b!)).after).toEqual(["a"]);
    for (const child of [a!, b!]) await applyEvent(h.deps, child, { type: "route", route: { agent: "claude", profile: "feature", complexity: "low", reason: "test", decidedBy: "override" } });

    const writes = h.store.writes;
    expect(await runTask(h.deps, fresh, h.io)).toEqual({ taskId: fresh, kind: "not_runnable", why: "status new" });
    expect(await runTask(h.deps, b!, h.io)).toEqual({ taskId: b, kind: "not_runnable", why: "waiting for the tasks it comes after" });
    expect(await runTask(h.deps, parent, h.io)).toMatchObject({ kind: "not_runnable", why: "status waiting" });
    expect(h.store.writes).toBe(writes);
    expect(h.runner.requests).toHaveLength(1);
    expect((await h.task(b!)).attempts).toEqual([]);
  });

  it("computes retryAt from the injected clock and does not run before it", async () => {
    const h = harness({ claude: [failedRun("agent_error", "tool crashed"), done()] });
    const id = await h.add("Flaky");
    await runTask(h.deps, id, h.io);
    const retrying = await h.task(id);
    expect(retrying.status).toBe("retrying");
    // full jitter: floor(random 0.5 × retryBaseSeconds 30 s) after the clock's now
    expect(retrying.retryAt).toBe(new Date(T0 + 15_000).toISOString());
    h.clock.advance(14_999);
    const writes = h.store.writes;
    expect(await runTask(h.deps, id, h.io)).toMatchObject({ kind: "not_runnable", why: `retrying at ${retrying.retryAt}` });
    expect(h.store.writes).toBe(writes);
    h.clock.advance(1);
    expect(await runTask(h.deps, id, h.io)).toMatchObject({ kind: "recorded", status: "done", attempt: 2 });
    expect((await h.task(id)).attempts[1]!.startedAt).toBe(new Date(T0 + 15_000).toISOString());
  });

  it("stops at the approval gate, then runs once approved", async () => {
    const h = harness({ claude: [done("gated work")] });
    const id = await h.add("Touch production", { profile: "gated" });
    const writes = h.store.writes;
    expect(await runTask(h.deps, id, h.io, { dryRun: true })).toEqual({ taskId: id, kind: "awaiting_approval" });
    expect(h.store.writes).toBe(writes);
    expect(await runTask(h.deps, id, h.io)).toEqual({ taskId: id, kind: "awaiting_approval" });
    expect((await h.task(id)).status).toBe("awaiting_approval");
    expect(await runTask(h.deps, id, h.io)).toMatchObject({ kind: "not_runnable", why: "status awaiting_approval" });
    expect(h.runner.requests).toEqual([]);
    await applyEvent(h.deps, id, { type: "approve" });
    expect(await runTask(h.deps, id, h.io)).toMatchObject({ kind: "recorded", status: "done" });
    expect(h.runner.requests).toHaveLength(1);
  });

  it("dry-run writes nothing, runs nothing and returns the runner's plan", async () => {
    const h = harness({ claude: [] });
    const id = await h.add("Plan only");
    const writes = h.store.writes;
    const out = await runTask(h.deps, id, h.io, { dryRun: true });
    expect(h.store.writes).toBe(writes);
    expect(h.runner.requests).toEqual([]);
    expect(h.workspaces.prepared).toEqual([]);
    expect(h.runner.planned).toHaveLength(1);
    const planned = h.runner.planned[0]!;
    expect(planned.bundle).toContain("Plan only");
    expect(out).toEqual({ taskId: id, kind: "dry_run", agent: "claude", plan: h.io.runner.plan(planned) });
    expect((await h.task(id)).status).toBe("routed");
  });

  it("gives an invalid handoff one repair round in the same session and sums its usage", async () => {
    const h = harness({ claude: [garbageRun("I did it, trust me", { sessionId: "sess-1", inputTokens: 100, outputTokens: 10, costUsd: 0.1 }), done()] });
    const id = await h.add("Repairable");
    expect(await runTask(h.deps, id, h.io)).toMatchObject({ kind: "recorded", status: "done" });
    const [first, repair] = h.runner.requests;
    expect(h.runner.requests).toHaveLength(2);
    expect(first!.repair).toBeUndefined();
    expect(repair).toMatchObject({ key: first!.key, bundle: first!.bundle, repair: { sessionId: "sess-1" } });
    expect(repair!.repair!.message).toContain("no handoff");
    const usage = (await h.task(id)).attempts[0]!.usage!;
    expect(usage).toMatchObject({ inputTokens: 100, outputTokens: 10 });
    expect(usage.costUsd).toBeCloseTo(0.1, 10);
  });

  it("records invalid_output with the raw text after a second invalid answer and asks a person, without a third request", async () => {
    const h = harness({ claude: [garbageRun("first words"), garbageRun("still no JSON here", { inputTokens: 5 })] });
    const id = await h.add("Unrepairable");
    expect(await runTask(h.deps, id, h.io)).toMatchObject({ kind: "recorded", status: "needs_help" });
    expect(h.runner.requests).toHaveLength(2);
    expect(h.runner.requests[1]!.repair).toEqual({ message: expect.stringContaining("no handoff") }); // no session to resume
    const attempt = (await h.task(id)).attempts[0]!;
    expect(attempt).toMatchObject({ outcome: "failure", errorClass: "invalid_output" });
    expect(attempt.error).toContain('"still no JSON here"');
  });

  // Regression (was a bug, fixed): the repair round sums tokens and cost but takes `turns` from the repair run only.
  it("sums the turns of the first run and the repair round", async () => {
    const h = harness({ claude: [garbageRun("no handoff", { turns: 12 }), handoffRun({ status: "done", summary: "ok" }, { turns: 1 })] });
    const id = await h.add("Turns");
    await runTask(h.deps, id, h.io);
    expect((await h.task(id)).attempts[0]!.usage!.turns).toBe(13);
  });

  it("fails over A → B and then asks for help without bouncing back to A", async () => {
    const h = harness(
      { claude: [failedRun("rate_limit", "429 too many requests")], codex: [failedRun("usage_limit", "usage limit reached")] },
      { agents: { claude: { failover: ["codex"] }, codex: { failover: ["claude"] } } },
    );
    const id = await h.add("Busy providers");
    expect(await runTask(h.deps, id, h.io)).toMatchObject({ kind: "recorded", status: "retrying" });
    expect((await h.task(id)).retryAt).toBe(new Date(T0).toISOString()); // a failover retries at once
    expect(await runTask(h.deps, id, h.io)).toMatchObject({ kind: "recorded", status: "needs_help" });
    const task = await h.task(id);
    expect(task.attempts.map((a) => a.agent)).toEqual(["claude", "codex"]);
    expect(task.attempts[1]!.error).toContain("failover chain spent: claude → codex");
    expect(await runTask(h.deps, id, h.io)).toMatchObject({ kind: "not_runnable", why: "status needs_help" });
    expect(h.runner.requests.map((r) => r.agent)).toEqual(["claude", "codex"]);
  });

  it("asks for help when the same error repeats three times, within the attempt budget", async () => {
    const same = failedRun("agent_error", "segfault in tool");
    const h = harness({ claude: [same, same, same, failedRun("agent_error", "one"), failedRun("agent_error", "two"), failedRun("agent_error", "three")] }, { execution: { maxAttempts: 5 } });
    const repeated = await h.add("Same error");
    const varied = await h.add("Different errors");
    for (const id of [repeated, repeated, repeated, varied, varied, varied]) {
      await runTask(h.deps, id, h.io);
      h.clock.advance(900_000); // past any retryAt (retryCapSeconds)
    }
    expect((await h.task(repeated)).status).toBe("needs_help");
    expect((await h.task(varied)).status).toBe("retrying");
  });

  it("records a result that arrives after a cancel as stale and leaves the task cancelled", async () => {
    const gate = deferred<void>();
    const h = harness({ claude: [async () => (await gate.promise, done("too late"))] });
    const id = await h.add("Cancelled midway");
    const running = runTask(h.deps, id, h.io);
    await h.runner.started(1);
    await applyEvent(h.deps, id, { type: "cancel", reason: "not needed" });
    gate.resolve();
    expect(await running).toMatchObject({ taskId: id, kind: "stale" });
    const task = await h.task(id);
    expect(task.status).toBe("cancelled");
    expect(task.result).toBeUndefined();
    expect(task.attempts[0]).toMatchObject({ key: "key-1", outcome: "cancelled" });
    expect(task.history.at(-1)).toMatchObject({ type: "stale_result", from: "cancelled", to: "cancelled", data: { key: "key-1" } });
  });

  it("gives the claim back on abort, without spending the attempt budget", async () => {
    const h = harness({ claude: [hangUntilAbort, done()] }, { execution: { maxAttempts: 1 } });
    const id = await h.add("Interrupted");
    const controller = new AbortController();
    const running = runTask(h.deps, id, h.io, { signal: controller.signal });
    await h.runner.started(1);
    controller.abort();
    expect(await running).toEqual({ taskId: id, kind: "released" });
    const task = await h.task(id);
    expect(task.status).toBe("routed");
    expect(task.attempts[0]!.outcome).toBe("released");
    expect(h.workspaces.commits).toEqual([]);
    expect(await runTask(h.deps, id, h.io)).toMatchObject({ kind: "recorded", status: "done", attempt: 2 });
  });

  // Regression (was a bug, fixed): a signal that is already aborted when runTask starts (Ctrl-C during the claim)
  // is never passed on: the agent runs with a live signal and its work is then thrown away.
  it("does not start the agent with a live signal once the worker has been stopped", async () => {
    const h = harness({ claude: [done()] });
    const id = await h.add("Stopped early");
    await runTask(h.deps, id, h.io, { signal: AbortSignal.abort() });
    expect(h.runner.signals.every((s) => s?.aborted === true)).toBe(true);
  });

  it("records a router error after the claim as a failure, leaving nothing running", async () => {
    const h = harness({ claude: [] });
    const id = await h.add("Broken worktree");
    h.workspaces.failPrepare = new Error("git worktree add failed: disk full\nfatal: more detail");
    await expect(runTask(h.deps, id, h.io)).rejects.toThrow("disk full");
    const task = await h.task(id);
    expect(task.status).toBe("retrying");
    expect(task.retryAt).toBe(new Date(T0 + 30_000).toISOString());
    expect(task.attempts[0]).toMatchObject({ outcome: "failure", errorClass: "agent_error", error: "router error: git worktree add failed: disk full" });
    expect((await h.store.read()).ledger.tasks.filter((t) => t.status === "running")).toEqual([]);
    expect(h.runner.requests).toEqual([]);
  });
});
