import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Command } from "commander";
import type { RunOutcome, WorkerIo } from "../../app/run-task.ts";
import { applyEvent, runTask } from "../../app/run-task.ts";
import { serve } from "../../app/serve.ts";
import { cliAgentRunner } from "../../adapters/agent-cli/cli-agent-runner.ts";
import { classifierFromEnv } from "../../adapters/classifier-ai/classifier-from-env.ts";
import { loadRouting } from "../../adapters/config-fs/load-routing.ts";
import { repoFiles } from "../../adapters/context-fs/repo-files.ts";
import { git } from "../../adapters/ledger-git/run-git.ts";
import { newBoundary } from "../../adapters/system/system.ts";
import { gitWorktrees } from "../../adapters/workspace-git/git-worktrees.ts";
import { contextOf } from "../../app/app-deps.ts";
import { RouterError } from "../../core/errors.ts";
import type { TaskEvent } from "../../core/ledger/events.ts";
import { findTask } from "../../core/ledger/ledger.ts";
import { transition } from "../../core/ledger/transition.ts";
import { runnableTasks } from "../../core/scheduling/plan-tick.ts";
import { isAgentEnabled } from "../../core/routing/decide-route.ts";
import { buildCliContext, type CliContext } from "./build-deps.ts";
import type { CliIo } from "./program.ts";
import { progressReporter } from "./progress.ts";
import { taskId } from "./task-id-arg.ts";

