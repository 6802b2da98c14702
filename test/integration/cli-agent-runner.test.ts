// The shared spawner and the command-agent path of the CLI runner, with small fake agents
// (test/fixtures/agents). Real git worktrees; no network.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliAgentRunner } from "../../src/adapters/agent-cli/cli-agent-runner.ts";
import { spawnAgent } from "../../src/adapters/agent-cli/spawn-agent.ts";
import { MainConfig } from "../../src/core/config/main-config.ts";
import { Profile } from "../../src/core/config/profile.ts";
import type { AgentRunRequest } from "../../src/core/ports.ts";
import { makeRepo, removeTempDirs, tempDir } from "../support/git-repo.ts";

afterAll(removeTempDirs);

const AGENTS = join(import.meta.dirname, "../fixtures/agents");
const agentConfig = (script: string, args: string[] = [], env: string[] = []) => ({ type: "command" as const, command: [process.execPath, join(AGENTS, script), ...args], env });
const config = MainConfig.parse({
  agents: {
    good: agentConfig("good-agent.mjs"),
    sleepy: agentConfig("sleepy-agent.mjs"),
    garbage: agentConfig("garbage-agent.mjs"),
    flood: agentConfig("flood-agent.mjs"),
    envy: agentConfig("env-agent.mjs", [], ["ALLOWED_EXTRA"]),
    repair: agentConfig("repair-agent.mjs"),
    limited: agentConfig("failing-agent.mjs"),
    broke: agentConfig("failing-agent.mjs", ["unauthorized: invalid api key\n"]),
    missing: { type: "command" as const, command: ["/nonexistent/agent-binary"] },
    "bad-handoff": agentConfig("output-agent.mjs", ["bad-handoff"]),
    "big-handoff": agentConfig("output-agent.mjs", ["big-handoff"]),
    "stdout-fail": agentConfig("output-agent.mjs", ["stdout-fail"]),
  },
});
const profile = Profile.parse({ name: "feature", description: "d", role: "r", instructions: "i" });

const SECRETS = { GITHUB_TOKEN: "ghs_CANARYgithubtoken000000000000000", OPENAI_API_KEY: "sk-CANARY-openai-0000000000000000", AGENT_ROUTER_APP_KEY: "-----BEGIN CANARY KEY-----", ALLOWED_EXTRA: "yes" };
const host = { ...process.env, ...SECRETS };

function request(agent: string, workdir: string, extra: Partial<AgentRunRequest> = {}): AgentRunRequest {
  return { taskId: 7, key: `k-${agent}`, agent, profile, bundle: "# Task 7\nDo the thing.\n", workdir, timeoutMs: 20_000, ...extra };
}

