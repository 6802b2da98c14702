// The GitHub ledger store over the in-memory GitHub port: branch creation, the deleted-branch
// refusal, archive files in the same commit, never writing over an invalid ledger, how refusals and
// failures of the commit call come back, and byte-identical files to the git store.
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { GitLedgerStore } from "../../src/adapters/ledger-git/git-ledger-store.ts";
import { githubLedgerStore } from "../../src/adapters/ledger-github/github-ledger-store.ts";
import { renderYaml } from "../../src/adapters/ledger-codec/render-yaml.ts";
import { mutateLedger } from "../../src/app/mutate-ledger.ts";
import type { Mutation } from "../../src/app/mutate-ledger.ts";
import { isRouterError, RouterError } from "../../src/core/errors.ts";
import { addTask } from "../../src/core/ledger/create-task.ts";
import type { LedgerSnapshot, LedgerStore, LedgerWrite } from "../../src/core/ports.ts";
import { memoryGitHub } from "../fakes/memory-github.ts";
import { ctxAt } from "../support/ctx.ts";
import { makeRepo, removeTempDirs, sh } from "../support/git-repo.ts";
import { ledgerWith, titles } from "../support/ledger-data.ts";

afterAll(removeTempDirs);

const branch = "agent-router/ledger";
const backoff = { sleep: () => new Promise<void>((resolve) => setImmediate(resolve)), random: () => 0 };
const opts = { backoff, traceId: "trace-1", now: ctxAt(0).now, maxTries: 20 };

function add(title: string): (snap: LedgerSnapshot) => Mutation<number> {
  return (snap) => {
    const { ledger, task } = addTask(snap.ledger, { source: { kind: "cli" }, title }, ctxAt(1));
    return { ledger, result: task.id, summary: `add ${title}` };
  };
}

function setup() {
  const github = memoryGitHub();
  const store = githubLedgerStore(github, { branch, path: "ledger.yml" });
  return { github, store };
}

async function rejection(p: Promise<unknown>): Promise<RouterError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof RouterError)) throw new Error(`expected a RouterError, got ${String(err)}`);
  return err;
}

