// `sync` on real repositories (a bare remote and two clones on disk) while the syncing clone keeps
// writing. The merge must reach the local branch before the remote: a write that lands between a
// pushed merge and the local compare-and-swap would leave the remote with renumbered tasks the local
// branch does not know, and every later sync would stop with E_LEDGER_DIVERGED.
import { afterAll, describe, expect, it } from "vitest";
import { GitLedgerStore } from "../../src/adapters/ledger-git/git-ledger-store.ts";
import { syncLedger } from "../../src/adapters/ledger-git/sync-ledger.ts";
import { systemBackoff } from "../../src/adapters/system/system.ts";
import { mutateLedger } from "../../src/app/mutate-ledger.ts";
import { isRouterError } from "../../src/core/errors.ts";
import { addTask } from "../../src/core/ledger/create-task.ts";
import { replaceTask } from "../../src/core/ledger/ledger.ts";
import { transition } from "../../src/core/ledger/transition.ts";
import { ctxAt } from "../support/ctx.ts";
import { makeRemoteWithClones, removeTempDirs } from "../support/git-repo.ts";

afterAll(removeTempDirs);

const ROUNDS = 30;
const branch = "agent-router/ledger";
const ctx = ctxAt(0);

function storeAt(cwd: string): GitLedgerStore {
  return new GitLedgerStore({ cwd, branch, path: "ledger.yml" });
}

/** Adds a task titled `title` and, in the same commit, cancels the task titled `cancel`. */
async function write(store: GitLedgerStore, title: string, cancel?: string): Promise<void> {
  await mutateLedger(
    store,
    ({ ledger }) => {
      let next = addTask(ledger, { source: { kind: "cli" }, title }, ctx).ledger;
      const old = next.tasks.find((t) => t.title === cancel);
      if (old) next = replaceTask(next, transition(old, { type: "cancel", reason: "superseded" }, ctx).task);
      return { ledger: next, result: null, summary: `add ${title}` };
    },
    { backoff: systemBackoff, traceId: ctx.traceId, now: ctx.now, maxTries: 50, baseDelayMs: 5 },
  );
}

async function sync(store: GitLedgerStore, cwd: string): Promise<string> {
  return (await syncLedger(store, { cwd, remote: "origin", branch, backoff: systemBackoff, maxTries: 20 })).action;
}

describe("sync while the same clone keeps writing", () => {
  it(`${ROUNDS} rounds of sync with concurrent local writes and remote pushes end with both sides equal`, async () => {
    const { bare, clones } = makeRemoteWithClones(2);
    const [a = "", b = ""] = clones;
    const [syncA, writerA, storeB] = [storeAt(a), storeAt(a), storeAt(b)];
    const expected: string[] = [];
    const open = new Set<string>();
    const errors: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // The remote moves, and so does the local branch: this round's sync has to merge.
      await write(storeB, `remote-${r}-0`);
      await sync(storeB, b);
      await write(writerA, `local-${r}-0`);
      expected.push(`remote-${r}-0`, `remote-${r}-1`, `local-${r}-0`);
      let syncing = true;
      const localWrites = (async () => {
        let k = 1;
        // Each write cancels the task the previous one added: a change to a task the merge renumbers.
        for (; syncing; k++) await write(writerA, `local-${r}-${k}`, `local-${r}-${k - 1}`);
        return k - 1;
      })();
      // Another clone pushes meanwhile, so some of A's pushes are rejected and merged again.
      const remoteWrite = write(storeB, `remote-${r}-1`).then(() => sync(storeB, b));
      try {
        await sync(syncA, a);
      } catch (err) {
        errors.push(`round ${r}: ${isRouterError(err) ? `${err.code} ${err.message}` : String(err)}`);
      } finally {
        syncing = false;
      }
      const last = await localWrites;
      await remoteWrite;
      for (let k = 1; k <= last; k++) expected.push(`local-${r}-${k}`);
      open.add(`local-${r}-${last}`);
    }
    expect(errors).toEqual([]);
    await sync(syncA, a);
    await sync(storeB, b);
    const heads = await Promise.all([syncA.head(), storeB.head(), storeAt(bare).head()]);
    expect(new Set(heads).size).toBe(1);
    const [local, other, remote] = await Promise.all([syncA.read(), storeB.read(), storeAt(bare).read()]);
    expect(local.ledger).toEqual(remote.ledger);
    expect(other.ledger).toEqual(remote.ledger);
    const tasks = remote.ledger.tasks;
    const ids = tasks.map((t) => t.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(tasks.map((t) => t.title).sort()).toEqual([...expected].sort());
    expect(remote.ledger.nextId).toBe(expected.length + 1);
    // No cancel was lost: every local task but each round's last was cancelled by the next write.
    const wrong = tasks.filter((t) => t.title.startsWith("local-") && (t.status === "cancelled") === open.has(t.title)).map((t) => `${t.title}: ${t.status}`);
    expect(wrong).toEqual([]);
    expect(expected.length).toBeGreaterThan(ROUNDS * 4);
  }, 240_000);
});
