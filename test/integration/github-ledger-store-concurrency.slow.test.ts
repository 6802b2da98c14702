// 16 in-process writers × 50 mutateLedger calls race on one ledger branch of the in-memory GitHub
// port while it answers stale heads, throws 409 and 422 from the commit call, and loses the answer
// of commits that landed. Compare-and-swap plus re-read-and-re-apply must lose and duplicate nothing.
import { describe, expect, it } from "vitest";
import { githubLedgerStore } from "../../src/adapters/ledger-github/github-ledger-store.ts";
import { mutateLedger } from "../../src/app/mutate-ledger.ts";
import type { Mutation } from "../../src/app/mutate-ledger.ts";
import { addTask } from "../../src/core/ledger/create-task.ts";
import type { LedgerSnapshot } from "../../src/core/ports.ts";
import { memoryGitHub } from "../fakes/memory-github.ts";
import { memoryLog } from "../fakes/memory-log.ts";
import type { MemoryGitHub } from "../fakes/memory-github.ts";
import { ctxAt } from "../support/ctx.ts";
import { seeded } from "../support/seeded-random.ts";

const WRITERS = 16;
const EACH = 50;
/** Writers run in this many "processes" (store instances); the writers of one share its cache. */
const STORES = 4;
const branch = "agent-router/ledger";

/** Adds the task titled `title` unless it is there already (as a delivery is deduplicated). */
function addOnce(title: string): (snap: LedgerSnapshot) => Mutation<{ id: number; found: boolean }> {
  return (snap) => {
    const have = snap.ledger.tasks.find((t) => t.title === title);
    if (have) return { ledger: snap.ledger, result: { id: have.id, found: true }, summary: "" };
    const { ledger, task } = addTask(snap.ledger, { source: { kind: "cli" }, title }, ctxAt(0));
    return { ledger, result: { id: task.id, found: false }, summary: `add ${title}` };
  };
}


/** Arms one fault now and then: a stale head, a thrown 409 or 422 from the commit, or a lost answer. */
function chaos(github: MemoryGitHub, random: () => number): void {
  const r = random();
  if (r < 0.08) github.faults.stale(1);
  else if (r < 0.16) github.faults.error(1, 409, "commitFiles");
  else if (r < 0.24) github.faults.error(1, 422, "commitFiles");
  // The answer is lost after 0 to 11 turns: a quick failure, or a timeout while others commit on top.
  else if (r < 0.32) github.faults.commitThenFail(1, Math.floor(random() * 12));
}

const backoff = { sleep: () => new Promise<void>((resolve) => setImmediate(resolve)), random: () => 0 };

describe("GitHub ledger store under concurrent writers", () => {
  it(`${WRITERS} writers (${STORES} stores) × ${EACH} mutates with stale heads, 409, 422 and lost answers lose nothing`, async () => {
    const github = memoryGitHub();
    const random = seeded(20261101);
    const started = Date.now();
    let tries = 0;
    let found = 0;
    const log = memoryLog();
    const stores = Array.from({ length: STORES }, () => githubLedgerStore(github, { branch, path: "ledger.yml", log }));
    const writer = async (w: number): Promise<number[]> => {
      const store = stores[w % STORES]!;
      const ids: number[] = [];
      for (let i = 0; i < EACH; i++) {
        const out = await mutateLedger(store, addOnce(`w${w}-${i}`), { backoff, traceId: `trace-${w}-${i}`, now: ctxAt(0).now, maxTries: 100_000 });
        tries += out.tries;
        if (out.result.found) found++;
        ids.push(out.result.id);
        chaos(github, random);
      }
      return ids;
    };
    const results = await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    const ms = Date.now() - started;

    const total = WRITERS * EACH;
    const { ledger } = await githubLedgerStore(github, { branch, path: "ledger.yml" }).read();
    const ids = ledger.tasks.map((t) => t.id).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(ledger.nextId).toBe(total + 1);
    const titles = new Set(ledger.tasks.map((t) => t.title));
    expect(titles.size).toBe(total);
    for (let w = 0; w < WRITERS; w++) for (let i = 0; i < EACH; i++) expect(titles.has(`w${w}-${i}`)).toBe(true);
    // Every writer got back the id its task really has.
    const byTitle = new Map(ledger.tasks.map((t) => [t.title, t.id]));
    results.forEach((ids, w) => ids.forEach((id, i) => expect(byTitle.get(`w${w}-${i}`)).toBe(id)));
    // One commit per task on top of the default branch's commit: nothing was committed twice.
    expect(github.history(branch)).toHaveLength(total + 1);
    expect(github.calls.createBranch).toBeGreaterThanOrEqual(1);
    expect(github.fired.stale + github.fired.error + github.fired.commitThenFail).toBeGreaterThan(0);
    expect(github.fired.error).toBeGreaterThan(0);
    expect(github.fired.commitThenFail).toBeGreaterThan(0);
    // Every lost answer was settled: as written (the head still held our text) or found on re-read.
    const landed = log.lines.filter((l) => l.msg === "the ledger commit landed although the call failed").length;
    expect(landed + found).toBe(github.fired.commitThenFail);
    console.log(
      `github store: ${total} updates in ${ms} ms, ${tries} tries, faults ${JSON.stringify(github.fired)}, lost answers settled as written ${landed}, ` +
        `found on re-read ${found}, calls ${JSON.stringify(github.calls)}`,
    );
  }, 120_000);
});
