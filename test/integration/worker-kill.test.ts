// A worker that cannot be orphaned or doubled, on real processes: `serve` killed with SIGKILL while
// its agent runs leaves the agent behind (the checker sees it), and the next `serve` stops that
// agent's whole process group before it retries the task, so two agents never run for one task.
// SIGINT/SIGTERM stop agents and give claims back; a second signal kills them at once.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Task } from "../../src/core/ledger/task.ts";
import { CLI_ENV, ok } from "../support/cli.ts";
import { commandAgentRepo, removeTempDirs, tempDir } from "../support/git-repo.ts";
import { built } from "../support/processes.ts";

const AGENT = join(import.meta.dirname, "../fixtures/agents/tracked-agent.mjs");
const started: number[] = [];

afterEach(() => {
  // Whatever a failing test left running: the agents' groups and the workers.
  for (const pid of started.splice(0)) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
});
afterAll(removeTempDirs);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie has exited; only its parent has not collected it yet.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A repository whose only agent is the tracked agent. */
function trackedRepo(): { repo: string; track: string } {
  const tracked = `{ type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(AGENT)}], env: [TRACK_DIR, AGENT_SLEEP_MS, AGENT_STUBBORN] }`;
  return { repo: commandAgentRepo({ tracked }, "tracked", ["execution: { retryBaseSeconds: 1, retryCapSeconds: 1 }"]), track: tempDir() };
}

function startCli(repo: string, track: string, sleepMs: number, args: string[], env: Record<string, string> = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [built("cli"), ...args], { cwd: repo, env: { ...CLI_ENV, TRACK_DIR: track, AGENT_SLEEP_MS: String(sleepMs), ...env }, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child.pid!);
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return Object.assign(child, { output: () => out });
}

const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve({ code: child.exitCode, signal: child.signalCode }) : new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));

/** Each agent start in the trail: its pid and its grandchild's; DOUBLE lines count separately. */
function trail(track: string): { starts: { task: number; pid: number; child: number }[]; doubles: number } {
  const path = join(track, "log");
  const lines = existsSync(path) ? readFileSync(path, "utf8").trim().split("\n").filter(Boolean) : [];
  const starts = lines.filter((l) => l.startsWith("start ")).map((l) => {
    const [, task, pid, child] = l.split(" ");
    for (const p of [Number(pid), Number(child)]) started.push(p);
    return { task: Number(task), pid: Number(pid), child: Number(child) };
  });
  return { starts, doubles: lines.filter((l) => l.startsWith("DOUBLE")).length };
}

async function taskOf(repo: string, id: number): Promise<Task> {
  return JSON.parse((await ok(repo, "show", String(id), "--json")).stdout) as Task;
}

/** A second `serve --until-idle` after a killed one: it exits 0, stops the orphan's group first, and no agent ran twice at once. */
async function serveAgainReaping(repo: string, track: string, orphan: { pid: number; child: number }, env: Record<string, string> = {}): Promise<ReturnType<typeof startCli>> {
  const second = startCli(repo, track, 200, ["serve", "--until-idle"], env);
  const { code } = await exited(second);
  expect(code, second.output()).toBe(0);
  expect(second.output()).toContain(`stopped agent process group ${orphan.pid} of task 1, left running by a worker that died`);
  expect(alive(orphan.pid)).toBe(false);
  expect(alive(orphan.child)).toBe(false);
  const t = trail(track);
  expect(t.starts).toHaveLength(2);
  expect(t.doubles).toBe(0);
  return second;
}

