// run, serve, retry, approve, cancel and --dry-run through the bundled CLI, with the example
// command agent (examples/example-agent.mjs) doing the work in real git worktrees.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Task } from "../../src/core/ledger/task.ts";
import { makeRepo, removeTempDirs } from "../support/git-repo.ts";
import { cli, CLI_ENV, ok } from "../support/cli.ts";

afterAll(removeTempDirs);

const EXAMPLE = join(import.meta.dirname, "../../examples/example-agent.mjs");
const FAILING = join(import.meta.dirname, "../fixtures/agents/failing-agent.mjs");
const ENV = CLI_ENV;
async function tasks(repo: string): Promise<Task[]> {
  return JSON.parse((await ok(repo, "list", "--json")).stdout) as Task[];
}
const gitOut = (repo: string, ...args: string[]): string => execFileSync("git", args, { cwd: repo, encoding: "utf8", env: ENV }).trim();

/** A repository whose only enabled agent is the example command agent (plus `flaky`, which always fails). */
function exampleRepo(extraAgents = ""): string {
  const repo = makeRepo();
  mkdirSync(join(repo, ".github"), { recursive: true });
  writeFileSync(
    join(repo, ".github/agent-router.yml"),
    [
      "agents:",
      "  claude: { enabled: false }",
      "  codex: { enabled: false }",
      "  opencode: { enabled: false }",
      `  example: { type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(EXAMPLE)}] }`,
      `  flaky: { type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FAILING)}, "Error: 429 Too Many Requests"], failover: [example] }`,
      extraAgents,
      "router:",
      "  fallback: { agent: example, profile: feature }",
      "execution: { retryBaseSeconds: 1, retryCapSeconds: 1 }",
      "",
    ].join("\n"),
  );
  execFileSync("git", ["add", "."], { cwd: repo, env: ENV });
  execFileSync("git", ["commit", "-qm", "config"], { cwd: repo, env: ENV });
  return repo;
}

describe("run", () => {
  it("runs a routed task in its own worktree, commits the agent's change to agent-router/task-ID, records the attempt", async () => {
    const repo = exampleRepo();
    await ok(repo, "add", "Write the release notes");
    await ok(repo, "route", "1");
    const r = await ok(repo, "run", "1");
    expect(r.stdout).toMatch(/^task 1 attempt 1: done \(done\); 0 in \/ 0 out tokens, [\d.]+ s, changed notes\/task-1\.md\n$/);
    const [task] = await tasks(repo);
    expect(task).toMatchObject({ status: "done", result: { status: "done", summary: 'Wrote notes/task-1.md for "Write the release notes".' } });
    expect(task?.attempts).toHaveLength(1);
    expect(task?.attempts[0]).toMatchObject({ n: 1, agent: "example", outcome: "success" });
    expect(gitOut(repo, "show", "agent-router/task-1:notes/task-1.md")).toContain("# Write the release notes");
    expect(gitOut(repo, "log", "-1", "--format=%an%n%s", "agent-router/task-1")).toBe("agent-router\nagent-router: task 1, attempt by example");
    expect(gitOut(repo, "status", "--porcelain")).toBe(""); // the user's working tree is untouched
  });

  it("--dry-run prints the command, the environment's names and the bundle path, and changes nothing", async () => {
    const repo = exampleRepo();
    await ok(repo, "add", "Write the release notes");
    await ok(repo, "route", "1");
    const before = gitOut(repo, "rev-parse", "agent-router/ledger");
    const r = await ok(repo, "run", "1", "--dry-run");
    expect(r.stdout).toContain(`task 1 would run example in (a new worktree for attempt 1 of task 1)\n  command: ${process.execPath} ${EXAMPLE}\n`);
    expect(r.stdout).toContain("plan (nothing was written, run or asked: --dry-run):\n  - task 1 attempt 1 claimed for example\n  - would run attempt 1 of task 1");
    expect(r.stdout).toMatch(/ {2}environment: AGENT_ROUTER_BUNDLE, AGENT_ROUTER_OUTPUT, AGENT_ROUTER_TASK_ID, HOME, LANG, NO_COLOR, PATH, TERM\n/);
    expect(r.stdout).toMatch(/ {2}bundle: .*agent-router\/runs\/task-1-[0-9a-f]{20}\/bundle\.md \(on stdin\)\n/);
    expect(gitOut(repo, "rev-parse", "agent-router/ledger")).toBe(before);
    expect(gitOut(repo, "branch", "--list", "agent-router/task-*")).toBe("");
  });

  it("a rate-limited agent fails over to the next agent, which finishes the task", async () => {
    const repo = exampleRepo();
    await ok(repo, "add", "Fix the thing", "--agent", "flaky", "--profile", "bugfix");
    await ok(repo, "route", "1");
    const first = await ok(repo, "run", "1");
    expect(first.stdout).toMatch(/^task 1 attempt 1: retrying \(rate_limit: Error: 429 Too Many Requests; next: example\)/);
    const second = await ok(repo, "run", "1");
    expect(second.stdout).toMatch(/^task 1 attempt 2: done/);
    const [task] = await tasks(repo);
    expect(task?.attempts.map((a) => [a.agent, a.outcome, a.errorClass ?? ""])).toEqual([["flaky", "failure", "rate_limit"], ["example", "success", ""]]);
  });

  it("approve, cancel and retry move the task through the state machine", async () => {
    const repo = exampleRepo();
    await ok(repo, "add", "Refactor the parser");
    await ok(repo, "add", "Second");
    await ok(repo, "route", "1");
    const head = gitOut(repo, "rev-parse", "agent-router/ledger");
    expect((await ok(repo, "cancel", "1", "--dry-run")).stdout).toBe("task 1: cancel would move it from routed to cancelled; nothing was written (--dry-run)\nplan (nothing was written, run or asked: --dry-run):\n  - task 1 cancelled\n");
    expect((await ok(repo, "serve", "--dry-run")).stdout).toMatch(/^task 1 would run example in \(a new worktree for attempt 1 of task 1\)\n {2}command: /);
    expect(gitOut(repo, "rev-parse", "agent-router/ledger")).toBe(head);
    await ok(repo, "cancel", "1", "--reason", "not now");
    expect((await tasks(repo))[0]?.status).toBe("cancelled");
    expect((await ok(repo, "retry", "1")).stdout).toBe("task 1 reopened\n");
    expect((await tasks(repo))[0]?.status).toBe("routed");
    const bad = await cli(repo, "approve", "2");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('cannot apply "approve" in status "new"');
  });
});

