import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Workspaces } from "../../core/ports.ts";
import { git, runGit } from "../ledger-git/run-git.ts";

/**
 * Worktrees under `<git dir>/agent-router/worktrees/task-ID`, outside the user's working tree. A
 * new task branches from `base` (default: the repository's HEAD when the worktree is first made).
 * Commits run with hooks disabled and the router's identity; the agent never commits.
 */
export function gitWorktrees(root: string, opts: { base?: string } = {}): Workspaces {
  const dirs = async (): Promise<string> => join(await git(root, ["rev-parse", "--path-format=absolute", "--git-common-dir"]), "agent-router", "worktrees");
  return {
    async prepare(taskId) {
      const branch = `agent-router/task-${taskId}`;
      const path = join(await dirs(), `task-${taskId}`);
      if (existsSync(join(path, ".git"))) return { path, branch };
      await mkdir(join(path, ".."), { recursive: true });
      await runGit(root, ["worktree", "prune"]);
      const exists = (await runGit(root, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`])).code === 0;
      if (exists) await git(root, ["worktree", "add", "--quiet", path, branch]);
      else await git(root, ["worktree", "add", "--quiet", "-b", branch, path, opts.base ?? "HEAD"]);
      return { path, branch };
    },
    async commit(taskId, message) {
      const path = join(await dirs(), `task-${taskId}`);
      await git(path, ["add", "--all"]);
      const staged = await runGit(path, ["diff", "--cached", "--quiet"]);
      if (staged.code === 0) return null;
      await git(path, ["-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", message]);
      return git(path, ["rev-parse", "HEAD"]);
    },
    async discard(taskId) {
      const path = join(await dirs(), `task-${taskId}`);
      await git(path, ["reset", "--quiet", "--hard"]);
      await git(path, ["clean", "-fdq"]);
    },
  };
}
