// Parallelism check: a planner delegates 8 children that each take 2 s; with parallelism 8 they
// should all finish within 3 s of wall time. Runs the built CLI (`serve --until-idle`) in a
// throwaway repository with the example command agent, and reads the timing from the ledger.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

interface Attempt {
  startedAt: string;
  endedAt?: string;
}
interface Task {
  id: number;
  parentId?: number;
  status: string;
  attempts: Attempt[];
}

export function parallelRun(children: number, delayMs: number, parallelism: number): { wallMs: number; slowestChildMs: number; allDone: boolean } {
  const dir = mkdtempSync(join(tmpdir(), "ar-bench-par-"));
  const build = join(dir, "build");
  execFileSync(process.execPath, ["scripts/build.mjs", build], { stdio: "ignore" });
  const repo = join(dir, "repo");
  const env = { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@example.invalid", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@example.invalid", EXAMPLE_AGENT_DELAY_MS: String(delayMs), EXAMPLE_AGENT_CHILDREN: String(children) };
  const git = (...args: string[]): string => execFileSync("git", args, { cwd: repo, env, encoding: "utf8" });
  const cli = (...args: string[]): string => execFileSync(process.execPath, [join(build, "cli.js"), ...args], { cwd: repo, env, encoding: "utf8" });
  mkdirSync(join(repo, ".github"), { recursive: true });
  git("init", "-q", "-b", "main");
  const agent = `{ type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(resolve("examples/example-agent.mjs"))}], env: [EXAMPLE_AGENT_DELAY_MS, EXAMPLE_AGENT_CHILDREN] }`;
  writeFileSync(join(repo, ".github/agent-router.yml"), ["agents:", "  claude: { enabled: false }", "  codex: { enabled: false }", "  opencode: { enabled: false }", `  example: ${agent}`, "router:", "  fallback: { agent: example, profile: feature }", `delegation: { maxChildren: ${Math.max(8, children)} }`, ""].join("\n"));
  git("add", ".");
  git("commit", "-q", "-m", "init");
  cli("add", "Parallel work", "--profile", "planner", "--agent", "example");
  cli("serve", "--until-idle", "-j", String(parallelism));
  const tasks = JSON.parse(cli("list", "--json")) as Task[];
  rmSync(dir, { recursive: true, force: true });
  const kids = tasks.filter((t) => t.parentId !== undefined);
  const starts = kids.map((t) => Date.parse(t.attempts[0]!.startedAt));
  const ends = kids.map((t) => Date.parse(t.attempts[0]!.endedAt ?? "0"));
  return { wallMs: Math.max(...ends) - Math.min(...starts), slowestChildMs: Math.max(...kids.map((_, i) => ends[i]! - starts[i]!)), allDone: tasks.every((t) => t.status === "done") };
}
