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
export function runGit(cwd: string, args: readonly string[], input?: string, env: Readonly<Record<string, string>> = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      cwd,
      env: { ...process.env, ...IDENTITY, GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", LC_ALL: "C", ...env },
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

/**
 * Whether a failed `update-ref REF NEW OLD` lost a race: git says REF is no longer at OLD ("is at X
 * but expected OLD"), exists although OLD said absent ("reference already exists"), or is gone
 * ("unable to resolve reference"). Every other "cannot lock ref" is not a race and retrying cannot
 * help, e.g. a branch `agent-router` makes `refs/heads/agent-router/ledger` impossible ("'refs/heads/
 * agent-router' exists; cannot create …").
 */
export function lostRefRace(stderr: string): boolean {
  return /but expected|reference already exists|unable to resolve reference/.test(stderr);
}

/** E_GIT for an `update-ref` that failed for another reason than a race, with git's own message. */
export function updateRefError(ref: string, stderr: string, details: Record<string, unknown>, otherName?: string): RouterError {
  const clash = /'(refs\/[^']+)' exists; cannot create '(refs\/[^']+)'/.exec(stderr);
  const short = (r: string): string => r.replace(/^refs\/heads\//, "");
  const fix = clash
    ? `The ref ${clash[1]} exists, so git cannot create ${clash[2]} (one ref name cannot be both a branch and a folder of branches). Rename the branch \`${short(clash[1]!)}\` (git branch -m ${short(clash[1]!)} NEW-NAME)${otherName ? `, or ${otherName}` : ""}.`
    : undefined;
  return new RouterError("E_GIT", `git update-ref ${ref} failed: ${stderr.trim() || "no message"}`, { ref, ...details, stderr }, fix ? { fix } : undefined);
}
