// A writer killed with SIGKILL at random moments never leaves a torn or invalid ledger: what is on
// the branch is always the state after some whole number of its writes.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GitLedgerStore } from "../../src/adapters/ledger-git/git-ledger-store.ts";
import { makeRepo, removeTempDirs, sh } from "../support/git-repo.ts";
import { built, runNode } from "../support/processes.ts";
import { seeded } from "../support/seeded-random.ts";

afterAll(removeTempDirs);

const KILLS = 100;


describe("ledger writer killed with SIGKILL", () => {
  it(`${KILLS} kills at random moments leave a ledger equal to a before- or after-write state`, async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100000);
    const random = seeded(seed);
    const repo = makeRepo();
    const store = () => new GitLedgerStore({ cwd: repo, branch: "agent-router/ledger", path: "ledger.yml" });
    const expected: string[] = [];
    let killedMidRun = 0;
    for (let round = 0; round < KILLS; round++) {
      const delay = 150 + Math.floor(random() * 600);
      const run = await runNode(built("ledger-writer"), [repo, `c${round}`, "1000", "cas"], { killAfterMs: delay });
      if (run.signal === "SIGKILL") killedMidRun++;
      const { ledger } = await store().read(); // throws if the ledger does not parse or validate
      const written = ledger.tasks.slice(expected.length).map((t) => t.title);
      const wanted = written.map((_, i) => `c${round}-${i}`);
      expect({ seed, round, prefix: ledger.tasks.slice(0, expected.length).map((t) => t.title) }).toEqual({ seed, round, prefix: expected });
      expect({ seed, round, written }).toEqual({ seed, round, written: wanted });
      expect(ledger.nextId).toBe(ledger.tasks.length + 1);
      expected.push(...written);
    }
    expect(killedMidRun).toBeGreaterThan(KILLS * 0.9);
    expect(expected.length).toBeGreaterThan(0);
    // The branch history holds only whole writes, and the working tree was never touched.
    expect(Number(sh(repo, "rev-list", "--count", "agent-router/ledger"))).toBe(expected.length);
    expect(sh(repo, "status", "--porcelain")).toBe("");
    // A dead writer's lock is taken over: the next writer gets through at once.
    const lock = join(sh(repo, "rev-parse", "--absolute-git-dir"), "agent-router-agent-router_ledger.lock");
    if (existsSync(lock)) expect(Number(readFileSync(lock, "utf8"))).toBeGreaterThan(0);
    const after = await runNode(built("ledger-writer"), [repo, "final", "1", "cas"]);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^final-0 \d+ 1\n$/);
    expect(existsSync(lock)).toBe(false);
    console.log(`crash test: seed ${seed}, ${killedMidRun} kills mid-run, ${expected.length} whole writes survived`);
  }, 300_000);

  it("the checker catches a writer that exposes half-written files (negative control)", async () => {
    const repo = makeRepo();
    const store = () => new GitLedgerStore({ cwd: repo, branch: "agent-router/ledger", path: "ledger.yml" });
    await runNode(built("ledger-writer"), [repo, "seed", "3", "cas"]);
    let detected = 0;
    for (let round = 0; round < 20 && detected === 0; round++) {
      await runNode(built("ledger-writer"), [repo, `t${round}`, "1000", "torn"], { killAfterMs: 300 + round * 37 });
      const err = await store().read().then(() => null, (e: unknown) => e);
      if (err !== null) {
        expect((err as Error).message).toMatch(/ledger\.yml.* is invalid; nothing was written/);
        detected++;
      }
    }
    expect(detected).toBeGreaterThan(0);
  }, 120_000);
});
