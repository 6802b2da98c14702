// The agent process registry with real processes: orphans of a dead worker are stopped (with the
// grandchildren an agent started), live workers' agents and reused pids are left alone, and the
// spawner and the CLI runner record each agent while it runs. Linux only (it needs /proc).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliAgentRunner } from "../../src/adapters/agent-cli/cli-agent-runner.ts";
import { processRegistry, type ProcessTracker } from "../../src/adapters/agent-cli/process-registry.ts";
import { spawnAgent } from "../../src/adapters/agent-cli/spawn-agent.ts";
import { MainConfig } from "../../src/core/config/main-config.ts";
import { Profile } from "../../src/core/config/profile.ts";
import { makeRepo, removeTempDirs, tempDir } from "../support/git-repo.ts";

const HAS_PROC = existsSync("/proc/self/stat");

// ---- the test's own view of processes, independent of the module under test ----

/** Live (non-zombie) members of a process group, read from /proc. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") out.push(Number(name));
  }
  return out;
}
const groupAlive = (pgid: number): boolean => groupMembers(pgid).length > 0;

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// ---- processes started by a test; every group is SIGKILLed after each test ----

const started: number[] = [];
/** Remembers a group to kill after the test; never 0 or 1 (kill(-0) is the test runner's own group). */
function cleanUpLater(pgid: number): void {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`not a process group to clean up: ${pgid}`);
  started.push(pgid);
}
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});
afterAll(removeTempDirs);

function track(child: ChildProcess): ChildProcess {
  if (child.pid === undefined) throw new Error("could not start a test process");
  cleanUpLater(child.pid);
  return child;
}

