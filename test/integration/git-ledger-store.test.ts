// GitLedgerStore.compareAndSwap against real git: a failed `update-ref NEW OLD` is a lost race
// only when git says the branch moved or exists; any other "cannot lock ref" is E_GIT at once.
import { afterAll, describe, expect, it } from "vitest";
import { mutateLedger } from "../../src/app/mutate-ledger.ts";
import { GitLedgerStore } from "../../src/adapters/ledger-git/git-ledger-store.ts";
import { lostRefRace } from "../../src/adapters/ledger-git/run-git.ts";
import { isRouterError } from "../../src/core/errors.ts";
import { addTask } from "../../src/core/ledger/create-task.ts";
import type { Ledger } from "../../src/core/ledger/ledger.ts";
import { ctxAt } from "../support/ctx.ts";
import { makeRepo, removeTempDirs, sh } from "../support/git-repo.ts";

afterAll(removeTempDirs);

const adder = ({ ledger }: { ledger: Ledger }) => {
  const added = addTask(ledger, { source: { kind: "cli" }, title: "x" }, ctxAt(1));
  return { ledger: added.ledger, result: added.task.id, summary: "add x" };
};

/** Counts the sleeps between tries instead of sleeping. */
function countingBackoff() {
  const sleeps: number[] = [];
  return { sleeps, backoff: { sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 } };
}

describe("GitLedgerStore compare-and-swap", () => {
  it("a user branch named agent-router makes the ledger branch impossible: E_GIT with git's message on the first try", async () => {
    const repo = makeRepo();
    sh(repo, "branch", "agent-router");
    const store = new GitLedgerStore({ cwd: repo, branch: "agent-router/ledger", path: "ledger.yml" });
    const { backoff, sleeps } = countingBackoff();
    const err = await mutateLedger(store, adder, { backoff, traceId: "00-t-01", now: ctxAt(0).now }).catch((e: unknown) => e);
    expect(isRouterError(err, "E_GIT")).toBe(true);
    expect((err as Error).message).toContain("cannot lock ref 'refs/heads/agent-router/ledger': 'refs/heads/agent-router' exists; cannot create 'refs/heads/agent-router/ledger'");
    expect((err as { fix: string }).fix).toMatch(/Rename the branch `agent-router`.*or set ledger\.branch/);
    expect(sleeps).toEqual([]); // one try, no backoff: not ten tries and E_LEDGER_CONFLICT
    expect(sh(repo, "for-each-ref", "--format=%(refname)", "refs/heads/")).toBe("refs/heads/agent-router\nrefs/heads/main");
  });

  it("a ref below the ledger branch's name blocks it the same way", async () => {
    const repo = makeRepo();
    sh(repo, "branch", "ledger/old");
    const store = new GitLedgerStore({ cwd: repo, branch: "ledger", path: "ledger.yml" });
    const err = await store.compareAndSwap(sh(repo, "rev-parse", "main"), null, "x").catch((e: unknown) => e);
    expect(isRouterError(err, "E_GIT")).toBe(true);
    expect((err as Error).message).toContain("'refs/heads/ledger/old' exists; cannot create 'refs/heads/ledger'");
  });

  it("a branch that moved, or was created meanwhile, is a lost race (false), not an error", async () => {
    const repo = makeRepo();
    const store = new GitLedgerStore({ cwd: repo, branch: "agent-router/ledger", path: "ledger.yml" });
    const main = sh(repo, "rev-parse", "main");
    sh(repo, "commit", "-q", "--allow-empty", "-m", "second");
    const second = sh(repo, "rev-parse", "main");
    expect(await store.compareAndSwap(main, null, "create")).toBe(true);
    expect(await store.compareAndSwap(second, null, "create again")).toBe(false); // reference already exists
    expect(await store.compareAndSwap(second, second, "stale")).toBe(false); // is at … but expected …
    sh(repo, "update-ref", "-d", "refs/heads/agent-router/ledger");
    expect(await store.compareAndSwap(second, main, "deleted")).toBe(false); // unable to resolve reference
  });
});

describe("lostRefRace", () => {
  const prefix = "fatal: update_ref failed for ref 'refs/heads/x': cannot lock ref 'refs/heads/x': ";
  it.each([
    ["is at 47d850ce89e41e536a48432f06bc6afc07b84372 but expected 2574048621a4e2320b2ca5df4963afc9dae3b998", true],
    ["reference already exists", true],
    ["unable to resolve reference 'refs/heads/x'", true],
    ["'refs/heads/agent-router' exists; cannot create 'refs/heads/agent-router/ledger'", false],
    ["'refs/heads/x/y' exists; cannot create 'refs/heads/x'", false],
  ])("%s → %s", (tail, race) => {
    expect(lostRefRace(`${prefix}${tail}\n`)).toBe(race);
  });
});