describe("a worker that cannot be orphaned or doubled", () => {
  it("serve killed with SIGKILL leaves its agent; the next serve stops the agent's group before it retries the task", async () => {
    const { repo, track } = trackedRepo();
    await ok(repo, "add", "Long job");
    const first = startCli(repo, track, 60_000, ["serve", "--until-idle"]);
    await until("the first agent to start", () => trail(track).starts.length === 1);
    first.kill("SIGKILL");
    await exited(first);
    const [orphan] = trail(track).starts;

    // The checker can fail: with the worker gone and nothing cleaning up, the agent and its
    // grandchild live on, and a verb that does not run agents (list) leaves them alone.
    expect(alive(orphan!.pid)).toBe(true);
    expect(alive(orphan!.child)).toBe(true);
    const listed = await ok(repo, "list");
    expect(listed.stdout).toMatch(/task 1 is held by a worker \(attempt 1, tracked\) whose lease ends at /);
    expect(alive(orphan!.pid)).toBe(true);

    await serveAgainReaping(repo, track, orphan!);
    const t = trail(track);
    for (const s of t.starts) expect(alive(s.pid) || alive(s.child), `agent ${s.pid} survived`).toBe(false);
    const task = await taskOf(repo, 1);
    expect(task.status).toBe("done");
    expect(task.attempts.map((a) => a.outcome)).toEqual(["lease_expired", "success"]);
    expect(task.attempts[0]!.error).toBe("the worker stopped renewing its lease");
  });

  it("serve stops its agent on SIGTERM and gives the claim back; a second SIGINT kills at once", async () => {
    const { repo, track } = trackedRepo();
    await ok(repo, "add", "Polite stop");
    const worker = startCli(repo, track, 60_000, ["serve"]);
    await until("the agent to start", () => trail(track).starts.length === 1);
    worker.kill("SIGTERM");
    const { code } = await exited(worker);
    expect(code, worker.output()).toBe(0);
    const [agent] = trail(track).starts;
    expect(alive(agent!.pid)).toBe(false);
    expect(alive(agent!.child)).toBe(false);
    const task = await taskOf(repo, 1);
    expect(task.status).toBe("routed");
    expect(task.attempts.map((a) => a.outcome)).toEqual(["released"]);

    // A stubborn agent ignores SIGTERM, so the worker would wait out the kill grace: a second signal does not wait.
    const again = startCli(repo, track, 60_000, ["run", "1"], { AGENT_STUBBORN: "1" });
    await until("the second agent to start", () => trail(track).starts.length === 2);
    again.kill("SIGINT");
    await until("the first SIGINT to be seen", () => again.output().includes("stopping"));
    again.kill("SIGINT");
    const second = await exited(again);
    expect(second.code, again.output()).toBe(130);
    expect(again.output()).toContain("SIGINT again: agents killed");
    const agent2 = trail(track).starts[1]!;
    await until("the second agent to die", () => !alive(agent2.pid) && !alive(agent2.child), 5000);
    expect(trail(track).doubles).toBe(0);
  });

  it("serve killed with SIGKILL while a reviewer runs: the next serve stops the reviewer's group, takes the review claim back and reviews once more", async () => {
    const example = join(import.meta.dirname, "../../examples/example-agent.mjs");
    const tracked = `{ type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(AGENT)}], env: [TRACK_DIR, AGENT_SLEEP_MS, AGENT_APPROVE] }`;
    const repo = commandAgentRepo({ example: `{ type: command, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(example)}] }`, tracked }, "example");
    mkdirSync(join(repo, ".github/agent-router/profiles"), { recursive: true });
    writeFileSync(join(repo, ".github/agent-router/profiles/reviewed.yml"), "name: reviewed\ndescription: work that needs a review\nrole: r\ninstructions: i\nreview: { required: true }\n");
    const track = tempDir();
    await ok(repo, "add", "Reviewed change", "--agent", "example", "--profile", "reviewed");
    const first = startCli(repo, track, 60_000, ["serve", "--until-idle"], { AGENT_APPROVE: "1" });
    await until("the reviewer to start", () => trail(track).starts.length === 1);
    first.kill("SIGKILL");
    await exited(first);
    const [orphan] = trail(track).starts;
    expect(alive(orphan!.pid)).toBe(true);
    const held = await taskOf(repo, 1);
    expect(held.status).toBe("in_review");
    expect(held.reviewClaim?.key).toMatch(/^review-1-/);

    const second = await serveAgainReaping(repo, track, orphan!, { AGENT_APPROVE: "1" });
    const task = await taskOf(repo, 1);
    expect(task.status, second.output()).toBe("done");
    expect(task.reviewClaim).toBeUndefined();
    expect(task.attempts).toHaveLength(1); // the author's work was not redone, only the review
    expect(task.history.filter((h) => h.type === "review").map((h) => (h.data as { decision?: string }).decision)).toEqual(["approve"]);
  });
});
