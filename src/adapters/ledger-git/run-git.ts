import { spawn } from "node:child_process";
import { RouterError } from "../../core/errors.ts";

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The identity of ledger commits: the router's, never the user's. */
const IDENTITY = {
  GIT_AUTHOR_NAME: "agent-router",
  GIT_AUTHOR_EMAIL: "agent-router@users.noreply.github.com",
  GIT_COMMITTER_NAME: "agent-router",
  GIT_COMMITTER_EMAIL: "agent-router@users.noreply.github.com",
};

/** Runs git without a shell, prompts or pager; stdin is `input` or closed. Never throws on exit code. */
export function runGit(cwd: string, args: readonly string[], input?: string): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      cwd,
      env: { ...process.env, ...IDENTITY, GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", LC_ALL: "C" },
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e) => reject(new RouterError("E_GIT", `could not run git: ${e.message}`, { args }, { cause: e, fix: "Install git and make sure it is on PATH." })));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
    if (input !== undefined && child.stdin) {
      child.stdin.on("error", () => undefined);
      child.stdin.end(input);
    }
  });
}

/** Runs git and returns trimmed stdout, or throws E_GIT with git's own message. */
export async function git(cwd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await runGit(cwd, args, input);
  if (r.code !== 0) {
    throw new RouterError("E_GIT", `git ${args[0] ?? ""} failed: ${r.stderr.trim() || `exit ${r.code}`}`, { args, exitCode: r.code, stderr: r.stderr });
  }
  return r.stdout.trimEnd();
}
