// Lost answers and small races on the GitHub ledger store (the 800-update race is in
// github-ledger-store-concurrency.slow.test.ts). A commit whose answer was lost must not be applied
// twice; a blind writer (no compare-and-swap) must lose updates, which proves the check can fail.
import { describe, expect, it } from "vitest";
import { githubLedgerStore } from "../../src/adapters/ledger-github/github-ledger-store.ts";
import { mutateLedger } from "../../src/app/mutate-ledger.ts";
import type { Mutation } from "../../src/app/mutate-ledger.ts";
import { addTask } from "../../src/core/ledger/create-task.ts";
import type { GitHub } from "../../src/core/github-port.ts";
import type { LedgerSnapshot } from "../../src/core/ports.ts";
import { memoryGitHub } from "../fakes/memory-github.ts";
import type { MemoryGitHub } from "../fakes/memory-github.ts";
import { memoryLog } from "../fakes/memory-log.ts";
import { ctxAt } from "../support/ctx.ts";

const branch = "agent-router/ledger";
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const opts = { backoff: { sleep: turn, random: () => 0 }, traceId: "t", now: ctxAt(0).now, maxTries: 1_000 };

/** Adds a task titled `title`; with `once`, not when one is there already (as deliveries are deduplicated). */
function add(title: string, once = false): (snap: LedgerSnapshot) => Mutation<{ id: number; found: boolean }> {
  return (snap) => {
    const have = once ? snap.ledger.tasks.find((t) => t.title === title) : undefined;
    if (have) return { ledger: snap.ledger, result: { id: have.id, found: true }, summary: "" };
    const { ledger, task } = addTask(snap.ledger, { source: { kind: "cli" }, title }, ctxAt(0));
    return { ledger, result: { id: task.id, found: false }, summary: `add ${title}` };
  };
}

async function started(github: MemoryGitHub) {
  const log = memoryLog();
  const store = githubLedgerStore(github, { branch, path: "ledger.yml", log });
  await mutateLedger(store, add("seed"), opts);
  return { store, log };
}

describe("GitHub ledger store: lost answers", () => {
  it("a commit that landed although the call failed counts as written, once (even for a function that is not idempotent)", async () => {
    const github = memoryGitHub();
    const { store, log } = await started(github);
    const commits = github.history(branch).length;
    github.faults.commitThenFail(1);
    const out = await mutateLedger(store, add("x"), opts);
    expect(out).toMatchObject({ tries: 1, written: true, result: { id: 2 } });
    expect(out.head).toBe(github.branches.get(branch));
    expect(github.history(branch)).toHaveLength(commits + 1);
    expect((await store.read()).ledger.tasks.map((t) => t.title)).toEqual(["seed", "x"]);
    expect(log.lines.filter((l) => l.msg === "the ledger commit landed although the call failed")).toHaveLength(1);
  });

  it("when another writer commits on top before the failure shows, the re-read finds the change already there", async () => {
    const github = memoryGitHub();
    const { store, log } = await started(github);
    const other = githubLedgerStore(github, { branch, path: "ledger.yml" });
    github.faults.commitThenFail(1, 20);
    const mine = mutateLedger(store, add("mine", true), opts);
    while (github.fired.commitThenFail === 0) await turn();
    await mutateLedger(other, add("theirs", true), opts);
    const out = await mine;
    expect(out).toMatchObject({ tries: 2, written: false, result: { id: 2, found: true } });
    const { ledger } = await store.read();
    expect(ledger.tasks.map((t) => [t.id, t.title])).toEqual([[1, "seed"], [2, "mine"], [3, "theirs"]]);
    expect(ledger.nextId).toBe(4);
    expect(github.history(branch)).toHaveLength(4);
    expect(log.lines.some((l) => l.msg === "the ledger commit call failed and the branch moved; re-reading")).toBe(true);
  });
});

/** The same port with the compare-and-swap removed: a commit lands on whatever the head is by then. */
function blind(github: MemoryGitHub): GitHub {
  const commitFiles: GitHub["commitFiles"] = async (input) => {
    for (;;) {
      const out = await github.commitFiles({ ...input, expectedHead: github.branches.get(input.branch) ?? input.expectedHead });
      if (out.ok) return out;
    }
  };
  return Object.assign(Object.create(github) as MemoryGitHub, { commitFiles });
}

async function race(port: (g: MemoryGitHub) => GitHub, writers: number, each: number, faults: boolean) {
  const github = memoryGitHub();
  const all = Array.from({ length: writers }, (_, w) => async () => {
    const store = githubLedgerStore(port(github), { branch, path: "ledger.yml" });
    for (let i = 0; i < each; i++) {
      await mutateLedger(store, add(`w${w}-${i}`, true), opts);
      if (faults && i % 3 === 0) [() => github.faults.stale(1), () => github.faults.error(1, 409, "commitFiles"), () => github.faults.error(1, 422, "commitFiles"), () => github.faults.commitThenFail(1, w)][w % 4]!();
    }
  });
  await Promise.all(all.map((f) => f()));
  const { ledger } = await githubLedgerStore(github, { branch, path: "ledger.yml" }).read();
  return { github, ledger, titles: new Set(ledger.tasks.map((t) => t.title)) };
}

describe("GitHub ledger store: races", () => {
  it("8 writers × 10 mutates with faults lose and duplicate nothing", async () => {
    const { github, ledger, titles } = await race((g) => g, 8, 10, true);
    expect(ledger.tasks.map((t) => t.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(titles.size).toBe(80);
    expect(ledger.nextId).toBe(81);
    expect(github.history(branch)).toHaveLength(81);
    expect(github.fired.error + github.fired.stale + github.fired.commitThenFail).toBeGreaterThan(0);
  });

  it("the same load with blind commits loses updates (negative control)", async () => {
    const { titles } = await race(blind, 8, 10, false);
    expect(titles.size).toBeLessThan(80);
  });
});
