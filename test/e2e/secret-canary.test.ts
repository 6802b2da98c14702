// The canary: secrets set in the router's environment and printed by an agent on stdout, stderr and
// in its handoff (summary, blockers, question, follow-ups, a failure's error text) appear zero times
// in what can be published or shown: the ledger branch and every commit (messages and contents, the
// task branch too), `show` and `list`, the router's logs, and the bundles later attempts are given.
// The agent's own run folder (local, under .git, never pushed) still has them: the check can fail.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI_ENV } from "../support/cli.ts";
import { commandAgentRepo, removeTempDirs, tempDir } from "../support/git-repo.ts";
import { built, runNode } from "../support/processes.ts";

afterAll(removeTempDirs);

const AGENT = join(import.meta.dirname, "../fixtures/agents/canary-agent.mjs");

/** Secrets of three kinds: a token shape, a value only the environment knows, a password. */
const SECRETS = {
  GITHUB_TOKEN: `ghp_${"C4n4ry".repeat(6)}`,
  CANARY_API_KEY: "canary-0e1f7a9d-not-shaped-like-any-token",
  MY_DB_PASSWORD: "pw-canary-31337-zz",
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe("secret canary", () => {
  it("secrets an agent prints reach no ledger, commit, show, log or bundle", async () => {
    const names = Object.keys(SECRETS);
    const canary = `{ type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(AGENT)}], env: [TRACK_DIR, CANARY_NAMES, ${names.join(", ")}] }`;
    const repo = commandAgentRepo({ canary }, "canary", ["execution: { retryBaseSeconds: 1, retryCapSeconds: 1 }"]);
    const track = tempDir();
    const env = { ...CLI_ENV, ...SECRETS, TRACK_DIR: track, CANARY_NAMES: names.join(","), AGENT_ROUTER_LOG: "debug" };
    const run = (...args: string[]) => runNode(built("cli"), args, { cwd: repo, env });

    const added = await run("add", "Leaky task", "--body", "do the thing");
    expect(added.code, added.stderr).toBe(0);
    // Attempt 1 fails (garbage, exit 3) and is retried; attempt 2 asks a question.
    const served = await run("serve", "--until-idle");
    expect(served.code, served.stderr).toBe(0);
    const asked = await run("show", "1");
    expect(asked.stdout).toMatch(/needs_help/);
    // A person retries; attempt 3 gives up with a failed handoff.
    const retried = await run("retry", "1");
    expect(retried.code, retried.stderr).toBe(0);
    const servedAgain = await run("serve", "--until-idle");
    expect(servedAgain.code, servedAgain.stderr).toBe(0);
    const shown = await run("show", "1");
    const listed = await run("list");
    expect(shown.stdout, shown.stdout + retried.stdout + servedAgain.stdout + servedAgain.stderr).toMatch(/status: +failed/);

    // The agent did leak: three attempts, every secret printed each time.
    const leaked = readFileSync(join(track, "leaked"), "utf8");
    for (const value of Object.values(SECRETS)) expect(count(leaked, value)).toBe(3);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8", maxBuffer: 64 << 20 });
    // Every commit on every branch, message and patch (the ledger branch, the task branch).
    const history = git("log", "--all", "-p", "--format=%H%n%B");
    expect(history).toContain("Leaky task");
    expect(history).toContain("notes without secrets");
    const runs = join(repo, ".git/agent-router/runs");
    const bundles = filesUnder(runs).filter((f) => f.endsWith("bundle.md")).map((f) => readFileSync(f, "utf8"));
    expect(bundles.length).toBeGreaterThanOrEqual(2);
    // A later bundle shows the earlier attempts (redacted), so it is a real place a secret could reach.
    expect(bundles.some((b) => b.includes("[redacted]"))).toBe(true);
    const raw = filesUnder(runs).filter((f) => !f.endsWith("bundle.md")).map((f) => readFileSync(f, "utf8")).join("\n");

    const places: Record<string, string> = {
      "ledger and commits": history,
      show: asked.stdout + asked.stderr + shown.stdout + shown.stderr,
      list: listed.stdout + listed.stderr,
      logs: [added, served, retried, servedAgain].map((r) => r.stdout + r.stderr).join("\n"),
      bundles: bundles.join("\n"),
    };
    const counts = Object.fromEntries(Object.entries(SECRETS).map(([name, value]) => [name, Object.fromEntries(Object.entries(places).map(([place, text]) => [place, count(text, value)]))]));
    console.log(`canary counts (secret → place → occurrences): ${JSON.stringify(counts)}`);
    for (const [name, byPlace] of Object.entries(counts)) for (const [place, n] of Object.entries(byPlace)) expect(n, `${name} in ${place}`).toBe(0);
    // The logs are not empty (debug level), and the redaction is visible where the text was kept.
    expect(served.stderr.length).toBeGreaterThan(0);
    expect(history).toContain("[redacted]");
    // The local, unpublished run folder keeps the agent's raw output: the checker sees secrets where they are.
    expect(Object.values(SECRETS).some((value) => raw.includes(value))).toBe(true);
  });
});
