// LeaseKeeper: heartbeats on an injected timer (fired by hand here). Renewals are not transitions;
// a transient error is survived while the lease lasts; a lost claim or a lease about to lapse stops
// the agent through onLost.
import { describe, expect, it } from "vitest";
import { LeaseKeeper } from "../../../src/app/lease-keeper.ts";
import { reconcile } from "../../../src/app/reconcile.ts";
import { validateLedger } from "../../../src/app/validate-ledger.ts";
import { deferred, handoffRun, hangUntilAbort } from "../../fakes/fake-agent-runner.ts";
import type { Script } from "../../fakes/fake-agent-runner.ts";
import { InstrumentedLedgerStore } from "../../fakes/instrumented-ledger-store.ts";
import { ManualTimer, settle } from "../../fakes/manual-timer.ts";
import { memoryLog } from "../../fakes/memory-log.ts";
import { appHarness, T0, testRouting } from "../../support/app.ts";

const BEAT = 100_000; // leaseMinutes 5 (the default), a beat every third
const iso = (ms: number): string => new Date(ms).toISOString();

/** A claimed task (attempt key-1-1, lease until T0 + 5 min) and a keeper for it on a manual timer. */
async function claimed(scripts: Record<string, Script> = {}) {
  const store = new InstrumentedLedgerStore();
  const log = memoryLog();
  const h = appHarness(await testRouting(), { store, log, scripts });
  const id = await h.add("Long job");
  const claim = await h.claim(id);
  const lost: string[] = [];
  /** The keeper under test beats on a timer of its own; `h.timer` is the worker's (performAttempt's). */
  const beats = new ManualTimer();
  const leaseUntil = (await h.task(id)).attempts[0]!.leaseUntil!;
  const keeper = new LeaseKeeper(h.deps, id, claim.key, leaseUntil, beats, (why) => lost.push(why));
  return { ...h, store, log, id, claim, keeper, beats, lost, leaseUntil };
}

