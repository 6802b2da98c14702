// The per-attempt worktrees against real git: each attempt (and review) has a worktree of its own,
// the task branch moves only by compare-and-swap, and nothing touches the user's working tree.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isRouterError } from "../../src/core/errors.ts";
import { gitWorktrees, worktreeName } from "../../src/adapters/workspace-git/git-worktrees.ts";
import { makeRemoteWithClones, makeRepo, removeTempDirs, sh, tempDir } from "../support/git-repo.ts";

afterEach(removeTempDirs);

const BRANCH = "refs/heads/agent-router/task-1";

function committed(result: Awaited<ReturnType<ReturnType<typeof gitWorktrees>["commit"]>>): string {
  if (result === null || !("commit" in result)) throw new Error(`expected a commit, got ${JSON.stringify(result)}`);
  return result.commit;
}

function worktreePaths(repo: string): string[] {
  return sh(repo, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((l) => l.startsWith("worktree "))
    .map((l) => l.slice("worktree ".length));
}

describe("gitWorktrees", () => {
  it("gives two attempts of one task different worktrees; a commit moves the branch and the next attempt starts there", async () => {
    const repo = makeRepo();
    const ws = gitWorktrees(repo);
    const a = await ws.prepare(1, "a-first");
    writeFileSync(join(a.path, "one.txt"), "from attempt 1\n");
    const b = await ws.prepare(1, "a-second");
    expect(a.branch).toBe("agent-router/task-1");
    expect(b.path).not.toBe(a.path);
    expect(existsSync(join(b.path, "one.txt"))).toBe(false); // attempt 2's worktree does not see attempt 1's work

    const first = committed(await ws.commit(1, "a-first", "attempt 1"));
    expect(sh(repo, "rev-parse", BRANCH)).toBe(first);
    expect(sh(repo, "rev-parse", `${first}^`)).toBe(sh(repo, "rev-parse", "main"));
    expect(sh(repo, "log", "-1", "--format=%an <%ae>|%s", first)).toBe("agent-router <agent-router@users.noreply.github.com>|attempt 1");
    await ws.remove(1, "a-first");
    await ws.remove(1, "a-second");

    const c = await ws.prepare(1, "a-third");
    expect(sh(c.path, "rev-parse", "HEAD")).toBe(first);
    expect(readFileSync(join(c.path, "one.txt"), "utf8")).toBe("from attempt 1\n");
    writeFileSync(join(c.path, "two.txt"), "from attempt 3\n");
    const second = committed(await ws.commit(1, "a-third", "attempt 3"));
    expect(sh(repo, "rev-parse", `${second}^`)).toBe(first);
    expect(sh(repo, "rev-parse", BRANCH)).toBe(second);
  });

  it("returns conflict for a stale attempt's commit and keeps the winner's commit, files and worktree", async () => {
    const repo = makeRepo();
    const ws = gitWorktrees(repo);
    const stale = await ws.prepare(1, "a-stale");
    const winner = await ws.prepare(1, "a-winner");
    writeFileSync(join(winner.path, "winner.txt"), "B\n");
    const landed = committed(await ws.commit(1, "a-winner", "winner"));
    writeFileSync(join(winner.path, "later.txt"), "B, not committed yet\n");

    writeFileSync(join(stale.path, "stale.txt"), "A\n");
    expect(await ws.commit(1, "a-stale", "stale")).toEqual({ conflict: true });
    expect(sh(repo, "rev-parse", BRANCH)).toBe(landed);
    expect(sh(repo, "ls-tree", "--name-only", BRANCH).split("\n").sort()).toEqual(["README.md", "winner.txt"]);

    await ws.remove(1, "a-stale");
    expect(existsSync(stale.path)).toBe(false);
    expect(readFileSync(join(winner.path, "winner.txt"), "utf8")).toBe("B\n");
    expect(readFileSync(join(winner.path, "later.txt"), "utf8")).toBe("B, not committed yet\n");
    expect(sh(winner.path, "status", "--porcelain")).toBe("?? later.txt");
  });

  it("removing one attempt's worktree leaves another attempt's uncommitted files", async () => {
    const repo = makeRepo();
    const ws = gitWorktrees(repo);
    const released = await ws.prepare(1, "a-released");
    const current = await ws.prepare(1, "a-current");
    writeFileSync(join(current.path, "work.txt"), "in progress\n");
    writeFileSync(join(current.path, "README.md"), "# edited\n");

    await ws.remove(1, "a-released");
    await ws.remove(1, "a-released"); // twice is fine

    expect(existsSync(released.path)).toBe(false);
    expect(readFileSync(join(current.path, "work.txt"), "utf8")).toBe("in progress\n");
    expect(readFileSync(join(current.path, "README.md"), "utf8")).toBe("# edited\n");
    expect(worktreePaths(repo)).toHaveLength(2); // the user's tree and the current attempt's
    writeFileSync(join(current.path, "more.txt"), "x\n");
    expect(committed(await ws.commit(1, "a-current", "current"))).toBe(sh(repo, "rev-parse", BRANCH));
  });

  it("never touches the user's working tree, index or HEAD", async () => {
    const repo = makeRepo();
    writeFileSync(join(repo, "staged.txt"), "staged\n");
    sh(repo, "add", "staged.txt");
    writeFileSync(join(repo, "README.md"), "# user's unsaved edit\n");
    writeFileSync(join(repo, "untracked.txt"), "mine\n");
    const before = {
      status: sh(repo, "status", "--porcelain", "--untracked-files=all"),
      head: sh(repo, "rev-parse", "HEAD"),
      symbolic: sh(repo, "symbolic-ref", "HEAD"),
      index: sh(repo, "diff", "--cached"),
      readme: readFileSync(join(repo, "README.md"), "utf8"),
    };

    const ws = gitWorktrees(repo);
    const a = await ws.prepare(1, "a-one");
    writeFileSync(join(a.path, "README.md"), "# the agent's edit\n");
    writeFileSync(join(a.path, "new.txt"), "new\n");
    committed(await ws.commit(1, "a-one", "work"));
    await ws.remove(1, "a-one");

    expect({
      status: sh(repo, "status", "--porcelain", "--untracked-files=all"),
      head: sh(repo, "rev-parse", "HEAD"),
      symbolic: sh(repo, "symbolic-ref", "HEAD"),
      index: sh(repo, "diff", "--cached"),
      readme: readFileSync(join(repo, "README.md"), "utf8"),
    }).toEqual(before);
    expect(sh(repo, "show", `${BRANCH}:README.md`)).toBe("# the agent's edit");
  });

  it("replaces a worktree folder left behind by a crash", async () => {
    const repo = makeRepo();
    const ws = gitWorktrees(repo);
    // A registered worktree with leftovers, as a killed process leaves it.
    const first = await ws.prepare(1, "a-crashed");
    writeFileSync(join(first.path, "half-done.txt"), "partial\n");
    const again = await ws.prepare(1, "a-crashed");
    expect(again.path).toBe(first.path);
    expect(existsSync(join(again.path, "half-done.txt"))).toBe(false);
    expect(sh(again.path, "status", "--porcelain")).toBe("");
    expect(worktreePaths(repo)).toHaveLength(2);

    // A plain folder at the path of an attempt never registered with git.
    const path = join(sh(repo, "rev-parse", "--path-format=absolute", "--git-common-dir"), "agent-router", "worktrees", worktreeName(1, "a-orphan"));
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, "junk.txt"), "junk\n");
    const orphan = await ws.prepare(1, "a-orphan");
    expect(orphan.path).toBe(path);
    expect(existsSync(join(path, "junk.txt"))).toBe(false);
    expect(sh(path, "rev-parse", "HEAD")).toBe(sh(repo, "rev-parse", "main"));
  });

  it("creates the task branch with the first commit, and reports a conflict when someone created it after prepare", async () => {
    const repo = makeRepo();
    const ws = gitWorktrees(repo);
    const a = await ws.prepare(1, "a-creates");
    expect(sh(repo, "branch", "--list", "agent-router/task-1")).toBe("");
    writeFileSync(join(a.path, "x.txt"), "x\n");
    const made = committed(await ws.commit(1, "a-creates", "creates"));
    expect(sh(repo, "rev-parse", BRANCH)).toBe(made);

    const b = await ws.prepare(2, "a-late");
    sh(repo, "branch", "agent-router/task-2", "main"); // created by another writer meanwhile, at the same commit
    writeFileSync(join(b.path, "y.txt"), "y\n");
    expect(await ws.commit(2, "a-late", "late")).toEqual({ conflict: true });
    expect(sh(repo, "rev-parse", "refs/heads/agent-router/task-2")).toBe(sh(repo, "rev-parse", "main"));
  });

  it("returns null when nothing changed, and starts a new task at `base`", async () => {
    const repo = makeRepo();
    const mainHead = sh(repo, "rev-parse", "main");
    writeFileSync(join(repo, "later.txt"), "later\n");
    sh(repo, "add", "later.txt");
    sh(repo, "commit", "-q", "-m", "later");
    const ws = gitWorktrees(repo, { base: mainHead });
    const a = await ws.prepare(1, "a-idle");
    expect(sh(a.path, "rev-parse", "HEAD")).toBe(mainHead);
    expect(await ws.commit(1, "a-idle", "nothing")).toBeNull();
    expect(sh(repo, "branch", "--list", "agent-router/task-1")).toBe("");
  });

  it("parents the router's commit on the start commit even when the agent committed or moved HEAD itself", async () => {
    const repo = makeRepo();
    const ws = gitWorktrees(repo);
    const a = await ws.prepare(1, "a-own-commit");
    const start = sh(a.path, "rev-parse", "HEAD");
    writeFileSync(join(a.path, "agent.txt"), "agent\n");
    sh(a.path, "add", "agent.txt");
    sh(a.path, "commit", "-q", "-m", "the agent's own commit");
    const made = committed(await ws.commit(1, "a-own-commit", "router"));
    expect(sh(repo, "rev-parse", `${made}^`)).toBe(start);
    expect(sh(repo, "show", `${made}:agent.txt`)).toBe("agent");
    expect(sh(repo, "log", "-1", "--format=%an", made)).toBe("agent-router");
  });

  it("commits again in the same attempt on top of its own first commit", async () => {
    const repo = makeRepo();
    const ws = gitWorktrees(repo);
    const a = await ws.prepare(1, "a-twice");
    writeFileSync(join(a.path, "one.txt"), "1\n");
    const first = committed(await ws.commit(1, "a-twice", "first"));
    expect(sh(a.path, "status", "--porcelain")).toBe("");
    writeFileSync(join(a.path, "two.txt"), "2\n");
    const second = committed(await ws.commit(1, "a-twice", "second"));
    expect(sh(repo, "rev-parse", `${second}^`)).toBe(first);
  });

  it("gives keys that share their first characters different worktrees", async () => {
    const repo = makeRepo();
    const ws = gitWorktrees(repo);
    const a = await ws.prepare(1, "review-a-1234-aaaa");
    const b = await ws.prepare(1, "review-a-1234-bbbb");
    expect(a.path).not.toBe(b.path);
    writeFileSync(join(b.path, "b.txt"), "b\n");
    await ws.prepare(1, "review-a-1234-aaaa");
    expect(existsSync(join(b.path, "b.txt"))).toBe(true);
  });

  it("runs no hook of the user's repository", async () => {
    const repo = makeRepo();
    const marker = join(repo, "..", `${repo.split("/").at(-1)}-hook-ran`);
    for (const hook of ["post-checkout", "pre-commit", "commit-msg", "post-commit", "reference-transaction"]) {
      const file = join(repo, ".git", "hooks", hook);
      writeFileSync(file, `#!/bin/sh\necho ${hook} >> "${marker}"\n`);
      chmodSync(file, 0o755);
    }
    const ws = gitWorktrees(repo);
    const a = await ws.prepare(1, "a-hooks");
    writeFileSync(join(a.path, "x.txt"), "x\n");
    committed(await ws.commit(1, "a-hooks", "no hooks"));
    expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
  });

  it("refuses to move the task branch while the user has it checked out", async () => {
    const repo = makeRepo();
    sh(repo, "branch", "agent-router/task-1");
    const ws = gitWorktrees(repo);
    const a = await ws.prepare(1, "a-blocked");
    sh(repo, "checkout", "-q", "agent-router/task-1");
    writeFileSync(join(a.path, "x.txt"), "x\n");
    const err: unknown = await ws.commit(1, "a-blocked", "blocked").catch((e: unknown) => e);
    expect(isRouterError(err, "E_GIT")).toBe(true);
    expect(sh(repo, "rev-parse", BRANCH)).toBe(sh(repo, "rev-parse", "main"));
    expect(sh(repo, "status", "--porcelain")).toBe("");
  });

  it("throws for a commit of an attempt that was never prepared or already removed", async () => {
    const repo = makeRepo();
    const ws = gitWorktrees(repo);
    await ws.prepare(1, "a-gone");
    await ws.remove(1, "a-gone");
    await expect(ws.commit(1, "a-gone", "late")).rejects.toThrow(/no worktree is prepared/);
  });

  it("a user branch named agent-router blocks the task branch: E_GIT with git's message and a fix, not a conflict", async () => {
    const repo = makeRepo();
    sh(repo, "branch", "agent-router");
    const ws = gitWorktrees(repo);
    const a = await ws.prepare(1, "a-first");
    writeFileSync(join(a.path, "one.txt"), "work\n");
    const err = await ws.commit(1, "a-first", "attempt 1").catch((e: unknown) => e);
    expect(isRouterError(err, "E_GIT")).toBe(true);
    expect((err as Error).message).toContain("'refs/heads/agent-router' exists; cannot create 'refs/heads/agent-router/task-1'");
    expect((err as { fix: string }).fix).toMatch(/Rename the branch `agent-router`/);
  });
});