describe("serve", () => {
  it("a planner delegates three children, they run in parallel, the parent resumes with their results and finishes", async () => {
    const repo = exampleRepo();
    await ok(repo, "add", "Ship dark mode", "--agent", "example", "--profile", "planner");
    const r = await ok(repo, "serve", "--until-idle", "-j", "3");
    const all = await tasks(repo);
    const errors = all.flatMap((t) => t.attempts.filter((a) => a.error).map((a) => `#${t.id}: ${a.errorClass}: ${a.error}`));
    expect(errors, r.stdout).toEqual([]);
    expect(all.map((t) => [t.id, t.status, t.parentId ?? null, t.route?.profile])).toEqual([
      [1, "done", null, "planner"],
      [2, "done", 1, "docs"],
      [3, "done", 1, "tests"],
      [4, "done", 1, "feature"],
    ]);
    const parent = all[0]!;
    expect(parent.children).toEqual([2, 3, 4]);
    expect(parent.attempts).toHaveLength(2);
    expect(parent.result).toMatchObject({ status: "done", summary: 'All three parts of "Ship dark mode" are done; their results are in the bundle.' });
    expect(parent.history.map((h) => h.type)).toEqual(["created", "route", "start", "finish", "children_settled", "start", "finish"]);
    expect(r.stdout).toMatch(/routed #2, #3, #4/);
    expect(r.stdout).toMatch(/served 5 attempts\n$/);
    for (const id of [2, 3, 4]) expect(gitOut(repo, "show", `agent-router/task-${id}:notes/task-${id}.md`)).toContain("Written by the example agent");
  });
});

describe("review", () => {
  it("a profile that requires review sends the work to a different agent, whose approval finishes the task", async () => {
    const repo = exampleRepo(`  example2: { type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(EXAMPLE)}] }`);
    mkdirSync(join(repo, ".github/agent-router/profiles"), { recursive: true });
    writeFileSync(join(repo, ".github/agent-router/profiles/reviewed.yml"), "name: reviewed\ndescription: work that needs a review\nrole: r\ninstructions: i\nreview: { required: true, maxRounds: 1 }\n");
    await ok(repo, "add", "Change the parser", "--agent", "example", "--profile", "reviewed");
    const r = await ok(repo, "serve", "--until-idle");
    const [task] = await tasks(repo);
    expect(task?.status, r.stdout).toBe("done");
    expect(task?.history.map((h) => h.type)).toEqual(["created", "route", "start", "finish", "review"]);
    const review = task?.history.at(-1);
    expect(review).toMatchObject({ from: "in_review", to: "done", note: "Checked notes/task-1.md." });
    expect(review?.data).toMatchObject({ decision: "approve", reviewer: "example2" });
  });

  it("a review without a valid decision is never an approval: a person is asked", async () => {
    const garbage = join(import.meta.dirname, "../fixtures/agents/garbage-agent.mjs");
    const repo = exampleRepo(`  junk: { type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(garbage)}] }`);
    mkdirSync(join(repo, ".github/agent-router/profiles"), { recursive: true });
    writeFileSync(join(repo, ".github/agent-router/profiles/reviewed.yml"), "name: reviewed\ndescription: d\nrole: r\ninstructions: i\nreview: { required: true }\n");
    await ok(repo, "add", "Change the parser", "--agent", "example", "--profile", "reviewed");
    await ok(repo, "serve", "--until-idle");
    const [task] = await tasks(repo);
    expect(task?.status).toBe("needs_help");
    expect(task?.history.at(-1)?.note).toMatch(/^the review by (junk|flaky) (gave no valid decision|failed)/);
  });
});