describe("GitHub ledger store", () => {
  it("creates the ledger branch from the default branch head with the first write, in one commit", async () => {
    const { github, store } = setup();
    const main = github.branches.get("main")!;
    expect(store.location).toBe("ledger.yml on branch agent-router/ledger of octo/project (GitHub)");
    const out = await mutateLedger(store, add("first"), opts);
    expect(out).toMatchObject({ result: 1, tries: 1, written: true });
    const [commit, base] = github.history(branch);
    expect(base?.sha).toBe(main);
    expect(commit?.parent).toBe(main);
    expect(commit?.message).toBe("add first\n\nTrace: trace-1");
    expect(github.history(branch)).toHaveLength(2);
    expect(github.fileAt(branch, "README.md")).toBe("# project\n");
    expect(github.calls).toMatchObject({ createBranch: 1, commitFiles: 1, listBranches: 2 });
  });

  it("lets one of two first writers create the branch; the other gets a conflict and re-applies", async () => {
    const { github } = setup();
    const a = githubLedgerStore(github, { branch, path: "ledger.yml" });
    const b = githubLedgerStore(github, { branch, path: "ledger.yml" });
    const outs = await Promise.all([a.write({ ledger: ledgerWith(1), message: "a" }, null), b.write({ ledger: ledgerWith(2), message: "b" }, null)]);
    expect(outs.filter((o) => o.ok)).toHaveLength(1);
    expect(outs.find((o) => !o.ok)).toMatchObject({ conflict: true });
    await Promise.all([mutateLedger(a, add("x"), opts), mutateLedger(b, add("y"), opts)]);
    expect((await a.read()).ledger.tasks).toHaveLength(outs[0].ok ? 3 : 4);
  });

  it("refuses to recreate a deleted ledger branch when task branches exist, and writes nothing", async () => {
    const { github, store } = setup();
    await mutateLedger(store, add("one"), opts);
    const main = github.branches.get("main")!;
    github.branches.set("agent-router/task-3", main);
    github.branches.set("agent-router/task-7", main);
    github.deleteBranch(branch);
    const before = { ...github.calls };
    const err = await rejection(store.read());
    expect(err.code).toBe("E_LEDGER_BRANCH_GONE");
    expect(err.message).toContain("agent-router/ledger of octo/project does not exist, but 2 task branch(es) do (e.g. agent-router/task-3)");
    expect(err.fix).toContain("git push origin SHA:refs/heads/agent-router/ledger");
    expect(err.details).toMatchObject({ branch, taskBranches: 2, examples: ["agent-router/task-3", "agent-router/task-7"] });
    expect((await rejection(store.write({ ledger: ledgerWith(1), message: "x" }, null))).code).toBe("E_LEDGER_BRANCH_GONE");
    expect((await rejection(mutateLedger(store, add("two"), opts))).code).toBe("E_LEDGER_BRANCH_GONE");
    expect(github.calls.createBranch).toBe(before.createBranch);
    expect(github.calls.commitFiles).toBe(before.commitFiles);
    expect(github.branches.has(branch)).toBe(false);
    // The advice never forces anything, and its "start empty on purpose" step works: the branch
    // made from the default branch (no ledger file there) reads as an empty ledger.
    expect(err.fix).not.toMatch(/force/i);
    expect(err.fix).toContain("git push origin main:refs/heads/agent-router/ledger");
    github.branches.set(branch, main);
    expect((await store.read()).ledger.tasks).toEqual([]);
  });

  it("writes archive batches in the same commit as the ledger, appended to the archive text at the head", async () => {
    const { github, store } = setup();
    const ledger = ledgerWith(3);
    const [t1, t2, t3] = ledger.tasks;
    const first = await store.write({ ledger: { ...ledger, tasks: [t2!, t3!] }, message: "archive 1", archive: [{ month: "2026-10", tasks: [t1!] }] }, null);
    if (!first.ok) throw new Error("first write failed");
    const october = github.fileAt(branch, "archive/2026-10.yml")!;
    const commits = github.history(branch).length;
    const change: LedgerWrite = { ledger: { ...ledger, tasks: [] }, message: "archive 2", archive: [{ month: "2026-10", tasks: [t2!] }, { month: "2026-11", tasks: [t3!] }] };
    const second = await store.write(change, first.head);
    expect(second.ok).toBe(true);
    expect(github.history(branch)).toHaveLength(commits + 1);
    const files = github.commits.get(github.branches.get(branch)!)!.files;
    expect(files.get("ledger.yml")).toContain("tasks: []");
    expect(files.get("archive/2026-10.yml")!.startsWith(october)).toBe(true);
    expect((await store.readArchive("2026-10")).map((t) => t.id)).toEqual([1, 2]);
    expect((await store.readArchive("2026-11")).map((t) => t.id)).toEqual([3]);
  });

  it("puts the archive beside the ledger file unless archiveDir says otherwise", async () => {
    const github = memoryGitHub();
    const batch = { ledger: { ...ledgerWith(1), tasks: [] }, message: "a", archive: [{ month: "2026-10", tasks: ledgerWith(1).tasks }] };
    await githubLedgerStore(github, { branch: "b1", path: ".github/ledger.yml" }).write(batch, null);
    await githubLedgerStore(github, { branch: "b2", path: "ledger.yml", archiveDir: "old-tasks/" }).write(batch, null);
    expect(github.fileAt("b1", ".github/archive/2026-10.yml")).toContain("id: 1");
    expect(github.fileAt("b2", "old-tasks/2026-10.yml")).toContain("id: 1");
  });

  it("never writes over an invalid ledger file: E_LEDGER_INVALID with path, line and head, and no commit", async () => {
    const { github, store } = setup();
    const text = renderYaml(ledgerWith(2)).replace("status: new", "status: sleeping");
    const head = github.plant(branch, { "ledger.yml": text });
    const err = await rejection(mutateLedger(store, add("x"), opts));
    expect(err.code).toBe("E_LEDGER_INVALID");
    const line = text.split("\n").indexOf("    status: sleeping") + 1;
    expect(err.message).toContain(`ledger.yml on branch agent-router/ledger of octo/project (GitHub) (commit ${head.slice(0, 12)}) is invalid; nothing was written`);
    expect(err.message).toContain(`ledger.yml:${line} tasks[0].status:`);
    expect(err.details).toMatchObject({ commit: head, branch, file: "ledger.yml" });
    expect(err.fix).toContain("Nothing was written");
    expect(github.calls.commitFiles).toBe(0);
    expect(github.fileAt(branch, "ledger.yml")).toBe(text);
  });

  it("turns a stale answer and a thrown 409 or 422 into a conflict naming the actual head", async () => {
    const { github, store } = setup();
    const first = await store.write({ ledger: ledgerWith(1), message: "one" }, null);
    if (!first.ok) throw new Error("first write failed");
    github.faults.stale(1);
    github.faults.error(1, 409, "commitFiles");
    github.faults.error(1, 422, "commitFiles");
    for (let i = 0; i < 3; i++) expect(await store.write({ ledger: ledgerWith(2), message: "two" }, first.head)).toEqual({ ok: false, conflict: true, actualHead: first.head });
    expect(github.fired).toMatchObject({ stale: 1, error: 2 });
    github.faults.error(1, 409, "commitFiles");
    github.faults.stale(1);
    expect(await mutateLedger(store, add("x"), opts)).toMatchObject({ tries: 3, written: true });
    expect(titles((await store.read()).ledger)).toEqual(["task-1", "x"]);
  });

  it("throws a 5xx that did not land (nothing committed) and reads errors through; the next run writes", async () => {
    const { github, store } = setup();
    await mutateLedger(store, add("one"), opts);
    const commits = github.history(branch).length;
    github.faults.error(1, 502, "commitFiles");
    const err = await rejection(mutateLedger(store, add("two"), opts));
    expect(err).toMatchObject({ code: "E_GITHUB_UNAVAILABLE", retryable: true, details: { status: 502 } });
    expect(github.history(branch)).toHaveLength(commits);
    github.faults.error(1, 502, "readFile");
    expect(isRouterError(await store.read().catch((e: unknown) => e), "E_GITHUB_UNAVAILABLE")).toBe(true);
    await mutateLedger(store, add("two"), opts);
    expect(titles((await store.read()).ledger)).toEqual(["one", "two"]);
  });
});