async function workerIo(ctx: CliContext, io: CliIo): Promise<WorkerIo & { routing: Awaited<ReturnType<typeof loadRouting>> }> {
  const routing = await loadRouting(ctx.root, ctx.loaded.config);
  const common = await git(ctx.root, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
  const mainTree = repoFiles(ctx.root);
  return {
    runner: cliAgentRunner({ config: ctx.loaded.config, hostEnv: io.env, runRoot: join(common, "agent-router", "runs") }),
    workspaces: gitWorktrees(ctx.root),
    // Diffs are taken from the main tree: inside a task's worktree HEAD is the task branch itself.
    repoAt: (path: string) => ({ ...repoFiles(path), taskDiff: (id: number) => mainTree.taskDiff(id) }),
    root: ctx.root,
    profiles: routing.profiles,
    newKey: () => `a-${randomUUID()}`,
    newBoundary,
    random: Math.random,
    routing,
  };
}

function describe(o: RunOutcome): string {
  switch (o.kind) {
    case "not_runnable":
      return `task ${o.taskId} is not runnable: ${o.why}`;
    case "awaiting_approval":
      return `task ${o.taskId} needs approval first: agent-router approve ${o.taskId}`;
    case "dry_run":
      return [`task ${o.taskId} would run ${o.agent}${o.model ? ` (${o.model})` : ""} in ${o.plan.cwd}`, `  command: ${o.plan.argv.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : JSON.stringify(a))).join(" ")}`, `  environment: ${o.plan.envNames.join(", ")}`, `  bundle: ${o.plan.bundlePath} (on stdin)`].join("\n");
    case "recorded": {
      const r = o.record;
      const cost = r.costUsd === undefined ? "" : `, $${r.costUsd.toFixed(4)}`;
      return `task ${o.taskId} attempt ${o.attempt}: ${o.status} (${o.note.slice(0, 300)}); ${r.inputTokens} in / ${r.outputTokens} out tokens${cost}, ${(r.durationMs / 1000).toFixed(1)} s${r.filesChanged.length ? `, changed ${r.filesChanged.join(", ")}` : ""}`;
    }
    case "decided":
      return `task ${o.taskId}: ${o.status} (${o.note})`;
    case "stale":
      return `task ${o.taskId}: ${o.note}`;
    case "released":
      return `task ${o.taskId}: stopped; its claim was given back`;
  }
}

/** `--dry-run` of a verb that applies one event: what it would do, without writing. */
async function previewEvent(ctx: CliContext, id: number, event: TaskEvent): Promise<string> {
  const { ledger } = await ctx.store.read();
  const task = findTask(ledger, id);
  if (!task) throw new RouterError("E_TASK_NOT_FOUND", `no task ${id} in ${ctx.store.location}`, { id });
  const next = transition(task, event, contextOf(ctx.deps)).task;
  return `task ${id}: ${event.type} would move it from ${task.status} to ${next.status}; nothing was written (--dry-run)`;
}

/** Applies an event, or with --dry-run only says what it would do. */
async function applyOrPreview(ctx: CliContext, id: number, event: TaskEvent, dryRun: boolean | undefined, done: string, io: CliIo): Promise<void> {
  if (dryRun) return io.out(await previewEvent(ctx, id, event));
  await applyEvent(ctx.deps, id, event);
  io.out(done);
}

/** `next`, `run`, `serve`, `retry`, `approve`, `cancel`. */
export function addWorkerCommands(program: Command, io: CliIo, where: (cmd: Command) => string, setCode: (code: number) => void): void {
  program
    .command("run")
    .description("run one attempt of a task with its routed agent, in the task's own worktree")
    .argument("<id>", "task id", taskId)
    .option("--dry-run", "print the exact command, environment names and bundle path; change nothing")
    .action(async (id: number, o: { dryRun?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      const w = await workerIo(ctx, io);
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once("SIGINT", onSignal);
      try {
        const outcome = await runTask(ctx.deps, id, w, { ...(o.dryRun ? { dryRun: true } : {}), signal: stop.signal });
        io.out(describe(outcome));
        if (outcome.kind === "not_runnable") setCode(1);
      } finally {
        process.off("SIGINT", onSignal);
      }
    });

  program
    .command("next")
    .description("run the next runnable task (lowest id)")
    .option("--dry-run", "print what would run; change nothing")
    .action(async (o: { dryRun?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      const { ledger } = await ctx.store.read();
      const next = runnableTasks(ledger, ctx.deps.clock.now().toISOString())[0];
      if (!next) return io.out("nothing to run");
      io.out(describe(await runTask(ctx.deps, next.id, await workerIo(ctx, io), o.dryRun ? { dryRun: true } : {})));
    });

  program
    .command("serve")
    .description("route and run tasks until stopped (Ctrl-C finishes cleanly and leaves nothing claimed)")
    .option("-j, --parallelism <n>", "tasks run at once (default: execution.parallelism)", (v) => {
      if (!/^[1-9]\d*$/.test(v)) throw new RouterError("E_USAGE", "parallelism is a positive whole number");
      return Number(v);
    })
    .option("--until-idle", "exit once nothing is runnable, running, in review or due to retry")
    .option("--dry-run", "print what would run now (command, environment names, bundle path); change nothing")
    .action(async (o: { parallelism?: number; untilIdle?: boolean; dryRun?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      const w = await workerIo(ctx, io);
      if (o.dryRun) {
        const { ledger } = await ctx.store.read();
        const runnable = runnableTasks(ledger, ctx.deps.clock.now().toISOString()).slice(0, o.parallelism ?? ctx.loaded.config.execution.parallelism);
        if (runnable.length === 0) io.out("nothing would run now (new tasks are routed first by serve; see `agent-router list`)");
        for (const t of runnable) io.out(describe(await runTask(ctx.deps, t.id, w, { dryRun: true })));
        return;
      }
      const setup = await classifierFromEnv(ctx.loaded.config.router.classifier, io.env, w.routing.classifierTemplate);
      const stop = new AbortController();
      const onSignal = (): void => {
        io.err("stopping: waiting for running agents to stop and give their tasks back…");
        stop.abort();
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const progress = progressReporter(io.stdout ?? { write: (t) => io.out(t.replace(/\n$/, "")) });
      try {
        const outcomes = await serve(ctx.deps, w, {
          parallelism: o.parallelism ?? ctx.loaded.config.execution.parallelism,
          untilIdle: o.untilIdle === true,
          signal: stop.signal,
          routing: { config: ctx.loaded.config, profiles: w.routing.profiles, rules: w.routing.rules },
          classifier: setup.classifier,
          onEvent: (e) => progress.event(e),
        });
        progress.stop();
        io.out(`served ${outcomes.length} attempt${outcomes.length === 1 ? "" : "s"}`);
      } finally {
        progress.stop();
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });

  program
    .command("retry")
    .description("reopen a finished, failed, cancelled or stuck task for a fresh attempt budget")
    .argument("<id>", "task id", taskId)
    .option("-a, --agent <name>", "retry with this agent")
    .option("--dry-run", "say what would change; write nothing")
    .action(async (id: number, o: { agent?: string; dryRun?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      if (o.agent !== undefined && !isAgentEnabled(ctx.loaded.config, o.agent)) throw new RouterError("E_USAGE", `agent "${o.agent}" is not enabled`, { agent: o.agent });
      await applyOrPreview(ctx, id, { type: "retry", ...(o.agent ? { agent: o.agent } : {}) }, o.dryRun, `task ${id} reopened${o.agent ? ` for ${o.agent}` : ""}`, io);
    });

  program
    .command("approve")
    .description("approve a task that waits for approval")
    .argument("<id>", "task id", taskId)
    .option("--dry-run", "say what would change; write nothing")
    .action(async (id: number, o: { dryRun?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      await applyOrPreview(ctx, id, { type: "approve" }, o.dryRun, `task ${id} approved`, io);
    });

  program
    .command("cancel")
    .description("cancel a task (a running agent is stopped at its next heartbeat)")
    .argument("<id>", "task id", taskId)
    .option("-r, --reason <text>", "why")
    .option("--dry-run", "say what would change; write nothing")
    .action(async (id: number, o: { reason?: string; dryRun?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      await applyOrPreview(ctx, id, { type: "cancel", ...(o.reason ? { reason: o.reason } : {}) }, o.dryRun, `task ${id} cancelled`, io);
    });
}
