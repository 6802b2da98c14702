// The real agent CLIs, pinned and installed from npm into a cache folder by
// scripts/install-agent-clis.mjs (Claude Code 2.1.197, Codex 0.169.0, OpenCode 1.18.33), run
// through the CLI runner against a fake LLM server on 127.0.0.1 (test/support/fake-llm-server.ts).
// Nothing leaves the machine. Each run has its own git repo, run folder and fake API key (its
// script), so the CLIs run side by side.
//
// What a CLI upgrade that breaks a flag, an output field or a token rule makes fail here: the file
// edit seen by git, the handoff parsed by the router (from the final message, from the file named by
// AGENT_ROUTER_OUTPUT, and after a repair round that resumes the session), token counts equal to
// what the fake sent (each CLI's summing rules), cost, session id, and 429/401 classification.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliAgentRunner } from "../../src/adapters/agent-cli/cli-agent-runner.ts";
import type { RunRecord } from "../../src/core/agents/run-record.ts";
import { MainConfig } from "../../src/core/config/main-config.ts";
import { Profile } from "../../src/core/config/profile.ts";
import { readHandoff } from "../../src/core/handoff/handoff.ts";
import type { AgentRunRequest } from "../../src/core/ports.ts";
import { startFakeLlmServer, type FakeLlmServer, type FakeScript, type LoggedRequest } from "../support/fake-llm-server.ts";
import { makeRepo, removeTempDirs, sh, tempDir } from "../support/git-repo.ts";

const ROOT = join(import.meta.dirname, "../..");
const CANARY = "ghs_CANARYgithubtoken000000000000000";
const CLIS = ["claude", "codex", "opencode"] as const;
type Cli = (typeof CLIS)[number];
const models: Record<Cli, string> = { claude: "claude-sonnet-4-5", codex: "fake-model", opencode: "fake/fake-model" };
/** The tool each CLI's first call uses to write the file. */
const writeTool: Record<Cli, string> = { claude: "Write", codex: "exec_command", opencode: "write" };
/** opencode's config prices the fake model, in USD per million tokens (no cache price: cache reads cost 0). */
const OPENCODE_PRICE = { input: 2, output: 8 };
/** Claude Code's own table for claude-sonnet-4-5, USD per million tokens. */
const SONNET_PRICE = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };

let fake: FakeLlmServer;
let bin = "";
let config: MainConfig;
let runs = 0;
const timings: string[] = [];
const profile = Profile.parse({ name: "feature", description: "d", role: "You are a careful engineer.", instructions: "Do the task." });

