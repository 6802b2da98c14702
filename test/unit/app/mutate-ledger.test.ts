import { describe, expect, it } from "vitest";
import { mutateLedger } from "../../../src/app/mutate-ledger.ts";
import { MemoryLedgerStore } from "../../../src/adapters/ledger-memory/memory-ledger-store.ts";
import { isRouterError } from "../../../src/core/errors.ts";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import type { Ledger } from "../../../src/core/ledger/ledger.ts";
import type { LedgerStore, LedgerWrite, WriteOutcome } from "../../../src/core/ports.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import { ctxAt } from "../../support/ctx.ts";
import { ledgerWith, titles } from "../../support/ledger-data.ts";

/** Records sleeps instead of sleeping; random() returns the values given, cycling. */
function fakeBackoff(randoms: number[] = [1]) {
  const sleeps: number[] = [];
  let i = 0;
  return { sleeps, backoff: { sleep: async (ms: number) => void sleeps.push(ms), random: () => randoms[i++ % randoms.length]! } };
}

function adder(title: string) {
  return ({ ledger }: { ledger: Ledger }) => {
    const added = addTask(ledger, { source: { kind: "cli" }, title }, ctxAt(1));
    return { ledger: added.ledger, result: added.task.id, summary: `add ${title}` };
  };
}

/** A store where another writer slips in a task before each of our first `n` writes. */
function racing(inner: MemoryLedgerStore, n: number): LedgerStore & { raced: number } {
  let raced = 0;
  return {
    location: inner.location,
    get raced() {
      return raced;
    },
    exclusive: (fn) => fn(),
    read: () => inner.read(),
    readArchive: (m) => inner.readArchive(m),
    async write(change: LedgerWrite, expected: string | null): Promise<WriteOutcome> {
      if (raced < n) {
        raced++;
        const snap = await inner.read();
        await inner.write({ ledger: addTask(snap.ledger, { source: { kind: "cli" }, title: `other-${raced}` }, ctxAt(0)).ledger, message: "other" }, snap.head);
      }
      return inner.write(change, expected);
    },
  };
}

const opts = (backoff: { sleep: (ms: number) => Promise<void>; random: () => number }) => ({ backoff, traceId: "00-t-01", now: ctxAt(0).now });

describe("mutateLedger", () => {
  it("re-reads and re-applies the function after a conflict, so no update is lost", async () => {
    const inner = new MemoryLedgerStore();
    await inner.write({ ledger: ledgerWith(1), message: "seed" }, null);
    const store = racing(inner, 3);
    const { backoff, sleeps } = fakeBackoff();
    const r = await mutateLedger(store, adder("mine"), opts(backoff));
    expect(r.tries).toBe(4);
    expect(r.written).toBe(true);
    expect(titles((await inner.read()).ledger)).toEqual(["task-1", "other-1", "other-2", "other-3", "mine"]);
    expect(r.result).toBe(5);
    expect(sleeps).toEqual([250, 500, 1000]);
  });

  it("gives up with E_LEDGER_CONFLICT after maxTries, sleeping with full jitter capped at maxDelay", async () => {
    const inner = new MemoryLedgerStore();
    const store = racing(inner, 100);
    const { backoff, sleeps } = fakeBackoff([1, 0.5, 0]);
    const err = await mutateLedger(store, adder("mine"), { ...opts(backoff), maxTries: 10 }).catch((e: unknown) => e);
    expect(isRouterError(err, "E_LEDGER_CONFLICT")).toBe(true);
    expect((err as { details: { tries: number } }).details.tries).toBe(10);
    expect(store.raced).toBe(10);
    const caps = [250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000];
    expect(sleeps).toEqual(caps.map((cap, i) => cap * [1, 0.5, 0][i % 3]!));
    expect(titles((await inner.read()).ledger)).not.toContain("mine");
  });

  it("writes nothing when the function returns the ledger unchanged", async () => {
    const store = new MemoryLedgerStore();
    await store.write({ ledger: ledgerWith(2), message: "seed" }, null);
    const { backoff } = fakeBackoff();
    const r = await mutateLedger(store, ({ ledger }) => ({ ledger, result: "none", summary: "" }), opts(backoff));
    expect(r).toMatchObject({ written: false, tries: 1, result: "none" });
    expect(store.writes).toBe(1);
  });

  it("moves terminal tasks older than archiveAfterDays to the archive of the month they finished", async () => {
    const store = new MemoryLedgerStore();
    let ledger = ledgerWith(3);
    const cancel = (id: number, minute: number) => {
      ledger = { ...ledger, tasks: ledger.tasks.map((t) => (t.id === id ? transition(t, { type: "cancel" }, ctxAt(minute)).task : t)) };
    };
    cancel(1, 10); // 2026-11-01
    cancel(2, 60 * 24 * 40); // 2026-12-11
    await store.write({ ledger, message: "seed" }, null);
    const { backoff } = fakeBackoff();
    const now = new Date(Date.UTC(2026, 11, 20)).toISOString();
    const r = await mutateLedger(store, adder("new one"), { ...opts(backoff), now, archiveAfterDays: 30 });
    expect(r.written).toBe(true);
    const after = (await store.read()).ledger;
    expect(titles(after)).toEqual(["task-2", "task-3", "new one"]);
    expect(after.nextId).toBe(5);
    expect((await store.readArchive("2026-11")).map((t) => [t.id, t.status])).toEqual([[1, "cancelled"]]);
  });
});
