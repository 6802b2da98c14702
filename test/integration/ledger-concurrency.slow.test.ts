// Eight writer processes race on one ledger. With compare-and-swap every update survives; the same
// load with a blind overwrite must lose updates, which proves the checker can fail.
import { afterAll, describe, expect, it } from "vitest";
import { GitLedgerStore } from "../../src/adapters/ledger-git/git-ledger-store.ts";
import type { Ledger } from "../../src/core/ledger/ledger.ts";
import { makeRemoteWithClones, makeRepo, removeTempDirs, sh } from "../support/git-repo.ts";
import { built, runNode } from "../support/processes.ts";

afterAll(removeTempDirs);

const WRITERS = 8;
const EACH = 25;
const branch = "agent-router/ledger";

interface Check {
  lost: string[];
  duplicateIds: number[];
  total: number;
}

/** Which of the expected titles are missing, and which ids appear twice. */
function checkLedger(ledger: Ledger, names: string[]): Check {
  const have = new Set(ledger.tasks.map((t) => t.title));
  const lost = names.flatMap((n) => Array.from({ length: EACH }, (_, i) => `${n}-${i}`)).filter((t) => !have.has(t));
  const ids = ledger.tasks.map((t) => t.id);
  const duplicateIds = ids.filter((id, i) => ids.indexOf(id) !== i);
  return { lost, duplicateIds, total: ledger.tasks.length };
}

async function race(repos: string[], mode: string): Promise<{ names: string[]; failures: string[]; ms: number }> {
  const names = Array.from({ length: WRITERS }, (_, i) => `w${i}`);
  const start = Date.now();
  const results = await Promise.all(names.map((name, i) => runNode(built("ledger-writer"), [repos[i % repos.length]!, name, String(EACH), mode])));
  return { names, failures: results.filter((r) => r.code !== 0).map((r) => r.stderr.slice(0, 500)), ms: Date.now() - start };
}

describe("ledger under concurrent writers", () => {
  it(`${WRITERS} processes × ${EACH} mutates on one repository lose nothing`, async () => {
    const repo = makeRepo();
    const { names, failures, ms } = await race([repo], "cas");
    expect(failures).toEqual([]);
    const store = new GitLedgerStore({ cwd: repo, branch, path: "ledger.yml" });
    const { ledger } = await store.read();
    const check = checkLedger(ledger, names);
    expect(check).toEqual({ lost: [], duplicateIds: [], total: WRITERS * EACH });
    expect(ledger.nextId).toBe(WRITERS * EACH + 1);
    expect(sh(repo, "status", "--porcelain")).toBe("");
    expect(Number(sh(repo, "rev-list", "--count", branch))).toBe(WRITERS * EACH);
    console.log(`cas: ${WRITERS * EACH} updates in ${ms} ms`);
  }, 240_000);

  it(`${WRITERS} processes × ${EACH} mutates without the local lock still lose nothing (compare-and-swap alone)`, async () => {
    const repo = makeRepo();
    const { names, failures } = await race([repo], "cas-nolock");
    expect(failures).toEqual([]);
    const { ledger } = await new GitLedgerStore({ cwd: repo, branch, path: "ledger.yml" }).read();
    expect(checkLedger(ledger, names)).toEqual({ lost: [], duplicateIds: [], total: WRITERS * EACH });
  }, 240_000);

  it("the same load with a blind overwrite loses updates (negative control)", async () => {
    const repo = makeRepo();
    const { names } = await race([repo], "blind");
    const { ledger } = await new GitLedgerStore({ cwd: repo, branch, path: "ledger.yml" }).read();
    const check = checkLedger(ledger, names);
    expect(check.lost.length + check.duplicateIds.length).toBeGreaterThan(0);
  }, 240_000);

  it(`${WRITERS} clones × ${EACH} add-then-sync against a bare remote lose nothing`, async () => {
    const { bare, clones } = makeRemoteWithClones(WRITERS);
    const { names, failures, ms } = await race(clones, "sync");
    expect(failures).toEqual([]);
    const { ledger } = await new GitLedgerStore({ cwd: bare, branch, path: "ledger.yml" }).read();
    expect(checkLedger(ledger, names)).toEqual({ lost: [], duplicateIds: [], total: WRITERS * EACH });
    expect(ledger.nextId).toBe(WRITERS * EACH + 1);
    console.log(`sync: ${WRITERS * EACH} updates in ${ms} ms`);
  }, 300_000);

  it("the same remote load with forced pushes loses updates (negative control)", async () => {
    const { bare, clones } = makeRemoteWithClones(WRITERS);
    const { names } = await race(clones, "blind-sync");
    const { ledger } = await new GitLedgerStore({ cwd: bare, branch, path: "ledger.yml" }).read();
    const check = checkLedger(ledger, names);
    expect(check.lost.length).toBeGreaterThan(0);
  }, 300_000);
});
