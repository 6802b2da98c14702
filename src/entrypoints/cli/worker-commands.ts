import { randomBytes, randomUUID } from "node:crypto";
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
import { gitWorktrees } from "../../adapters/workspace-git/git-worktrees.ts";
import { RouterError } from "../../core/errors.ts";
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
    newBoundary: () => randomBytes(16).toString("hex"),
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
    case "stale":
      return `task ${o.taskId}: ${o.note}`;
    case "released":
      return `task ${o.taskId}: stopped; its claim was given back`;
  }
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
    .option("--until-idle", "exit once nothing is runnable or running")
    .action(async (o: { parallelism?: number; untilIdle?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      const w = await workerIo(ctx, io);
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
    .action(async (id: number, o: { agent?: string }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      if (o.agent !== undefined && !isAgentEnabled(ctx.loaded.config, o.agent)) throw new RouterError("E_USAGE", `agent "${o.agent}" is not enabled`, { agent: o.agent });
      await applyEvent(ctx.deps, id, { type: "retry", ...(o.agent ? { agent: o.agent } : {}) });
      io.out(`task ${id} reopened${o.agent ? ` for ${o.agent}` : ""}`);
    });

  program
    .command("approve")
    .description("approve a task that waits for approval")
    .argument("<id>", "task id", taskId)
    .action(async (id: number, _o, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      await applyEvent(ctx.deps, id, { type: "approve" });
      io.out(`task ${id} approved`);
    });

  program
    .command("cancel")
    .description("cancel a task (a running agent is stopped at its next heartbeat)")
    .argument("<id>", "task id", taskId)
    .option("-r, --reason <text>", "why")
    .action(async (id: number, o: { reason?: string }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      await applyEvent(ctx.deps, id, { type: "cancel", ...(o.reason ? { reason: o.reason } : {}) });
      io.out(`task ${id} cancelled`);
    });
}
