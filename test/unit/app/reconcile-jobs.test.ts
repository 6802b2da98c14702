// Scheduled jobs through reconcile (R15, the "dual scheduler" lesson): every reconcile, whatever its
// trigger, creates the due slots' tasks in its one commit and routes them like any new task; two
// writers that see the same slot make one task between them (compare-and-swap, then a re-plan).
import { describe, expect, it } from "vitest";
import type { ReconcileDeps } from "../../../src/app/app-deps.ts";
import { reconcile } from "../../../src/app/reconcile.ts";
import { Job } from "../../../src/core/config/job.ts";
import type { Trigger } from "../../../src/core/reconcile/trigger.ts";
import { InstrumentedLedgerStore } from "../../fakes/instrumented-ledger-store.ts";
import { spyClassifier } from "../../fakes/spy-classifier.ts";
import { SpyExecutor } from "../../fakes/spy-executor.ts";
import { appHarness, testRouting } from "../../support/app.ts";

const TICK: Trigger = { kind: "tick" };
const DAY = 86_400_000;
// T0 (test/support/app.ts) is 2026-11-01T09:00:00Z: this job's slot is due at the first reconcile.
const nightly = Job.parse({ name: "nightly", schedule: "0 9 * * *", enabled: true, task: { title: "Sweep flaky tests", body: "Find one, fix it.", labels: ["tests"], profile: "tests", agent: "codex" } });

async function jobsHarness() {
  const store = new InstrumentedLedgerStore();
  const classifier = spyClassifier();
  const h = appHarness(await testRouting(), { store, classifier });
  const deps: ReconcileDeps = { ...h.deps, jobs: [nightly] };
  return { ...h, store, classifier, deps };
}

describe("reconcile: scheduled jobs", () => {
  it("a tick creates the due slot's task once, routes it by the job's hint and claims it, all in one commit; later ticks add nothing while it is live", async () => {
    const h = await jobsHarness();
    const executor = new SpyExecutor();
    const r = await reconcile(TICK, h.deps, { claim: { limit: 1 }, executor });
    expect(r.written).toBe(true);
    expect(h.store.messages).toHaveLength(1);
    expect(h.store.messages[0]).toMatch(/^tick: 3 changes\n\njob nightly: task 1 for slot 2026-11-01T09:00:00\.000Z\ntask 1 routed to codex\/tests \(override\)\ntask 1 attempt 1 claimed for codex\n/);
    expect(await h.task(1)).toMatchObject({ source: { kind: "job", jobId: "nightly", slot: "2026-11-01T09:00:00.000Z" }, title: "Sweep flaky tests", labels: ["tests"], status: "running", route: { agent: "codex", profile: "tests", decidedBy: "override" } });
    expect(executor.attempts.map((c) => c.taskId)).toEqual([1]);
    expect(h.classifier.asked).toEqual([]);
    expect((await h.store.read()).ledger.jobs).toEqual({ nightly: { lastSlot: "2026-11-01T09:00:00.000Z", activeTaskId: 1 } });

    // The same slot seen again: nothing to write.
    const again = await reconcile(TICK, h.deps);
    expect(again.written).toBe(false);
    // The next day's slot while task 1 is live (its lease lapsed: retrying): skipped, not queued.
    h.clock.advance(DAY);
    const busy = await reconcile(TICK, h.deps);
    expect(busy.plan).toEqual(["tick: lease_expired #1", "job nightly: slot 2026-11-02T09:00:00.000Z skipped: task 1 is still retrying"]);
    expect(await h.tasks()).toHaveLength(1);
  });

  it("any trigger does the job work (level-triggered), and without jobs in the deps nothing is scheduled", async () => {
    const h = await jobsHarness();
    await reconcile({ kind: "cli", command: { verb: "add", title: "By hand", body: "", labels: [] } }, { ...h.deps, jobs: [] });
    expect((await h.tasks()).map((t) => t.source.kind)).toEqual(["cli"]);
    const r = await reconcile({ kind: "cli", command: { verb: "cancel", taskId: 1 } }, h.deps);
    expect(r.plan).toEqual(["task 1 cancelled", "job nightly: task 2 for slot 2026-11-01T09:00:00.000Z"]);
  });

  it("two writers that see the same slot create one task: the loser's compare-and-swap fails and its re-plan finds the slot taken", async () => {
    const h = await jobsHarness();
    const other: ReconcileDeps = { ...h.deps, traceId: "00-trace-02", actor: "github:other-runner" };
    let raced = false;
    // Between this reconcile's read and its write, the other writer runs a whole reconcile.
    h.store.beforeWrite = async () => {
      if (raced) return;
      raced = true;
      await reconcile(TICK, other);
    };
    const r = await reconcile(TICK, h.deps);
    expect(raced).toBe(true);
    expect(h.store.writeCalls).toBe(2); // the other writer's commit, then this one's refused compare-and-swap
    expect(r.written).toBe(false);
    expect(h.store.messages).toHaveLength(1);
    const tasks = await h.tasks();
    expect(tasks.map((t) => [t.id, t.source, t.status])).toEqual([[1, { kind: "job", jobId: "nightly", slot: "2026-11-01T09:00:00.000Z" }, "routed"]]);
    expect(tasks[0]!.history[0]!.by).toBe("github:other-runner");
  });

  it("a route decided for the job's task never lands on another writer's task that took its id; the job's task is routed next time", async () => {
    const h = await jobsHarness();
    let raced = false;
    // Between this tick's read and its write, `agent-router add` takes id 1 (and routes nothing).
    h.store.beforeWrite = async () => {
      if (raced) return;
      raced = true;
      await reconcile({ kind: "cli", command: { verb: "add", title: "By hand", body: "", labels: [] } }, { ...h.deps, jobs: [] });
    };
    await reconcile(TICK, h.deps);
    expect((await h.tasks()).map((t) => [t.id, t.source.kind, t.status, t.route?.agent])).toEqual([
      [1, "cli", "new", undefined],
      [2, "job", "new", undefined],
    ]);
    await reconcile(TICK, h.deps);
    expect((await h.tasks()).map((t) => [t.id, t.status, t.route?.agent, t.route?.profile])).toEqual([
      [1, "routed", "codex", "feature"], // the spy classifier's verdict for a task with no hint
      [2, "routed", "codex", "tests"],
    ]);
  });

  it("five concurrent reconciles over one store create one task", async () => {
    const h = await jobsHarness();
    const runs = await Promise.all(Array.from({ length: 5 }, (_, i) => reconcile(TICK, { ...h.deps, traceId: `00-trace-1${i}` })));
    expect(await h.tasks()).toHaveLength(1);
    expect(runs.filter((r) => r.plan.some((l) => l.startsWith("job nightly: task"))).length).toBeGreaterThanOrEqual(1);
    expect(h.store.messages.filter((m) => m.includes("job nightly: task"))).toHaveLength(1);
  });

  it("a dry run prints the job's task and writes nothing", async () => {
    const h = await jobsHarness();
    const r = await reconcile(TICK, h.deps, { dryRun: true });
    expect(r.plan).toContain("job nightly: task 1 for slot 2026-11-01T09:00:00.000Z");
    expect(h.store.writeCalls).toBe(0);
    expect(await h.tasks()).toEqual([]);
  });
});
