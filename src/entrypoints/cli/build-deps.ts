import { stat } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import type { AppDeps, ReconcileDeps, WorkerIo } from "../../app/app-deps.ts";
import { RouterError } from "../../core/errors.ts";
import type { AgentProcesses, Log } from "../../core/ports.ts";
import { cliAgentRunner } from "../../adapters/agent-cli/cli-agent-runner.ts";
import { processRegistry } from "../../adapters/agent-cli/process-registry.ts";
import { runFolders } from "../../adapters/agent-cli/run-folders.ts";
import { classifierFromEnv } from "../../adapters/classifier-ai/classifier-from-env.ts";
import type { LoadedConfig } from "../../adapters/config-fs/load-config.ts";
import { formatConfigProblem, loadConfig } from "../../adapters/config-fs/load-config.ts";
import { loadEnabledJobs } from "../../adapters/config-fs/load-jobs.ts";
import type { LoadedRouting } from "../../adapters/config-fs/load-routing.ts";
import { loadRouting } from "../../adapters/config-fs/load-routing.ts";
import { repoFiles } from "../../adapters/context-fs/repo-files.ts";
import { GitLedgerStore } from "../../adapters/ledger-git/git-ledger-store.ts";
import { git, runGit } from "../../adapters/ledger-git/run-git.ts";
import { pinoLog } from "../../adapters/log-pino/pino-log.ts";
import { attemptKey, newBoundary, newTraceId, systemBackoff, systemClock, systemTimer } from "../../adapters/system/system.ts";
import { gitWorktrees } from "../../adapters/workspace-git/git-worktrees.ts";
import type { CliIo } from "./cli-io.ts";
import type { Redact } from "../../core/secrets/redact.ts";
import { makeRedactor, secretValuesOf } from "../../core/secrets/redact.ts";

export interface CliContext {
  root: string;
  loaded: LoadedConfig;
  store: GitLedgerStore;
  deps: AppDeps;
}

const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

/** JSON log lines on stderr (human-readable on a terminal); level from AGENT_ROUTER_LOG, default warn. */
function cliLog(io: CliIo, traceId: string, redact: Redact): Log {
  const wanted = io.env["AGENT_ROUTER_LOG"] ?? "warn";
  const level = (LOG_LEVELS as readonly string[]).includes(wanted) ? (wanted as (typeof LOG_LEVELS)[number]) : "warn";
  const stderr = io.stderr ?? { write: (t: string) => io.err(t.replace(/\n$/, "")) };
  return pinoLog({ traceId, level, destination: stderr, pretty: stderr.isTTY === true, redact });
}

/** Finds the repository, loads its config (from the working tree: this is the local CLI) and wires the local adapters. */
export async function buildCliContext(cwd: string, opts: { allowInvalidConfig?: boolean; io?: CliIo } = {}): Promise<CliContext> {
  const dir = await stat(cwd).catch(() => null);
  if (!dir?.isDirectory()) throw new RouterError("E_USAGE", `${cwd} is not a directory`, { cwd }, { fix: "Pass an existing directory with -C, or run agent-router inside your repository." });
  const top = await runGit(cwd, ["rev-parse", "--show-toplevel"]);
  if (top.code !== 0) {
    throw new RouterError("E_GIT", `${cwd} is not inside a git repository`, { cwd }, { fix: "Run agent-router inside your repository (or `git init` first), or pass -C <dir>." });
  }
  const root = top.stdout.trim();
  const loaded = await loadConfig(root);
  const errors = loaded.problems.filter((p) => p.severity === "error");
  if (errors.length > 0 && !opts.allowInvalidConfig) {
    throw new RouterError("E_CONFIG_INVALID", `${loaded.file} is invalid:\n${errors.map((p) => `  ${formatConfigProblem(p)}`).join("\n")}`, { problems: errors });
  }
  const store = new GitLedgerStore({ cwd: root, branch: loaded.config.ledger.branch, path: loaded.config.ledger.path });
  const traceId = newTraceId();
  // The secrets this process holds (tokens, keys) never reach the ledger, a commit or a log, even when an agent echoes them.
  const redact = makeRedactor(secretValuesOf(opts.io?.env ?? process.env));
  const deps: AppDeps = {
    store,
    clock: systemClock,
    backoff: systemBackoff,
    config: loaded.config,
    traceId,
    actor: `cli:${userInfo().username}`,
    conflictBaseDelayMs: 100,
    redact,
    ...(opts.io ? { log: cliLog(opts.io, traceId, redact) } : {}),
  };
  return { root, loaded, store, deps };
}

/** Profiles, rules and the classifier template of the working tree; invalid ones stop the command. */
export async function validRouting(ctx: CliContext): Promise<LoadedRouting> {
  const routing = await loadRouting(ctx.root, ctx.loaded.config);
  const bad = routing.problems.filter((p) => p.severity === "error");
  if (bad.length > 0) throw new RouterError("E_CONFIG_INVALID", `profiles, routing rules or the classifier template are invalid:\n${bad.map((p) => `  ${formatConfigProblem(p)}`).join("\n")}`);
  return routing;
}

/**
 * What reconcile needs; the classifier (and the AI SDK behind it) only for verbs that route. The
 * enabled jobs come from the working tree like the config; an invalid job file stops the command.
 */
export async function reconcileDepsOf(ctx: CliContext, io: CliIo, opts: { classifier?: boolean; routing?: LoadedRouting } = {}): Promise<ReconcileDeps & { classifierNote: string }> {
  const routing = opts.routing ?? (await validRouting(ctx));
  const jobs = await loadEnabledJobs(ctx.root, new Set(routing.profiles.keys()));
  const setup = opts.classifier ? await classifierFromEnv(ctx.loaded.config.router.classifier, io.env, routing.classifierTemplate) : { classifier: null, why: "not needed" };
  return {
    ...ctx.deps,
    routing: { config: ctx.loaded.config, profiles: routing.profiles, rules: routing.rules },
    classifier: setup.classifier,
    classifierNote: setup.classifier ? `classifier: ${setup.classifier.describe}` : `${setup.why}: rules and the fallback decide`,
    keyFor: attemptKey,
    random: Math.random,
    jobs,
  };
}

/** The local worker: agents run in per-attempt worktrees, their process groups recorded under .git/agent-router/procs. */
export async function workerIoOf(ctx: CliContext, io: CliIo, routing: LoadedRouting): Promise<{ worker: WorkerIo; processes: AgentProcesses }> {
  const common = await git(ctx.root, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
  const runRoot = join(common, "agent-router", "runs");
  const processes = processRegistry(join(common, "agent-router", "procs"));
  const worker: WorkerIo = {
    runner: cliAgentRunner({ config: ctx.loaded.config, hostEnv: io.env, runRoot, processes }),
    workspaces: gitWorktrees(ctx.root),
    // Read from git objects through the main checkout (its HEAD is the base branch), never from a worktree.
    repoFor: (taskId: number) => repoFiles(ctx.root, { taskId }),
    root: ctx.root,
    profiles: routing.profiles,
    newBoundary,
    timer: systemTimer,
    runFolders: runFolders(runRoot),
  };
  return { worker, processes };
}
