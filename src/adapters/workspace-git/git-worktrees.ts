import { createHash } from "node:crypto";
import { mkdir, readFile, realpath, rename, rm, writeFile } from "node:fs/promises";
import { join, sep } from "node:path";
import { RouterError } from "../../core/errors.ts";
import type { Workspaces } from "../../core/ports.ts";
import { git, runGit, updateRefError } from "../ledger-git/run-git.ts";

/**
 * Where an attempt's worktree started: `start` is the commit it was made at and the parent of the
 * router's commit; `old` is what the task branch must still hold for that commit to land (the
 * all-zero id when the branch did not exist, so that it is created only if still absent). Kept in
 * `<worktree>.start` beside the worktree, so it survives a restart and goes with `remove`.
 */
interface StartRecord {
  start: string;
  old: string;
}

/** `task-ID-<first 12 safe chars of the key>-<8 hex of its hash>`: short, and distinct keys never share a folder. */
export function worktreeName(taskId: number, key: string): string {
  const safe = key.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 12);
  return `task-${taskId}-${safe}-${createHash("sha256").update(key).digest("hex").slice(0, 8)}`;
}

/** The router's git writes run none of the repository's hooks (post-checkout, reference-transaction, …). */
const NO_HOOKS = ["-c", "core.hooksPath=/dev/null"] as const;

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";

