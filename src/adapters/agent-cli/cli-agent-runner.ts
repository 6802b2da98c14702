import { constants } from "node:fs";
import { mkdir, open, unlink, writeFile } from "node:fs/promises";
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
  /** Bytes of the handoff file read at most (default 4 MiB: room for 50 delegations of 64 KB); the record says when it was cut. */
  maxHandoffBytes?: number;
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

/** Characters of the handoff file's text kept on the record. */
const RAW_HANDOFF_CHARS = 4000;

/**
 * The handoff file, at most `max` bytes of it; null when there is no regular file. Never through a
 * symlink (the agent could point it at one of the router's files) and never waiting on a FIFO.
 */
async function readHandoffFile(path: string, max: number): Promise<{ text: string; bytes: number; readBytes: number } | null> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!file) return null;
  try {
    const info = await file.stat();
    if (!info.isFile()) return null;
    const buf = Buffer.alloc(Math.min(info.size, max));
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    return { text: buf.subarray(0, bytesRead).toString("utf8"), bytes: info.size, readBytes: bytesRead };
  } catch {
    return null;
  } finally {
    await file.close();
  }
}

/** The last non-blank lines of a command agent's stdout (at most 40, within `max` characters), each marked as stdout. */
function stdoutTail(stdout: string, max: number): string {
  const end = stdout.slice(-max);
  // Cut at a line start when the cut fell inside a line.
  const cut = stdout.length > max && end.includes("\n") ? end.slice(end.indexOf("\n") + 1) : end;
  return cut
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-40)
    .map((l) => `stdout: ${l}`)
    .join("\n");
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
      const ok = parsed.ok && r.exitCode === 0 && !r.timedOut && !r.aborted && r.spawnError === undefined;
      // What classification reads: the CLI's error channel and stderr, never stdout (the transcript).
      const channel = [parsed.errorText, stderrTail].filter(Boolean).join("\n").slice(-8000);
      const errorText = [
        r.spawnError,
        channel.trimEnd(),
        // A command agent may well say why it failed on stdout: its end is kept for people (not classified).
        !inv.parser && !ok ? stdoutTail(r.stdout, 2000) : "",
        r.skippedLines > 0 ? `${r.skippedLines} stdout line(s) over the line cap were skipped unparsed` : "",
      ]
        .filter(Boolean)
        .join("\n");
      const cost = parsed.costUsd ?? (parsed.inputTokens + parsed.outputTokens > 0 ? priceUsage(req.model ?? "", parsed) : undefined);
      const handoff = await readHandoffFile(outputPath, opts.maxHandoffBytes ?? 4 * 1024 * 1024);
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
        ...(ok ? {} : { failure: classifyFailure({ timedOut: r.timedOut, ...(r.spawnError ? { spawnError: r.spawnError } : {}), ...(parsed.apiStatus ? { apiStatus: parsed.apiStatus } : {}), ...(parsed.apiError ? { apiError: parsed.apiError } : {}), errorText: r.spawnError ?? channel }) }),
        errorText,
        durationMs: r.durationMs,
        ...(handoff ? { handoffFile: { bytes: handoff.bytes, readBytes: handoff.readBytes, raw: handoff.text.slice(0, RAW_HANDOFF_CHARS) } } : {}),
      };
      const handoffText = handoff?.text ?? null;
      return { record, handoffText };
    },
  };
}