describe("gitWorktrees with a remote (workers in fresh checkouts)", () => {
  const published = (r: Awaited<ReturnType<NonNullable<ReturnType<typeof gitWorktrees>["publish"]>>>): string => {
    if (!("pushed" in r)) throw new Error(`expected a push, got ${JSON.stringify(r)}`);
    return r.pushed;
  };

  it("pushes the task branch, and an attempt in another clone starts from what was pushed", async () => {
    const { bare, clones } = makeRemoteWithClones(2);
    const [one, two] = [gitWorktrees(clones[0]!, { remote: "origin" }), gitWorktrees(clones[1]!, { remote: "origin" })];
    expect("publish" in gitWorktrees(clones[0]!)).toBe(false); // the local CLI never pushes

    const a = await one.prepare(1, "a-1");
    writeFileSync(join(a.path, "one.txt"), "attempt 1\n");
    const first = committed(await one.commit(1, "a-1", "attempt 1"));
    expect(published(await one.publish!(1))).toBe(first);
    expect(sh(bare, "rev-parse", BRANCH)).toBe(first);

    const b = await two.prepare(1, "a-2"); // a fresh checkout: no local task branch until prepare
    expect(sh(b.path, "rev-parse", "HEAD")).toBe(first);
    writeFileSync(join(b.path, "two.txt"), "attempt 2\n");
    const second = committed(await two.commit(1, "a-2", "attempt 2"));
    expect(published(await two.publish!(1))).toBe(second);
    expect(sh(bare, "rev-parse", `${BRANCH}^`)).toBe(first);
  });

  it("a stale worker's push is a conflict, never a force; its next attempt starts from the remote's branch", async () => {
    const { bare, clones } = makeRemoteWithClones(2);
    const [stale, fresh] = [gitWorktrees(clones[0]!, { remote: "origin" }), gitWorktrees(clones[1]!, { remote: "origin" })];
    const s = await stale.prepare(1, "a-stale");
    const f = await fresh.prepare(1, "a-fresh");
    writeFileSync(join(f.path, "fresh.txt"), "fresh\n");
    committed(await fresh.commit(1, "a-fresh", "fresh"));
    const landed = published(await fresh.publish!(1));
    writeFileSync(join(s.path, "stale.txt"), "stale\n");
    committed(await stale.commit(1, "a-stale", "stale"));
    expect(await stale.publish!(1)).toEqual({ conflict: true });
    expect(sh(bare, "rev-parse", BRANCH)).toBe(landed);

    const next = await stale.prepare(1, "a-next");
    expect(sh(next.path, "rev-parse", "HEAD")).toBe(landed);
    expect(existsSync(join(next.path, "stale.txt"))).toBe(false);
  });

  it("a commit whose push failed is kept and pushed with the next attempt's", async () => {
    const { bare, clones } = makeRemoteWithClones(1);
    const ws = gitWorktrees(clones[0]!, { remote: "origin" });
    const a = await ws.prepare(1, "a-1");
    writeFileSync(join(a.path, "one.txt"), "one\n");
    const first = committed(await ws.commit(1, "a-1", "one"));
    sh(clones[0]!, "remote", "set-url", "origin", join(bare, "missing"));
    await expect(ws.publish!(1)).rejects.toSatisfy((e: unknown) => isRouterError(e) && e.code === "E_GIT" && /could not push/.test(e.message) && /git push origin/.test(e.fix ?? ""));
    sh(clones[0]!, "remote", "set-url", "origin", bare);
    const b = await ws.prepare(1, "a-2");
    expect(sh(b.path, "rev-parse", "HEAD")).toBe(first);
    writeFileSync(join(b.path, "two.txt"), "two\n");
    const second = committed(await ws.commit(1, "a-2", "two"));
    await ws.publish!(1);
    expect(sh(bare, "rev-parse", `${BRANCH}^`)).toBe(first);
    expect(sh(bare, "rev-parse", BRANCH)).toBe(second);
  });
});