async function removeIfPresent(path: string, recursive: boolean): Promise<void> {
  try {
    await rm(path, { recursive });
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

async function realOr(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

/**
 * One worktree per attempt (or review) under `<git common dir>/agent-router/worktrees/`, outside the
 * user's working tree, detached at the head of `agent-router/task-ID` (or at `base`, default the
 * repository's HEAD, before that branch exists). The router commits an attempt's changes with hooks
 * off and its own identity, on top of the commit the worktree started at, and moves the task branch
 * there only by compare-and-swap: a stale attempt gets a conflict, never another attempt's work.
 * The user's working tree, index and HEAD are never touched.
 */
export interface GitWorktreesOptions {
  /** Where a new task branch starts (default the repository's HEAD). */
  base?: string;
  /**
   * The remote GitHub reads (e.g. `origin`): each attempt starts from the task branch as it is
   * there, and `publish` pushes the branch to it. Absent for the local CLI, which never pushes.
   */
  remote?: string;
  /**
   * Extra environment for git commands that reach the remote (credentials as GIT_CONFIG_* entries,
   * never in argv or .git/config); a function is asked before each such command (a token that expires).
   */
  remoteEnv?: Readonly<Record<string, string>> | (() => Promise<Readonly<Record<string, string>>>);
}

export function gitWorktrees(root: string, opts: GitWorktreesOptions = {}): Workspaces {
  const remoteEnv = async (): Promise<Readonly<Record<string, string>> | undefined> => (typeof opts.remoteEnv === "function" ? opts.remoteEnv() : opts.remoteEnv);
  const branchOf = (taskId: number): string => `agent-router/task-${taskId}`;
  const worktreesDir = async (): Promise<string> => join(await git(root, ["rev-parse", "--path-format=absolute", "--git-common-dir"]), "agent-router", "worktrees");
  const pathOf = async (taskId: number, key: string): Promise<string> => join(await worktreesDir(), worktreeName(taskId, key));
  const recordOf = (path: string): string => `${path}.start`;
  // `git worktree add` and `prune` read every worktree's admin folder; run concurrently (parallel
  // attempts) one reads another's half-made folder ("failed to read …/commondir"). One at a time
  // in this process, and one retry for a writer in another process.
  let queue: Promise<unknown> = Promise.resolve();
  const worktreeCommand = (args: string[]): Promise<string> => {
    const run = async (): Promise<string> => {
      const first = await runGit(root, args);
      if (first.code === 0) return first.stdout.trim();
      if (!/failed to read .*worktrees/.test(first.stderr)) throw new RouterError("E_GIT", `git ${args.join(" ")} failed: ${first.stderr.trim()}`, { args, stderr: first.stderr });
      await new Promise((r) => setTimeout(r, 100));
      return git(root, args);
    };
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };

  async function readRecord(path: string, taskId: number, key: string): Promise<StartRecord> {
    let text: string;
    try {
      text = await readFile(recordOf(path), "utf8");
    } catch (err) {
      if (!isMissing(err)) throw err;
      throw new RouterError("E_GIT", `no worktree is prepared for task ${taskId}, attempt ${key}`, { taskId, key, path }, { fix: "This is a bug in agent-router (commit without prepare, or after remove); please report it." });
    }
    const rec = JSON.parse(text) as Partial<StartRecord>;
    if (typeof rec.start !== "string" || typeof rec.old !== "string") throw new RouterError("E_GIT", `the start record ${recordOf(path)} is damaged`, { taskId, key, path });
    return { start: rec.start, old: rec.old };
  }

  async function writeRecord(path: string, rec: StartRecord): Promise<void> {
    const tmp = `${recordOf(path)}.tmp`;
    await writeFile(tmp, `${JSON.stringify(rec)}\n`);
    await rename(tmp, recordOf(path));
  }

  async function removeWorktree(path: string): Promise<void> {
    await removeIfPresent(path, true);
    await removeIfPresent(recordOf(path), false);
    await removeIfPresent(`${recordOf(path)}.tmp`, false);
    await worktreeCommand(["worktree", "prune"]);
  }

  /** The branch checked out in a worktree that is not the router's (the user's own): moving it would change that tree. */
  async function refuseCheckedOutElsewhere(taskId: number): Promise<void> {
    const ours = (await realOr(await worktreesDir())) + sep;
    const listing = await git(root, ["worktree", "list", "--porcelain"]);
    for (const block of listing.split(/\n\n+/)) {
      const lines = block.split("\n");
      if (!lines.includes(`branch refs/heads/${branchOf(taskId)}`)) continue;
      const where = lines.find((l) => l.startsWith("worktree "))?.slice("worktree ".length) ?? "";
      if ((await realOr(where)).startsWith(ours)) continue; // a router worktree (an older layout kept the branch checked out)
      throw new RouterError("E_GIT", `the task branch ${branchOf(taskId)} is checked out in ${where}; moving it would change that working tree`, { taskId, worktree: where }, {
        fix: `Check out another branch in ${where} (the router moves ${branchOf(taskId)} itself), then run the task again.`,
      });
    }
  }

  const rev = async (ref: string): Promise<string | null> => {
    const r = await runGit(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    return r.code === 0 ? r.stdout.trim() : null;
  };
  const isAncestor = async (a: string, b: string): Promise<boolean> => (await runGit(root, ["merge-base", "--is-ancestor", a, b])).code === 0;

  /**
   * Brings the local task branch level with the remote's, where the attempt must start (a worker in
   * a fresh checkout has no local branch; an earlier attempt may have run on another machine). The
   * remote wins when the two differ, except when the local one is ahead (a commit whose push failed
   * is pushed with the next). Fetched into a private ref.
   */
  async function followRemote(taskId: number, remote: string): Promise<void> {
    const branch = branchOf(taskId);
    const mirror = `refs/agent-router/remotes/${branch}`;
    // The mirror is dropped first, so the fetch needs no forced refspec whatever the remote holds.
    await runGit(root, ["update-ref", "-d", mirror]);
    const fetched = await runGit(root, [...NO_HOOKS, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, `refs/heads/${branch}:${mirror}`], undefined, await remoteEnv());
    if (fetched.code !== 0) {
      if (/couldn't find remote ref/i.test(fetched.stderr)) return; // the first attempt: nothing pushed yet
      throw new RouterError("E_GIT", `could not fetch ${branch} from ${remote}: ${fetched.stderr.trim()}`, { taskId, remote, stderr: fetched.stderr }, { fix: `Check that \`git fetch ${remote}\` works here (network, credentials), then retry the task.` });
    }
    const there = await rev(mirror);
    const here = await rev(`refs/heads/${branch}`);
    if (there === null || here === there) return;
    if (here !== null && (await isAncestor(there, here))) return;
    const moved = await runGit(root, [...NO_HOOKS, "update-ref", "-m", `agent-router: task ${taskId} follows ${remote}`, `refs/heads/${branch}`, there, here ?? "0".repeat(there.length)]);
    if (moved.code !== 0) throw updateRefError(`refs/heads/${branch}`, moved.stderr, { taskId });
  }

  return {
    async prepare(taskId, key) {
      const branch = branchOf(taskId);
      const path = await pathOf(taskId, key);
      if (opts.remote) await followRemote(taskId, opts.remote);
      await removeWorktree(path); // a crash may have left this attempt's folder behind
      await mkdir(join(path, ".."), { recursive: true });
      const head = await runGit(root, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]);
      let rec: StartRecord;
      if (head.code === 0) {
        const start = head.stdout.trim();
        rec = { start, old: start };
      } else {
        const start = await git(root, ["rev-parse", "--verify", `${opts.base ?? "HEAD"}^{commit}`]);
        rec = { start, old: "0".repeat(start.length) };
      }
      await worktreeCommand([...NO_HOOKS, "worktree", "add", "--quiet", "--detach", path, rec.start]);
      await writeRecord(path, rec);
      return { path, branch };
    },

    async commit(taskId, key, message) {
      const path = await pathOf(taskId, key);
      const rec = await readRecord(path, taskId, key);
      await git(path, ["add", "--all"]);
      // The tree of everything in the worktree, on top of the commit it started at: whatever the
      // agent did to the worktree's HEAD (its own commits, a checkout) cannot move the parent.
      const tree = await git(path, ["write-tree"]);
      if (tree === (await git(path, ["rev-parse", "--verify", `${rec.start}^{tree}`]))) return null;
      await refuseCheckedOutElsewhere(taskId);
      const commit = await git(path, [...NO_HOOKS, "-c", "commit.gpgsign=false", "commit-tree", tree, "-p", rec.start, "-m", message]);
      const ref = `refs/heads/${branchOf(taskId)}`;
      const moved = await runGit(root, [...NO_HOOKS, "update-ref", "-m", `agent-router: task ${taskId}, attempt ${key}`, ref, commit, rec.old]);
      if (moved.code !== 0) {
        const now = await runGit(root, ["rev-parse", "--verify", "--quiet", ref]);
        const current = now.code === 0 ? now.stdout.trim() : "0".repeat(rec.old.length);
        // A lost race shows as a branch that moved; anything else (a lock, a branch `agent-router`
        // blocking `agent-router/task-N`) fails now with git's message, since retrying cannot help.
        if (current !== rec.old) return { conflict: true };
        throw updateRefError(ref, moved.stderr, { taskId, exitCode: moved.code });
      }
      await writeRecord(path, { start: commit, old: commit });
      // Keep the worktree's own HEAD in step, so a later commit of this attempt and `git status`
      // there see the work as committed. The branch has moved already; this is cosmetic.
      const wtHead = await runGit(path, ["rev-parse", "--verify", "--quiet", "HEAD"]);
      if (wtHead.code === 0) await runGit(path, [...NO_HOOKS, "update-ref", "--no-deref", "HEAD", commit, wtHead.stdout.trim()]);
      return { commit };
    },

    async remove(taskId, key) {
      await removeWorktree(await pathOf(taskId, key));
    },

    ...(opts.remote ? { publish: (taskId: number) => publish(taskId, opts.remote!) } : {}),

    async exportBranch(taskId, file) {
      const ref = `refs/heads/${branchOf(taskId)}`;
      const head = await rev(ref);
      if (head === null) return null;
      // Only what the remote lacks: every remote-tracking branch and the fetched task branch are the prerequisites.
      const known = ["--not", "--remotes", "--glob=refs/agent-router/remotes/*"];
      // An attempt that committed nothing on a branch the remote has leaves nothing to hand on (git refuses an empty bundle).
      const missing = await runGit(root, ["rev-list", "--count", ref, ...known]);
      if (missing.code === 0 && missing.stdout.trim() === "0") return null;
      const made = await runGit(root, ["bundle", "create", "--quiet", file, ref, ...known]);
      if (made.code !== 0) throw new RouterError("E_GIT", `could not bundle ${ref}: ${made.stderr.trim()}`, { taskId, stderr: made.stderr });
      return head;
    },

    async importBranch(taskId, file, head) {
      const branch = branchOf(taskId);
      if (opts.remote) await followRemote(taskId, opts.remote);
      const incoming = `refs/agent-router/incoming/${branch}`;
      await runGit(root, ["update-ref", "-d", incoming]);
      const fetched = await runGit(root, [...NO_HOOKS, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", file, `refs/heads/${branch}:${incoming}`]);
      if (fetched.code !== 0) throw new RouterError("E_GIT", `could not read the task branch from the bundle: ${fetched.stderr.trim()}`, { taskId, stderr: fetched.stderr });
      if ((await rev(incoming)) !== head) throw new RouterError("E_GIT", `the bundle's ${branch} is not the commit the worker reported`, { taskId, head });
      const here = await rev(`refs/heads/${branch}`);
      if (here === head) return { imported: head };
      if (here !== null && !(await isAncestor(here, head))) return { conflict: true };
      const moved = await runGit(root, [...NO_HOOKS, "update-ref", "-m", `agent-router: task ${taskId} from a worker's bundle`, `refs/heads/${branch}`, head, here ?? "0".repeat(head.length)]);
      if (moved.code !== 0) return { conflict: true };
      return { imported: head };
    },
  };

  /** `git push` of the task branch, without force and without the repository's pre-push hook. */
  async function publish(taskId: number, remote: string): Promise<{ pushed: string } | { conflict: true }> {
    const ref = `refs/heads/${branchOf(taskId)}`;
    const head = await rev(ref);
    if (head === null) throw new RouterError("E_GIT", `task ${taskId} has no branch to push`, { taskId }, { fix: "This is a bug in agent-router (publish before any commit); please report it." });
    const pushed = await runGit(root, [...NO_HOOKS, "push", "--porcelain", "--no-verify", remote, `${head}:${ref}`], undefined, await remoteEnv());
    if (pushed.code === 0) return { pushed: head };
    // "[rejected] … (fetch first)" / "(non-fast-forward)": the remote has work this branch lacks.
    if (/\[rejected\]|non-fast-forward|fetch first/.test(pushed.stdout + pushed.stderr)) return { conflict: true };
    throw new RouterError("E_GIT", `could not push ${ref} to ${remote}: ${pushed.stderr.trim()}`, { taskId, remote, stderr: pushed.stderr }, {
      fix: `Check that \`git push ${remote}\` works here (network, and a token with contents: write), then retry the task.`,
    });
  }
}
