// --dry-run is enforced once, in reconcile: over the CLI's scenario suite (serve routing new tasks
// and claiming, run, next, retry, approve, cancel) a dry run writes no ledger commit, starts no agent
// and changes no worktree, branch or run folder, and its printed plan names what a real run does.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI_ENV, ok } from "../support/cli.ts";
import { commandAgentRepo, removeTempDirs, tempDir } from "../support/git-repo.ts";

afterAll(removeTempDirs);

const AGENT = join(import.meta.dirname, "../fixtures/agents/tracked-agent.mjs");
const gitOut = (repo: string, ...args: string[]): string => execFileSync("git", args, { cwd: repo, encoding: "utf8", env: CLI_ENV }).trim();

/** Everything a dry run must leave alone: ledger head, branches, worktrees, run folders, the agent's trail. */
function footprint(repo: string, track: string): string {
  const runs = join(repo, ".git/agent-router/runs");
  return JSON.stringify({
    ledger: gitOut(repo, "rev-parse", "agent-router/ledger"),
    branches: gitOut(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
    worktrees: gitOut(repo, "worktree", "list", "--porcelain"),
    runs: existsSync(runs) ? readdirSync(runs).sort() : [],
    agentStarts: readdirSync(track).sort(),
    status: gitOut(repo, "status", "--porcelain"),
  });
}

describe("--dry-run over the CLI scenario suite", () => {
  it("writes no commit, runs no agent and changes no worktree, while the plan lists what a real run would do", async () => {
    const tracked = `{ type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(AGENT)}], env: [TRACK_DIR, AGENT_SLEEP_MS] }`;
    const repo = commandAgentRepo({ tracked }, "tracked");
    const track = tempDir();
    // A profile that waits for approval, committed like the config.
    mkdirSync(join(repo, ".github/agent-router/profiles"), { recursive: true });
    writeFileSync(join(repo, ".github/agent-router/profiles/gated.yml"), "name: gated\ndescription: d\nrole: r\ninstructions: i\napproval: before_run\n");
    execFileSync("git", ["add", "."], { cwd: repo, env: CLI_ENV });
    execFileSync("git", ["commit", "-qm", "gated profile"], { cwd: repo, env: CLI_ENV });
    CLI_ENV["TRACK_DIR"] = track; // this file's CLI runs only
    CLI_ENV["AGENT_SLEEP_MS"] = "100";
    // 1 new, 2 routed, 3 gated and awaiting approval, 4 cancelled.
    for (const title of ["New one", "Routed one", "Gated one", "Cancelled one"]) await ok(repo, "add", title, ...(title === "Gated one" ? ["--profile", "gated"] : []));
    for (const id of ["2", "3", "4"]) await ok(repo, "route", id);
    await ok(repo, "cancel", "4");
    const before = footprint(repo, track);

    const serve = await ok(repo, "serve", "--dry-run", "-j", "4");
    expect(serve.stdout).toContain("task 1 routed to tracked/feature (fallback)");
    expect(serve.stdout).toContain("task 3: awaiting approval");
    expect(serve.stdout).toMatch(/task 2 would run tracked in \(a new worktree for attempt 1 of task 2\)/);
    expect(serve.stdout).toContain("would run attempt 1 of task 2");
    const run = await ok(repo, "run", "2", "--dry-run");
    expect(run.stdout).toContain("task 2 attempt 1 claimed for tracked");
    const next = await ok(repo, "next", "--dry-run");
    expect(next.stdout).toContain("would run attempt 1 of task 2");
    expect((await ok(repo, "retry", "4", "--dry-run")).stdout).toContain("task 4: retry would move it from cancelled to routed");
    expect((await ok(repo, "cancel", "2", "--dry-run")).stdout).toContain("task 2: cancel would move it from routed to cancelled");
    expect(footprint(repo, track)).toBe(before);

    // The same plan, carried out: serve does route task 1, gate task 3 and run the agent on 1 and 2.
    const real = await ok(repo, "serve", "--until-idle", "-j", "4");
    expect(real.stdout).toContain("served");
    expect(footprint(repo, track)).not.toBe(before);
    const tasks = JSON.parse((await ok(repo, "list", "--json")).stdout) as { id: number; status: string }[];
    expect(tasks.map((t) => [t.id, t.status])).toEqual([[1, "done"], [2, "done"], [3, "awaiting_approval"], [4, "cancelled"]]);
  });
});