beforeAll(async () => {
  // Installs the CLIs when they are missing (about 1 GB from npm); nothing to do when .ci/run or
  // `npm run agents:install` already did.
  const t = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, "scripts/install-agent-clis.mjs"), "--json"], { cwd: ROOT, encoding: "utf8", timeout: 15 * 60_000, maxBuffer: 32 * 1024 * 1024 });
  bin = (JSON.parse(stdout.trim().split("\n").at(-1)!) as { bin: string }).bin;
  timings.push(`install check: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  fake = await startFakeLlmServer();
  const provider = ["-c", "model_provider=fake", "-c", "model_providers.fake.name=fake", "-c", `model_providers.fake.base_url=${fake.url}/v1`, "-c", "model_providers.fake.wire_api=responses", "-c", "model_providers.fake.env_key=FAKE_LLM_KEY"];
  const retries = ["-c", "model_providers.fake.request_max_retries=1", "-c", "model_providers.fake.stream_max_retries=1"];
  // As if the run folder were outside /tmp (the worker's is in .git/agent-router/runs): codex's
  // workspace-write sandbox would otherwise let the agent write anywhere under /tmp.
  const noTmp = ["-c", "sandbox_workspace_write.exclude_slash_tmp=true", "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true"];
  config = MainConfig.parse({ agents: { claude: {}, codex: { env: ["FAKE_LLM_KEY"], args: [...provider, ...retries, ...noTmp] }, opencode: {} } });
}, 15 * 60_000);

afterAll(async () => {
  await fake?.close();
  removeTempDirs();
  console.log(`real CLI runs:\n  ${timings.join("\n  ")}`);
});

/** The host environment of one run: the fake's key for this run's script, and a token that must not leak. */
function hostFor(key: string): Record<string, string | undefined> {
  return {
    PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
    GITHUB_TOKEN: CANARY,
    ANTHROPIC_API_KEY: key,
    ANTHROPIC_BASE_URL: fake.url,
    FAKE_LLM_KEY: key,
    OPENCODE_CONFIG_CONTENT: JSON.stringify({
      $schema: "https://opencode.ai/config.json",
      model: models.opencode,
      autoupdate: false,
      share: "disabled",
      provider: {
        fake: {
          npm: "@ai-sdk/openai-compatible",
          name: "Fake",
          options: { baseURL: `${fake.url}/v1`, apiKey: key },
          models: { "fake-model": { name: "Fake model", tool_call: true, cost: OPENCODE_PRICE, limit: { context: 200_000, output: 16_000 } } },
        },
      },
    }),
  };
}

const handoffOf = (cli: Cli) => ({ schemaVersion: 1, status: "done", summary: `${cli} wrote hello-${cli}.txt`, filesChanged: [`hello-${cli}.txt`] });

interface Run {
  record: RunRecord;
  handoffText: string | null;
  requests: LoggedRequest[];
  repo: string;
  runRoot: string;
  req: AgentRunRequest;
}

/**
 * One run of a real CLI through the runner, with a fresh script (and so a fresh key) on the fake.
 * With `prev`, the repair round of that run: same repo, run folder and request, plus `repair`.
 */
async function run(cli: Cli, script: Pick<FakeScript, "mode" | "handoffVia">, prev?: { run: Run; repairMessage: string }): Promise<Run> {
  const repo = prev?.run.repo ?? makeRepo();
  const runRoot = prev?.run.runRoot ?? tempDir();
  const base: AgentRunRequest = prev?.run.req ?? { taskId: 7, key: `a-${cli}-${++runs}`, agent: cli, model: models[cli], profile, bundle: `# Task 7\nCreate hello-${cli}.txt saying hello.\n`, workdir: repo, timeoutMs: 100_000 };
  const req: AgentRunRequest = prev ? { ...base, repair: { ...(prev.run.record.sessionId ? { sessionId: prev.run.record.sessionId } : {}), message: prev.repairMessage } } : base;
  // Where the runner puts the handoff file (AGENT_ROUTER_OUTPUT): beside the bundle, in out/.
  const handoffPath = join(dirname(cliAgentRunner({ config, hostEnv: {}, runRoot }).plan(req).bundlePath), "out", "handoff.json");
  const handle = fake.script({ ...script, workdir: repo, file: `hello-${cli}.txt`, content: `hello from ${cli}\n`, handoff: handoffOf(cli), handoffPath });
  const runner = cliAgentRunner({ config, hostEnv: hostFor(handle.key), runRoot, graceMs: 2000 });
  const t = performance.now();
  const { record, handoffText } = await runner.run(req);
  const seconds = (performance.now() - t) / 1000;
  timings.push(`${cli} ${script.mode}${script.handoffVia ? `/${script.handoffVia}` : ""}${prev ? " (repair)" : ""}: ${seconds.toFixed(1)} s, ${record.inputTokens} in / ${record.outputTokens} out / ${record.cacheReadTokens ?? 0} cache read, cost ${record.costUsd ?? record.costReason ?? "-"}, ${handle.requests.length} requests${record.failure ? `, failure ${record.failure}` : ""}`);
  return { record, handoffText, requests: handle.requests, repo, runRoot, req };
}

/** What the fake reported over the requests a CLI counts: every model response, except opencode's title call (not a step). */
function sentTotals(cli: Cli, requests: LoggedRequest[]): { input: number; output: number; cacheRead: number; cacheWrite: number } {
  const counted = requests.filter((r) => r.usage && !(cli === "opencode" && r.reply === "text"));
  const sum = (f: (u: NonNullable<LoggedRequest["usage"]>) => number): number => counted.reduce((n, r) => n + f(r.usage!), 0);
  return { input: sum((u) => u.input), output: sum((u) => u.output), cacheRead: sum((u) => u.cacheRead), cacheWrite: sum((u) => u.cacheWrite) };
}

function expectCleanRequests(r: Run): void {
  expect(r.requests.length).toBeGreaterThan(0);
  expect(JSON.stringify(r.requests)).not.toContain(CANARY); // the GitHub token never reaches the model
}