/** A worker stand-in: a live process in its own group. */
function startOwner(): ChildProcess {
  return track(spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" }));
}

async function killOwner(owner: ChildProcess): Promise<void> {
  const exited = once(owner, "exit"); // node has reaped it then: its pid is really gone
  owner.kill("SIGKILL");
  await exited;
}

/**
 * An agent: the leader of its own group with a grandchild (a subprocess the agent started), both
 * up when this resolves. With `stubborn` both ignore SIGTERM.
 */
async function startAgent(stubborn = false): Promise<{ pgid: number; grandchild: number; leader: ChildProcess }> {
  const ignore = stubborn ? "process.on('SIGTERM', () => {});" : "";
  const grandchild = `${ignore} console.log('grandchild ' + process.pid); setInterval(() => {}, 1000)`;
  const script = `${ignore} require("node:child_process").spawn(process.execPath, ["-e", ${JSON.stringify(grandchild)}], { stdio: ["ignore", "inherit", "ignore"] }); setInterval(() => {}, 1000)`;
  const leader = track(spawn(process.execPath, ["-e", script], { detached: true, stdio: ["ignore", "pipe", "ignore"] }));
  let out = "";
  leader.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  await waitFor("the agent's grandchild", () => /grandchild (\d+)\n/.test(out));
  return { pgid: leader.pid!, grandchild: Number(/grandchild (\d+)/.exec(out)![1]), leader };
}

const recordPath = (dir: string, pgid: number): string => join(dir, `${pgid}.json`);
function editRecord(dir: string, pgid: number, edit: (r: Record<string, number>) => void): void {
  const r = JSON.parse(readFileSync(recordPath(dir, pgid), "utf8"));
  edit(r);
  writeFileSync(recordPath(dir, pgid), JSON.stringify(r));
}

describe.skipIf(!HAS_PROC)("agent process registry", () => {
  it("negative control: the test's group check sees a member that outlived its leader", async () => {
    const { pgid, grandchild, leader } = await startAgent();
    const exited = once(leader, "exit");
    leader.kill("SIGKILL"); // the leader only, not the group
    await exited;
    expect(groupMembers(pgid)).toEqual([grandchild]);
    process.kill(-pgid, "SIGKILL");
    await waitFor("the group to die", () => !groupAlive(pgid));
  });

  it("stops an orphan whose owner died, grandchild included, and reports its run", async () => {
    const dir = tempDir();
    const owner = startOwner();
    const agent = await startAgent();
    processRegistry(dir, { ownerPid: owner.pid! }).track(agent.pgid, { taskId: 3, key: "k-3" });
    await killOwner(owner);
    expect(groupMembers(agent.pgid).sort()).toEqual([agent.pgid, agent.grandchild].sort()); // not reaped yet: alive

    // Another worker (a fresh registry: it only knows what is on disk) reaps it.
    const t = performance.now();
    const reaped = await processRegistry(dir, { graceMs: 10_000 }).reapOrphans();
    expect(reaped).toEqual([{ taskId: 3, key: "k-3", pgid: agent.pgid }]);
    expect(groupAlive(agent.pgid)).toBe(false);
    expect(performance.now() - t).toBeLessThan(5000); // SIGTERM sufficed: no need to sit out the grace period
    expect(existsSync(recordPath(dir, agent.pgid))).toBe(false);
  });

  it("SIGKILLs an orphan that ignores SIGTERM once the grace period is over", async () => {
    const dir = tempDir();
    const owner = startOwner();
    const agent = await startAgent(true);
    processRegistry(dir, { ownerPid: owner.pid! }).track(agent.pgid, { taskId: 4, key: "k-4" });
    await killOwner(owner);
    const t = performance.now();
    const reaped = await processRegistry(dir, { graceMs: 400 }).reapOrphans();
    expect(performance.now() - t).toBeGreaterThanOrEqual(350); // SIGTERM first, and a wait
    expect(reaped).toEqual([{ taskId: 4, key: "k-4", pgid: agent.pgid }]);
    expect(groupAlive(agent.pgid)).toBe(false);
  });

  it("does not wait out the grace period for a group whose only member is an unreaped zombie", async () => {
    // The parent spawns the agent (its own group), then blocks forever without reaping it, like an
    // init that does not reap: the killed agent lingers as a zombie and kill(-pgid, 0) still succeeds.
    const parent = track(spawn(process.execPath, ["-e", `const c = require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" }); console.log("agent " + c.pid); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)`], { detached: true, stdio: ["ignore", "pipe", "ignore"] }));
    let out = "";
    parent.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    await waitFor("the agent", () => /agent \d+\n/.test(out));
    const pgid = Number(/agent (\d+)/.exec(out)![1]);
    cleanUpLater(pgid);
    await waitFor("the agent to run", () => groupAlive(pgid));
    const dir = tempDir();
    const owner = startOwner();
    processRegistry(dir, { ownerPid: owner.pid! }).track(pgid, { taskId: 13, key: "k-13" });
    await killOwner(owner);
    const t = performance.now();
    expect(await processRegistry(dir, { graceMs: 10_000 }).reapOrphans()).toEqual([{ taskId: 13, key: "k-13", pgid }]);
    expect(performance.now() - t).toBeLessThan(5000);
    expect(readFileSync(`/proc/${pgid}/stat`, "utf8")).toMatch(/\) Z /); // dead, but a zombie: the case under test
  });

  it("leaves alone the agents of a live worker and of this process", async () => {
    const dir = tempDir();
    const owner = startOwner();
    const other = await startAgent();
    const mine = await startAgent();
    processRegistry(dir, { ownerPid: owner.pid! }).track(other.pgid, { taskId: 5, key: "k-5" });
    processRegistry(dir).track(mine.pgid, { taskId: 6, key: "k-6" });
    expect(await processRegistry(dir, { graceMs: 100 }).reapOrphans()).toEqual([]);
    expect(groupMembers(other.pgid)).toHaveLength(2);
    expect(groupMembers(mine.pgid)).toHaveLength(2);
    expect(existsSync(recordPath(dir, other.pgid)) && existsSync(recordPath(dir, mine.pgid))).toBe(true);
  });

  it("an owner pid that now belongs to another process (start time differs) counts as dead", async () => {
    const dir = tempDir();
    const agent = await startAgent();
    processRegistry(dir).track(agent.pgid, { taskId: 7, key: "k-7" }); // owner: this live process…
    editRecord(dir, agent.pgid, (r) => (r["ownerStartTime"]! += 1)); // …but not the one that wrote the record
    expect(await processRegistry(dir, { graceMs: 2000 }).reapOrphans()).toEqual([{ taskId: 7, key: "k-7", pgid: agent.pgid }]);
    expect(groupAlive(agent.pgid)).toBe(false);
  });

  it("does not kill a process that reused the recorded pid, and drops the record", async () => {
    const dir = tempDir();
    const owner = startOwner();
    const agent = await startAgent();
    processRegistry(dir, { ownerPid: owner.pid! }).track(agent.pgid, { taskId: 8, key: "k-8" });
    editRecord(dir, agent.pgid, (r) => (r["startTime"]! += 1)); // the recorded agent started at another time
    await killOwner(owner);
    expect(await processRegistry(dir, { graceMs: 2000 }).reapOrphans()).toEqual([{ taskId: 8, key: "k-8", pgid: agent.pgid }]);
    await new Promise((r) => setTimeout(r, 200)); // a signal, had one been sent, has landed by now
    expect(groupMembers(agent.pgid)).toHaveLength(2);
    expect(existsSync(recordPath(dir, agent.pgid))).toBe(false);
  });

  it("reports and forgets an orphan whose group had already exited", async () => {
    const dir = tempDir();
    const owner = startOwner();
    const agent = await startAgent();
    processRegistry(dir, { ownerPid: owner.pid! }).track(agent.pgid, { taskId: 9, key: "k-9" });
    await killOwner(owner);
    process.kill(-agent.pgid, "SIGKILL");
    await waitFor("the group to die", () => !groupAlive(agent.pgid));
    expect(await processRegistry(dir).reapOrphans()).toEqual([{ taskId: 9, key: "k-9", pgid: agent.pgid }]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("removes corrupt records and stale temp files without throwing", async () => {
    const dir = tempDir();
    const bad = { "11.json": "{not json", "12.json": "", "13.json": "[]", "14.json": JSON.stringify({ pgid: "x", ownerPid: 1 }) };
    for (const [name, text] of Object.entries(bad)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, ".15.999.tmp"), "{");
    utimesSync(join(dir, ".15.999.tmp"), new Date(0), new Date(0)); // left by a writer killed long ago
    writeFileSync(join(dir, ".16.999.tmp"), "{"); // a writer may be busy with this one right now
    expect(await processRegistry(dir).reapOrphans()).toEqual([]);
    expect(readdirSync(dir)).toEqual([".16.999.tmp"]);
  });

  it("killOwn SIGKILLs this process's groups at once, and not the ones untracked", async () => {
    const dir = tempDir();
    const a = await startAgent(true);
    const b = await startAgent(true);
    const registry = processRegistry(dir);
    registry.track(a.pgid, { taskId: 10, key: "k-10a" });
    registry.track(b.pgid, { taskId: 10, key: "k-10b" });
    registry.untrack(b.pgid);
    expect(existsSync(recordPath(dir, b.pgid))).toBe(false);
    registry.killOwn();
    await waitFor("the tracked group to die", () => !groupAlive(a.pgid), 1000);
    expect(groupMembers(b.pgid)).toHaveLength(2);
  });

  describe("through a worker process (the real module, bundled)", () => {
    let worker = "";
    beforeAll(() => {
      const out = tempDir("ar-worker-");
      worker = join(out, "agent-worker.mjs");
      buildSync({ entryPoints: [join(import.meta.dirname, "../fixtures/agent-worker.ts")], outfile: worker, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning" });
    });

    async function startWorker(dir: string, mode: "hang" | "exit"): Promise<{ proc: ChildProcess; agent: number }> {
      const proc = track(spawn(process.execPath, [worker, dir, mode], { detached: true, stdio: ["ignore", "pipe", "inherit"] }));
      let out = "";
      proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      await waitFor("the worker's agent", () => /agent \d+\n/.test(out), 10_000);
      const agent = Number(/agent (\d+)/.exec(out)![1]);
      cleanUpLater(agent);
      return { proc, agent };
    }

    it("a worker killed with SIGKILL leaves a record; the next worker reaps its agent", async () => {
      const dir = tempDir();
      const { proc, agent } = await startWorker(dir, "hang");
      await killOwner(proc);
      expect(groupMembers(agent)).toHaveLength(2); // the orphan and its grandchild
      expect(await processRegistry(dir, { graceMs: 2000 }).reapOrphans()).toEqual([{ taskId: 42, key: "k-worker", pgid: agent }]);
      expect(groupAlive(agent)).toBe(false);
    });

    it("a worker that exits with killOwn on its exit path takes its agent with it", async () => {
      const dir = tempDir();
      const { proc, agent } = await startWorker(dir, "exit");
      if (proc.exitCode === null) await once(proc, "exit");
      await waitFor("the agent to die with its worker", () => !groupAlive(agent), 2000);
    });
  });

  describe("wired into the spawner and the runner", () => {
    it("spawnAgent records the agent while it runs and forgets it once the group is gone", async () => {
      const dir = tempDir();
      const registry = processRegistry(dir);
      let seen: { pid: number; record: unknown } | undefined;
      const exits: number[] = [];
      // The agent leaves a grandchild behind: the spawner kills the group before forgetting it.
      const script = `require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" }).unref(); console.log("running"); setTimeout(() => {}, 300)`;
      let pid = 0;
      const r = await spawnAgent({
        argv: [process.execPath, "-e", script],
        cwd: dir,
        env: { PATH: process.env["PATH"] ?? "" },
        timeoutMs: 10_000,
        onSpawn: (p) => {
          pid = p;
          cleanUpLater(p);
          registry.track(p, { taskId: 11, key: "k-11" });
        },
        onExit: (p) => {
          exits.push(p);
          registry.untrack(p);
        },
        onStdoutLine: (line) => {
          if (line === "running") seen = { pid, record: existsSync(recordPath(dir, pid)) ? JSON.parse(readFileSync(recordPath(dir, pid), "utf8")) : null };
        },
      });
      expect(r.exitCode).toBe(0);
      expect(seen?.record).toMatchObject({ pgid: pid, ownerPid: process.pid, taskId: 11, key: "k-11" });
      expect(exits).toEqual([pid]);
      expect(readdirSync(dir)).toEqual([]);
      await waitFor("the left-behind grandchild to die", () => !groupAlive(pid), 1000);
    });

    it("spawnAgent does not run an agent it could not record", async () => {
      const dir = tempDir();
      let pid = 0;
      const r = await spawnAgent({
        argv: [process.execPath, "-e", `require("node:fs").writeFileSync("ran", ""); setInterval(() => {}, 1000)`],
        cwd: dir,
        env: { PATH: process.env["PATH"] ?? "" },
        timeoutMs: 10_000,
        onSpawn: (p) => {
          pid = p;
          cleanUpLater(p);
          throw new Error("EACCES: the registry folder is read-only");
        },
      });
      expect(r.spawnError).toMatch(/could not record the agent process: EACCES/);
      expect(r.signal).toBe("SIGKILL");
      expect(groupAlive(pid)).toBe(false);
    });

    it("the CLI runner tracks its agent under the task id and attempt key, then untracks it", async () => {
      const dir = tempDir();
      const registry = processRegistry(dir);
      const calls: unknown[] = [];
      const processes: ProcessTracker = {
        track: (pid, run) => {
          cleanUpLater(pid);
          registry.track(pid, run);
          calls.push(["track", run, JSON.parse(readFileSync(recordPath(dir, pid), "utf8")).key]);
        },
        untrack: (pid) => {
          registry.untrack(pid);
          calls.push(["untrack", existsSync(recordPath(dir, pid))]);
        },
      };
      const agentsDir = join(import.meta.dirname, "../fixtures/agents");
      const config = MainConfig.parse({ agents: { good: { type: "command", command: [process.execPath, join(agentsDir, "good-agent.mjs")] } } });
      const profile = Profile.parse({ name: "feature", description: "d", role: "r", instructions: "i" });
      const runRoot = tempDir();
      const runner = cliAgentRunner({ config, hostEnv: process.env, runRoot, processes });
      const { record } = await runner.run({ taskId: 12, key: "k-12", agent: "good", profile, bundle: "# Task 12\n", workdir: makeRepo(), timeoutMs: 20_000 });
      expect(record.ok).toBe(true);
      expect(calls).toEqual([["track", { taskId: 12, key: "k-12" }, "k-12"], ["untrack", false]]);
    });
  });
});