describe("LeaseKeeper", () => {
  it("renews every third of the lease, moving leaseUntil without adding a history entry", async () => {
    const k = await claimed();
    expect(k.leaseUntil).toBe(iso(T0 + 300_000));
    expect(k.beats.intervals).toEqual([BEAT]);
    const history = (await k.task(k.id)).history.length;
    const writes = k.store.writes;
    for (const n of [1, 2, 3]) {
      k.clock.advance(BEAT);
      await k.beats.fire();
      const task = await k.task(k.id);
      expect(task.status).toBe("running");
      expect(task.attempts[0]!.leaseUntil).toBe(iso(T0 + n * BEAT + 300_000));
      expect(task.history).toHaveLength(history);
      expect(k.store.writes).toBe(writes + n);
    }
    expect(k.keeper.renewals).toBe(3);
    expect(k.lost).toEqual([]);
    expect(k.store.messages.at(-1)).toContain("lease renewed until");
    // The history still replays to the task: a renewal is not a transition the replay misses.
    expect(await validateLedger(k.store)).toEqual({ errors: [], warnings: [] });
    k.keeper.stop();
    expect(k.beats.live).toBe(0);
  });

  it("survives a transient store error (logged, the agent goes on) and renews at the next beat", async () => {
    const k = await claimed();
    k.store.failWrites = 1;
    k.clock.advance(BEAT);
    await k.beats.fire();
    expect(k.keeper.failures).toBe(1);
    expect(k.lost).toEqual([]);
    expect(k.beats.live).toBe(1);
    expect((await k.task(k.id)).attempts[0]!.leaseUntil).toBe(k.leaseUntil);
    expect(k.log.lines).toContainEqual(expect.objectContaining({ level: "warn", msg: "heartbeat failed; the run goes on while the lease lasts", error: expect.stringContaining("transient") }));
    k.clock.advance(BEAT);
    await k.beats.fire();
    expect(k.keeper.renewals).toBe(1);
    expect((await k.task(k.id)).attempts[0]!.leaseUntil).toBe(iso(T0 + 2 * BEAT + 300_000));
    expect(k.lost).toEqual([]);
  });

  it("survives E_LEDGER_CONFLICT (the ledger kept changing under the heartbeat) while the lease lasts", async () => {
    const k = await claimed();
    // Someone else commits between every read and write of the heartbeat, three times in a row.
    let races = 3;
    k.store.beforeWrite = () => {
      if (races-- > 0) k.store.replaceText(k.store.currentText()!);
    };
    k.clock.advance(BEAT);
    await k.beats.fire();
    expect(k.keeper.failures).toBe(1);
    expect(k.log.lines).toContainEqual(expect.objectContaining({ level: "warn", error: expect.stringContaining("E_LEDGER_CONFLICT") }));
    expect(k.lost).toEqual([]);
    k.clock.advance(BEAT);
    await k.beats.fire();
    expect(k.keeper.renewals).toBe(1);
    expect(k.lost).toEqual([]);
  });

  it("a lost claim (the task was cancelled) calls onLost once and stops beating, writing nothing", async () => {
    const k = await claimed();
    await reconcile({ kind: "cli", command: { verb: "cancel", taskId: k.id } }, k.deps);
    const writes = k.store.writeCalls;
    k.clock.advance(BEAT);
    await k.beats.fire();
    expect(k.lost).toEqual([expect.stringContaining("claim lost: attempt key-1-1 is no longer the task's open attempt (status cancelled)")]);
    expect(k.beats.live).toBe(0);
    await k.keeper.beat();
    await k.beats.fire();
    expect(k.lost).toHaveLength(1);
    expect(k.store.writeCalls).toBe(writes);
    expect((await k.task(k.id)).status).toBe("cancelled");
  });

  it("a claim taken over by another attempt is lost too", async () => {
    const k = await claimed();
    // The lease ran out, a tick gave the task back, and another worker claimed attempt 2.
    k.clock.advance(300_001);
    await reconcile({ kind: "tick" }, k.deps);
    expect((await k.task(k.id)).status).toBe("retrying");
    await reconcile({ kind: "cli", command: { verb: "next" } }, k.deps, { claim: { limit: 1 } });
    expect((await k.task(k.id)).attempts.map((a) => a.key)).toEqual(["key-1-1", "key-1-2"]);
    await k.beats.fire();
    expect(k.lost).toEqual([expect.stringContaining("no longer the task's open attempt (status running)")]);
    expect((await k.task(k.id)).attempts[1]!.leaseUntil).toBe(iso(T0 + 300_001 + 300_000)); // the new holder's lease is untouched
  });

  it("gives up while the lease still holds when it could not be renewed and would lapse before the next beat", async () => {
    const k = await claimed();
    k.store.failWrites = Number.POSITIVE_INFINITY;
    k.clock.advance(BEAT); // now T0+100 s; the next beat (T0+200 s) is before the lease ends (T0+300 s)
    await k.beats.fire();
    expect(k.lost).toEqual([]);
    k.clock.advance(BEAT); // now T0+200 s; the next beat would be at T0+300 s, when the lease ends
    await k.beats.fire();
    expect(k.keeper.failures).toBe(2);
    expect(k.lost).toEqual([expect.stringContaining(`the lease ends at ${k.leaseUntil} and could not be renewed`)]);
    expect(k.beats.live).toBe(0);
  });

  it("skips a beat while the previous one is still being written", async () => {
    const k = await claimed();
    const gate = deferred<void>();
    const read = k.store.read.bind(k.store);
    let reads = 0;
    k.store.read = async () => (reads++ === 0 ? (await gate.promise, read()) : read());
    const first = k.keeper.beat();
    const second = k.keeper.beat();
    gate.resolve();
    await Promise.all([first, second]);
    expect(k.keeper.renewals).toBe(1);
    expect(reads).toBe(1);
  });

  it("through performAttempt: cancelling the task while the agent hangs aborts the agent at the next heartbeat", async () => {
    const k = await claimed({ claude: [hangUntilAbort] });
    const running = reconcile({ kind: "work", taskId: k.id, attempt: 1, key: k.claim.key }, k.deps, { worker: k.io });
    await k.runner.started(1);
    k.keeper.stop(); // only the attempt's own keeper beats from here
    await reconcile({ kind: "cli", command: { verb: "cancel", taskId: k.id, reason: "changed my mind" } }, k.deps); // no executor here: only the heartbeat can notice
    await settle();
    expect(k.runner.signals[0]?.aborted).toBe(false);
    k.clock.advance(BEAT);
    await k.timer.fire(); // the attempt's own heartbeat
    expect(k.timer.intervals).toEqual([BEAT]);
    expect(k.runner.signals[0]?.aborted).toBe(true);
    const r = await running;
    expect(r.recorded).toEqual([expect.objectContaining({ taskId: k.id, kind: "stale" })]);
    expect(k.workspaces.commits).toEqual([]);
    expect((await k.task(k.id)).status).toBe("cancelled");
  });

  it("through performAttempt: a transient heartbeat error does not stop the agent", async () => {
    const gate = deferred<void>();
    const k = await claimed({ claude: [async () => (await gate.promise, handoffRun({ status: "done", summary: "finished anyway" }))] });
    k.keeper.stop();
    const running = reconcile({ kind: "work", taskId: k.id, attempt: 1, key: k.claim.key }, k.deps, { worker: k.io });
    await k.runner.started(1);
    k.store.failWrites = 1;
    k.clock.advance(BEAT);
    await k.timer.fire();
    expect(k.runner.signals[0]?.aborted).toBe(false);
    gate.resolve();
    expect((await running).recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "done" })]);
  });
});