describe("command agents through the CLI runner", () => {
  it("a good agent: bundle on stdin and in a file, its edit seen by git, its handoff read", async () => {
    const repo = makeRepo();
    const runner = cliAgentRunner({ config, hostEnv: host, runRoot: tempDir() });
    const { record, handoffText } = await runner.run(request("good", repo));
    expect(record).toMatchObject({ ok: true, exitCode: 0, timedOut: false, filesChanged: ["agent-output.txt"], finalText: "all done\n", inputTokens: 0, outputTokens: 0 });
    expect(record.failure).toBeUndefined();
    expect(readFileSync(join(repo, "agent-output.txt"), "utf8")).toBe("task 7: 23 characters on stdin\n");
    expect(JSON.parse(handoffText ?? "null")).toMatchObject({ status: "done", summary: "edited agent-output.txt; stdin equals bundle: true" });
  });

  it("a timeout kills the whole process tree, even an agent that ignores SIGTERM", async () => {
    const repo = makeRepo();
    const runner = cliAgentRunner({ config, hostEnv: host, runRoot: tempDir(), graceMs: 300 });
    const t = performance.now();
    const { record } = await runner.run(request("sleepy", repo, { timeoutMs: 1500 }));
    expect(performance.now() - t).toBeLessThan(10_000);
    expect(record).toMatchObject({ ok: false, timedOut: true, failure: "timeout" });
    const pids = JSON.parse(readFileSync(join(repo, "pids.json"), "utf8")) as { agent: number; child: number };
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(pids.agent)).toBe(false);
    expect(alive(pids.child)).toBe(false);
  });

  it("garbage output and no handoff: the run is ok as a process, the handoff is missing", async () => {
    const repo = makeRepo();
    const { record, handoffText } = await cliAgentRunner({ config, hostEnv: host, runRoot: tempDir() }).run(request("garbage", repo));
    expect(record.ok).toBe(true);
    expect(handoffText).toBeNull();
    expect(record.finalText).toContain('"status": "finished"');
  });

  it("huge output is capped to its head and tail", async () => {
    // What flood-agent.mjs prints: 20,480 numbered lines of 1,024 bytes and "THE END\n" on stdout, 5 MiB on stderr.
    let stdoutBytes = "THE END\n".length;
    for (let i = 0; i < 20 * 1024; i++) stdoutBytes += `${i} `.length + 1024;
    const cap = 64 * 1024;
    const r = await spawnAgent({ argv: [process.execPath, join(AGENTS, "flood-agent.mjs")], cwd: tempDir(), env: { PATH: process.env["PATH"] ?? "" }, timeoutMs: 20_000, maxCapture: cap });
    expect(r.droppedBytes).toEqual({ stdout: stdoutBytes - cap, stderr: 5 * 1024 * 1024 - cap });
    expect(r.truncated).toBe(true);
    const marker = `\n[… ${stdoutBytes - cap} bytes dropped …]\n`;
    expect(r.stdout.length).toBe(cap + marker.length);
    expect(r.stdout.slice(cap / 2, cap / 2 + marker.length)).toBe(marker);
    expect(r.stdout.startsWith("0 xxx")).toBe(true);
    expect(r.stdout.endsWith("x\nTHE END\n")).toBe(true);
    expect(r.stderr).toBe(`${"E".repeat(cap / 2)}\n[… ${5 * 1024 * 1024 - cap} bytes dropped …]\n${"E".repeat(cap / 2)}`);

    const repo = makeRepo();
    const { record } = await cliAgentRunner({ config, hostEnv: host, runRoot: tempDir(), maxCapture: cap }).run(request("flood", repo));
    expect(record.ok).toBe(true);
    expect(record.finalText.length).toBeLessThanOrEqual(20_000);
    expect(record.finalText).toMatch(/THE END\n$/);
    expect(record.errorText.length).toBeLessThanOrEqual(8000);
  });

  it("a malformed handoff file keeps its raw text on the record, next to the agent's stdout", async () => {
    const repo = makeRepo();
    const { record, handoffText } = await cliAgentRunner({ config, hostEnv: host, runRoot: tempDir() }).run(request("bad-handoff", repo));
    const raw = '{"schemaVersion": 1, "status": "done", "summary": "fixed the pars';
    expect(handoffText).toBe(raw);
    expect(record).toMatchObject({ ok: true, finalText: "wrote the handoff\n", handoffFile: { bytes: raw.length, readBytes: raw.length, raw } });
  });

  it("reads at most maxHandoffBytes of the handoff file and says so on the record", async () => {
    const repo = makeRepo();
    const { record, handoffText } = await cliAgentRunner({ config, hostEnv: host, runRoot: tempDir(), maxHandoffBytes: 16 * 1024 }).run(request("big-handoff", repo));
    expect(handoffText?.length).toBe(16 * 1024);
    expect(record.handoffFile?.readBytes).toBe(16 * 1024);
    expect(record.handoffFile?.bytes).toBeGreaterThan(100_000);
    expect(record.handoffFile?.raw).toBe(handoffText?.slice(0, 4000));
  });

  it("a failed command agent's stdout tail is kept after its stderr, and only stderr is classified", async () => {
    const repo = makeRepo();
    const { record } = await cliAgentRunner({ config, hostEnv: host, runRoot: tempDir() }).run(request("stdout-fail", repo));
    expect(record).toMatchObject({ ok: false, exitCode: 3, failure: "agent_error" }); // the "401" on stdout is transcript, not an auth error
    expect(record.errorText).toBe("wrapper: exit 3\nstdout: reading the task\nstdout: the test printed HTTP 401 for a missing fixture\nstdout: fatal: cannot continue, the build tool crashed");
  });

  it("a missing executable names the path it tried", async () => {
    const repo = makeRepo();
    const { record } = await cliAgentRunner({ config, hostEnv: host, runRoot: tempDir() }).run(request("missing", repo));
    expect(record).toMatchObject({ ok: false, exitCode: null, failure: "tooling_missing" });
    expect(record.errorText.split("\n")[0]).toBe("/nonexistent/agent-binary: not found");
  });

  it("the environment is an allowlist: no GitHub token, app key or other provider's key, in env or /proc", async () => {
    const repo = makeRepo();
    const runRoot = tempDir();
    const { record } = await cliAgentRunner({ config, hostEnv: host, runRoot }).run(request("envy", repo));
    expect(record.ok).toBe(true);
    const seen = JSON.parse(readFileSync(join(repo, "env.json"), "utf8")) as { env: Record<string, string>; proc: string };
    expect(Object.keys(seen.env).sort()).toEqual(["AGENT_ROUTER_BUNDLE", "AGENT_ROUTER_OUTPUT", "AGENT_ROUTER_TASK_ID", "ALLOWED_EXTRA", "HOME", "LANG", "NO_COLOR", "PATH", "TERM"]);
    expect(seen.env["HOME"]?.startsWith(runRoot)).toBe(true);
    for (const value of Object.values(SECRETS).filter((v) => v !== "yes")) {
      expect(JSON.stringify(seen)).not.toContain(value.slice(0, 12));
      expect(JSON.stringify(record)).not.toContain(value.slice(0, 12));
    }
  });

  it("the repair round reaches a command agent with AGENT_ROUTER_REPAIR and the message after the bundle", async () => {
    const repo = makeRepo();
    const runner = cliAgentRunner({ config, hostEnv: host, runRoot: tempDir() });
    const first = await runner.run(request("repair", repo));
    expect(first.handoffText).toBeNull();
    const second = await runner.run(request("repair", repo, { repair: { message: "Write the handoff JSON now." } }));
    expect(JSON.parse(second.handoffText ?? "null")).toMatchObject({ status: "done", summary: expect.stringContaining("Write the handoff JSON now.") as unknown });
  });

  it.each([
    ["limited", "rate_limit"],
    ["broke", "auth"],
    ["missing", "tooling_missing"],
  ])("a failing %s agent is classified as %s", async (agent, failure) => {
    const repo = makeRepo();
    const { record } = await cliAgentRunner({ config, hostEnv: host, runRoot: tempDir() }).run(request(agent, repo));
    expect(record).toMatchObject({ ok: false, failure });
  });

  it("plan() gives the exact argv, the environment's names and the bundle path, and runs nothing", () => {
    const repo = makeRepo();
    writeFileSync(join(repo, "marker"), "");
    const plan = cliAgentRunner({ config, hostEnv: host, runRoot: "/runs" }).plan(request("good", repo));
    expect(plan).toEqual({ argv: [process.execPath, join(AGENTS, "good-agent.mjs")], envNames: ["AGENT_ROUTER_BUNDLE", "AGENT_ROUTER_OUTPUT", "AGENT_ROUTER_TASK_ID", "HOME", "LANG", "NO_COLOR", "PATH", "TERM"], bundlePath: "/runs/task-7-k-good/bundle.md", cwd: repo });
    expect(existsSync("/runs")).toBe(false);
  });
});