describe.concurrent.each(CLIS)("real %s through the CLI runner", (cli) => {
  it("edits a file and hands off in its final message; tokens, cost and session recorded", { timeout: 150_000 }, async () => {
    const r = await run(cli, { mode: "success" });
    expectCleanRequests(r);
    expect(r.requests.find((q) => q.reply === "tool_call")?.toolCalled).toBe(writeTool[cli]);
    expect(readFileSync(join(r.repo, `hello-${cli}.txt`), "utf8")).toBe(`hello from ${cli}\n`);
    expect(sh(r.repo, "status", "--porcelain")).toBe(`?? hello-${cli}.txt`);

    const { record } = r;
    expect(record).toMatchObject({ ok: true, exitCode: 0, timedOut: false, filesChanged: [`hello-${cli}.txt`], deniedActions: [] });
    expect(record.failure).toBeUndefined();
    expect(record.sessionId).toMatch(/\S{8,}/);
    expect(record.turns).toBeGreaterThan(0);
    expect(record.durationMs).toBeGreaterThan(0);
    expect(readHandoff(r.handoffText, record.finalText)).toEqual({ ok: true, from: "message", handoff: { ...handoffOf(cli), delegations: [], blockers: [], followUps: [] } });

    const sent = sentTotals(cli, r.requests);
    expect(sent.input).toBeGreaterThan(0);
    expect(record.inputTokens).toBe(sent.input); // cache reads (and claude's cache writes) included once
    expect(record.outputTokens).toBe(sent.output); // reasoning included once
    expect(record.cacheReadTokens).toBe(sent.cacheRead);
    if (cli === "claude") {
      const fresh = sent.input - sent.cacheRead - sent.cacheWrite;
      const usd = (fresh * SONNET_PRICE.input + sent.cacheRead * SONNET_PRICE.cacheRead + sent.cacheWrite * SONNET_PRICE.cacheWrite + sent.output * SONNET_PRICE.output) / 1e6;
      expect(record.costUsd).toBeCloseTo(usd, 9);
    } else if (cli === "opencode") {
      expect(record.costUsd).toBeCloseTo(((sent.input - sent.cacheRead) * OPENCODE_PRICE.input + sent.output * OPENCODE_PRICE.output) / 1e6, 6);
    } else {
      expect(record.costUsd).toBeUndefined(); // codex reports no cost, and fake-model has no price
      expect(record.costReason).toMatch(/no price for model "fake-model"/);
    }
  });

  it("writes the handoff to the file named by AGENT_ROUTER_OUTPUT, outside the worktree", { timeout: 150_000 }, async () => {
    const r = await run(cli, { mode: "success", handoffVia: "file" });
    expectCleanRequests(r);
    expect(r.record).toMatchObject({ ok: true, deniedActions: [], filesChanged: [`hello-${cli}.txt`] });
    expect(readHandoff(r.handoffText, r.record.finalText)).toMatchObject({ ok: true, from: "file", handoff: handoffOf(cli) });
  });

  it("repair round: resumes the session and gets the handoff", { timeout: 150_000 }, async () => {
    const first = await run(cli, { mode: "success", handoffVia: "none" });
    expect(first.record.ok).toBe(true);
    expect(readHandoff(first.handoffText, first.record.finalText).ok).toBe(false);
    expect(first.record.sessionId).toBeDefined();

    const message = "Your run ended without a valid handoff. Write only the handoff JSON object now.";
    const second = await run(cli, { mode: "success" }, { run: first, repairMessage: message });
    expectCleanRequests(second);
    expect(second.record).toMatchObject({ ok: true, filesChanged: [`hello-${cli}.txt`] });
    expect(readHandoff(second.handoffText, second.record.finalText)).toMatchObject({ ok: true, handoff: handoffOf(cli) });
    // The resumed conversation: the first run's tool result and the repair message both reach the model.
    const last = second.requests.filter((q) => q.reply === "final").at(-1)!;
    expect(last.toolResults).toBeGreaterThan(0);
    expect(JSON.stringify(last.body)).toContain(message);
  });

  it("a 429 from the API is classified rate_limit", { timeout: 150_000 }, async () => {
    const r = await run(cli, { mode: "rate_limit" });
    expectCleanRequests(r);
    expect(r.requests.every((q) => q.status === 429 || q.reply === "head")).toBe(true);
    expect(r.record).toMatchObject({ ok: false, timedOut: false, failure: "rate_limit", filesChanged: [] });
    expect(r.record.durationMs).toBeLessThan(60_000); // the CLI's own retries are capped
  });

  it("a 401 from the API is classified auth", { timeout: 150_000 }, async () => {
    const r = await run(cli, { mode: "auth" });
    expectCleanRequests(r);
    expect(r.requests.every((q) => q.status === 401 || q.reply === "head")).toBe(true);
    expect(r.record).toMatchObject({ ok: false, timedOut: false, failure: "auth", filesChanged: [] });
    expect(r.record.durationMs).toBeLessThan(60_000);
  });
});