describe("gitWorktrees: a read-only worker's branch travels as a bundle", () => {
  it("the worker bundles only what the remote lacks; the recorder imports it and pushes it", async () => {
    const { bare, clones } = makeRemoteWithClones(2);
    const [worker, recorder] = [gitWorktrees(clones[0]!, { remote: "origin" }), gitWorktrees(clones[1]!, { remote: "origin" })];
    // An earlier attempt already pushed the branch.
    const a = await worker.prepare(1, "a-1");
    writeFileSync(join(a.path, "one.txt"), "one\n");
    const first = committed(await worker.commit(1, "a-1", "one"));
    await worker.publish!(1);
    const b = await worker.prepare(1, "a-2");
    writeFileSync(join(b.path, "two.txt"), "two\n");
    const second = committed(await worker.commit(1, "a-2", "two"));
    const file = join(tempDir(), "branch.bundle");
    expect(await worker.exportBranch!(1, file)).toBe(second);
    // Only the new commit travels: the first is the bundle's prerequisite.
    expect(sh(clones[0]!, "bundle", "list-heads", file)).toBe(`${second} ${BRANCH}`);
    expect(sh(clones[0]!, "bundle", "verify", file)).toContain(first);

    expect(await recorder.importBranch!(1, file, second)).toEqual({ imported: second });
    await recorder.publish!(1);
    expect(sh(bare, "rev-parse", BRANCH)).toBe(second);
    expect(await gitWorktrees(clones[0]!, { remote: "origin" }).exportBranch!(2, join(tempDir(), "none.bundle"))).toBeNull();
  });

  it("an attempt that committed nothing on a branch the remote has hands nothing on (no empty bundle)", async () => {
    const { clones } = makeRemoteWithClones(1);
    const worker = gitWorktrees(clones[0]!, { remote: "origin" });
    const a = await worker.prepare(1, "a-1");
    writeFileSync(join(a.path, "one.txt"), "one\n");
    committed(await worker.commit(1, "a-1", "one"));
    await worker.publish!(1);
    const b = await worker.prepare(1, "a-2");
    writeFileSync(join(b.path, "one.txt"), "one\n"); // the same content: nothing to commit
    expect(await worker.commit(1, "a-2", "again")).toBeNull();
    const file = join(tempDir(), "branch.bundle");
    expect(await worker.exportBranch!(1, file)).toBeNull();
    expect(existsSync(file)).toBe(false);
  });

  it("a bundle whose head is not the reported one is refused; a branch that moved elsewhere meanwhile is a conflict", async () => {
    const { clones } = makeRemoteWithClones(3);
    const [worker, other, recorder] = clones.map((c) => gitWorktrees(c, { remote: "origin" }));
    const w = await worker!.prepare(1, "a-w");
    writeFileSync(join(w.path, "w.txt"), "w\n");
    const head = committed(await worker!.commit(1, "a-w", "w"));
    const file = join(tempDir(), "branch.bundle");
    await worker!.exportBranch!(1, file);
    await expect(recorder!.importBranch!(1, file, "0".repeat(40))).rejects.toSatisfy((e: unknown) => isRouterError(e) && /not the commit the worker reported/.test(e.message));

    const o = await other!.prepare(1, "a-o");
    writeFileSync(join(o.path, "o.txt"), "o\n");
    committed(await other!.commit(1, "a-o", "o"));
    await other!.publish!(1); // another attempt landed on the remote first
    expect(await recorder!.importBranch!(1, file, head)).toEqual({ conflict: true });
  });
});
