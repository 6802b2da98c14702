import { mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { classifyFailure } from "../../core/agents/classify-failure.ts";
import type { ParsedRun, RunRecord } from "../../core/agents/run-record.ts";
import type { MainConfig } from "../../core/config/main-config.ts";
import type { AgentRun, AgentRunner, AgentRunPlan, AgentRunRequest } from "../../core/ports.ts";
import { priceUsage } from "../../core/pricing/price-usage.ts";
import { runGit } from "../ledger-git/run-git.ts";
import { invocationFor, type Invocation } from "./agent-invocation.ts";
import type { ProcessTracker } from "./process-registry.ts";
import { spawnAgent } from "./spawn-agent.ts";

export interface CliRunnerOptions {
  config: MainConfig;
  /** The host's environment; only allow-listed names reach an agent. */
  hostEnv: Readonly<Record<string, string | undefined>>;
  /** Where per-run folders (home, bundle, handoff file) go; never inside a worktree. */
  runRoot: string;
  /** Bytes of stdout and of stderr kept (head and tail). */
  maxCapture?: number;
  graceMs?: number;
  /** Records each agent's process group while it runs, so a later worker can reap it if this one dies. */
  processes?: ProcessTracker;
}

/** Paths changed in the worktree, untracked files included (git is the authority, not the agent). */
async function changedFiles(workdir: string): Promise<string[]> {
  const r = await runGit(workdir, ["status", "--porcelain", "-z", "--untracked-files=all"]);
  if (r.code !== 0) return [];
  const out: string[] = [];
  const parts = r.stdout.split("\0");
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i]!;
    if (entry.length < 4) continue;
    out.push(entry.slice(3));
    if (entry[0] === "R" || entry[0] === "C") i++; // a rename's source path follows
  }
  return out.sort();
}

function runDirOf(root: string, req: AgentRunRequest): string {
  return join(root, `task-${req.taskId}-${req.key.replace(/[^\w.-]/g, "_")}${req.repair ? "-repair" : ""}`);
}

/**
 * The agent's HOME: the attempt's own, shared by its repair round, because the CLIs keep the
 * session that the repair resumes under HOME (claude ~/.claude, codex $CODEX_HOME, opencode
 * ~/.local/share/opencode).
 */
function homeOf(root: string, req: AgentRunRequest): string {
  return join(runDirOf(root, { ...req, repair: undefined }), "home");
}

function trackingHooks(processes: ProcessTracker, req: AgentRunRequest): { onSpawn: (pid: number) => void; onExit: (pid: number) => void } {
  return { onSpawn: (pid) => processes.track(pid, { taskId: req.taskId, key: req.key }), onExit: (pid) => processes.untrack(pid) };
}

/** The agent CLIs behind the AgentRunner port, through one spawner. */
export function cliAgentRunner(opts: CliRunnerOptions): AgentRunner {
  const invocation = (req: AgentRunRequest, dir: string): Invocation =>
    invocationFor(
      {
        agent: req.agent,
        config: opts.config.agents[req.agent],
        ...(req.model ? { model: req.model } : {}),
        profile: req.profile,
        input: req.repair ? (req.repair.sessionId ? req.repair.message : `${req.bundle}\n\n${req.repair.message}`) : req.bundle,
        bundlePath: join(dir, "bundle.md"),
        outputPath: join(dir, "out", "handoff.json"),
        home: homeOf(opts.runRoot, req),
        taskId: req.taskId,
        ...(req.repair ? { repair: req.repair.sessionId ? { sessionId: req.repair.sessionId } : {} } : {}),
      },
      opts.hostEnv,
    );

  return {
    plan(req): AgentRunPlan {
      const dir = runDirOf(opts.runRoot, req);
      const inv = invocation(req, dir);
      return { argv: inv.argv, envNames: Object.keys(inv.env).sort(), bundlePath: join(dir, "bundle.md"), cwd: req.workdir };
    },

    async run(req, signal): Promise<AgentRun> {
      const dir = runDirOf(opts.runRoot, req);
      const inv = invocation(req, dir);
      // The handoff file has a folder of its own: the CLIs are allowed to write there (agent-invocation.ts).
      const outputPath = inv.env["AGENT_ROUTER_OUTPUT"]!;
      await mkdir(dirname(outputPath), { recursive: true });
      await mkdir(inv.env["HOME"]!, { recursive: true });
      // codex 0.169 refuses to start when CODEX_HOME does not exist ("Error finding codex home").
      if (inv.env["CODEX_HOME"]) await mkdir(inv.env["CODEX_HOME"], { recursive: true });
      await writeFile(inv.env["AGENT_ROUTER_BUNDLE"]!, req.bundle, { mode: 0o600 });
      await unlink(outputPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err; // a handoff left by an earlier run must not be read as this one's
      });
      const r = await spawnAgent({
        argv: inv.argv,
        cwd: req.workdir,
        env: inv.env,
        input: inv.input,
        timeoutMs: req.timeoutMs,
        ...(opts.graceMs === undefined ? {} : { graceMs: opts.graceMs }),
        maxCapture: opts.maxCapture ?? 1024 * 1024,
        ...(inv.parser ? { onStdoutLine: (l: string) => inv.parser!.line(l) } : {}),
        ...(signal ? { signal } : {}),
        ...(opts.processes ? trackingHooks(opts.processes, req) : {}),
      });
      const stderrTail = r.stderr.slice(-4000);
      const parsed: ParsedRun = inv.parser
        ? inv.parser.result()
        : { ok: true, inputTokens: 0, outputTokens: 0, deniedActions: [], finalText: r.stdout.slice(-20_000), errorText: "" };
      const errorText = [parsed.errorText, stderrTail].filter(Boolean).join("\n").slice(-8000);
      const ok = parsed.ok && r.exitCode === 0 && !r.timedOut && !r.aborted && r.spawnError === undefined;
      const cost = parsed.costUsd ?? (parsed.inputTokens + parsed.outputTokens > 0 ? priceUsage(req.model ?? "", parsed) : undefined);
      const record: RunRecord = {
        ok,
        exitCode: r.exitCode,
        timedOut: r.timedOut,
        ...(parsed.stopReason ? { stopReason: parsed.stopReason } : r.aborted ? { stopReason: "cancelled" } : {}),
        ...(parsed.turns === undefined ? {} : { turns: parsed.turns }),
        inputTokens: parsed.inputTokens,
        outputTokens: parsed.outputTokens,
        ...(parsed.cacheReadTokens === undefined ? {} : { cacheReadTokens: parsed.cacheReadTokens }),
        ...(cost === undefined ? (parsed.inputTokens + parsed.outputTokens > 0 ? { costReason: `no price for model "${req.model ?? "(default)"}"` } : {}) : { costUsd: cost }),
        ...(parsed.sessionId ? { sessionId: parsed.sessionId } : {}),
        deniedActions: parsed.deniedActions,
        filesChanged: await changedFiles(req.workdir),
        finalText: parsed.finalText,
        ...(ok ? {} : { failure: classifyFailure({ timedOut: r.timedOut, ...(r.spawnError ? { spawnError: r.spawnError } : {}), ...(parsed.apiStatus ? { apiStatus: parsed.apiStatus } : {}), ...(parsed.apiError ? { apiError: parsed.apiError } : {}), errorText: r.spawnError ?? errorText }) }),
        errorText,
        durationMs: r.durationMs,
      };
      const handoffText = await readFile(outputPath, "utf8").catch(() => null);
      return { record, handoffText };
    },
  };
}