/** Commits `text` as ledger.yml on the git store's branch (keeping the other files), as a person would. */
function plantGit(repo: string, text: string): void {
  const ref = `refs/heads/${branch}`;
  const blob = execFileSync("git", ["hash-object", "-w", "--stdin"], { cwd: repo, input: text, encoding: "utf8" }).trim();
  const others = sh(repo, "ls-tree", ref).split("\n").filter((l) => !l.endsWith("\tledger.yml"));
  const tree = execFileSync("git", ["mktree"], { cwd: repo, input: [...others, `100644 blob ${blob}\tledger.yml`].join("\n") + "\n", encoding: "utf8" }).trim();
  sh(repo, "update-ref", ref, sh(repo, "commit-tree", tree, "-p", sh(repo, "rev-parse", ref), "-m", "hand edit"));
}

describe("GitHub ledger store and git ledger store", () => {
  it("write byte-identical ledger and archive files for the same changes", async () => {
    const repo = makeRepo();
    const git = new GitLedgerStore({ cwd: repo, branch, path: "ledger.yml" });
    const { github, store } = setup();
    const both: LedgerStore[] = [git, store];
    const ledger = ledgerWith(3);
    const [t1, t2, t3] = ledger.tasks;
    for (const s of both) {
      await mutateLedger(s, () => ({ ledger: { ...ledger, tasks: [t2!, t3!] }, result: null, summary: "first" }), opts);
      await mutateLedger(s, (snap) => ({ ledger: { ...snap.ledger, tasks: [t3!] }, result: null, summary: "archive" }), { ...opts, archiveAfterDays: undefined });
      const snap = await s.read();
      await s.write({ ledger: snap.ledger, message: "archive", archive: [{ month: "2026-10", tasks: [t1!, t2!] }] }, snap.head);
    }
    const commented = `${sh(repo, "show", `${branch}:ledger.yml`)}\n`.replace("nextId:", "# kept by hand\nnextId:");
    plantGit(repo, commented);
    github.plant(branch, { "ledger.yml": commented });
    for (const s of both) await mutateLedger(s, add("after comment"), opts);
    const gitFile = (path: string) => execFileSync("git", ["show", `${branch}:${path}`], { cwd: repo, encoding: "utf8" });
    expect(github.fileAt(branch, "ledger.yml")).toBe(gitFile("ledger.yml"));
    expect(github.fileAt(branch, "ledger.yml")).toContain("# kept by hand\nnextId: 5");
    expect(github.fileAt(branch, "archive/2026-10.yml")).toBe(gitFile("archive/2026-10.yml"));
  });
});
