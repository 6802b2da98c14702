import type { Command } from "commander";
import type { ReconcileResult } from "../../app/reconcile.ts";
import { reconcile } from "../../app/reconcile.ts";
import { serve } from "../../app/serve.ts";
import { RouterError } from "../../core/errors.ts";
import type { AgentProcesses, ReapedRun } from "../../core/ports.ts";
import type { RunOutcome } from "../../core/reconcile/attempt-result.ts";
import type { CliCommand } from "../../core/reconcile/trigger.ts";
import { isAgentEnabled } from "../../core/routing/decide-route.ts";
import { buildCliContext, reconcileDepsOf, validRouting, workerIoOf } from "./build-deps.ts";
import type { CliIo } from "./cli-io.ts";
import { progressReporter } from "./progress.ts";
import { taskId } from "./task-id-arg.ts";

function describe(o: RunOutcome): string {
  switch (o.kind) {
    case "recorded": {
      const r = o.record;
      const cost = r.costUsd === undefined ? "" : `, $${r.costUsd.toFixed(4)}`;
      return `task ${o.taskId} attempt ${o.attempt}: ${o.status} (${o.note.slice(0, 300)}); ${r.inputTokens} in / ${r.outputTokens} out tokens${cost}, ${(r.durationMs / 1000).toFixed(1)} s${r.filesChanged.length ? `, changed ${r.filesChanged.join(", ")}` : ""}`;
    }
    case "decided":
    case "router_error":
      return `task ${o.taskId}: ${o.status} (${o.note})`;
    case "stale":
      return `task ${o.taskId}: ${o.note}`;
    case "released":
      return `task ${o.taskId}: stopped; its claim was given back`;
  }
}

const shellWord = (a: string): string => (/^[\w./:=@-]+$/.test(a) ? a : JSON.stringify(a));

/** A dry run: the exact agent commands, then every change and effect a real run would make. */
function printPlan(io: CliIo, r: ReconcileResult): void {
  for (const { claim, plan } of r.agentPlans) {
    io.out([`task ${claim.taskId} would run ${claim.agent}${claim.model ? ` (${claim.model})` : ""} in ${plan.cwd}`, `  command: ${plan.argv.map(shellWord).join(" ")}`, `  environment: ${plan.envNames.join(", ")}`, `  bundle: ${plan.bundlePath} (on stdin)`].join("\n"));
  }
  if (r.plan.length > 0) io.out(["plan (nothing was written, run or asked: --dry-run):", ...r.plan.map((l) => `  - ${l}`)].join("\n"));
}

function reportOrphans(io: CliIo, reaped: readonly ReapedRun[]): void {
  for (const o of reaped) io.err(`stopped agent process group ${o.pgid} of task ${o.taskId}, left running by a worker that died; the task moves on`);
}

/**
 * Runs `fn` with a signal that the first SIGINT or SIGTERM aborts (agents stop, claims are given
 * back); a second signal kills every agent this process started at once and exits. On any exit the
 * agents' process groups are killed too, so none outlives its worker.
 */
async function withStopSignals<T>(io: CliIo, processes: AgentProcesses, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      io.err(`${name}: stopping: waiting for running agents to stop and give their tasks back… (again to kill them now)`);
      stop.abort();
      return;
    }
    processes.killOwn();
    io.err(`${name} again: agents killed; their tasks move on when their leases lapse`);
    process.exit(130);
  };
  const onExit = (): void => processes.killOwn();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", onExit);
  try {
    return await fn(stop.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("exit", onExit);
    processes.killOwn();
  }
}

/** `run ID` and `next`: claim one attempt in one reconcile, perform it as its worker, record it in the next. */
async function runOne(io: CliIo, cwd: string, command: Extract<CliCommand, { verb: "run" | "next" }>, dryRun: boolean, setCode: (code: number) => void): Promise<void> {
  const ctx = await buildCliContext(cwd, { io });
  const routing = await validRouting(ctx);
  const deps = await reconcileDepsOf(ctx, io, { routing });
  const { worker, processes } = await workerIoOf(ctx, io, routing);
  const trigger = { kind: "cli" as const, command };
  if (dryRun) {
    const r = await reconcile(trigger, deps, { dryRun: true, claim: { limit: 1 }, worker });
    if (r.outcome.kind === "not_runnable") io.out(`task ${r.outcome.taskId} is not runnable: ${r.outcome.why}`);
    else if (r.outcome.kind === "awaiting_approval") io.out(`task ${r.outcome.taskId} needs approval first: agent-router approve ${r.outcome.taskId}`);
    else if (r.outcome.kind === "ignored") io.out(r.outcome.why);
    printPlan(io, r);
    return;
  }
  await withStopSignals(io, processes, async (signal) => {
    const orphans = await processes.reapOrphans();
    reportOrphans(io, orphans);
    const r = await reconcile(trigger, deps, { orphans, claim: { limit: 1 } });
    switch (r.outcome.kind) {
      case "claimed": {
        const { taskId: id, attempt, key } = r.outcome.claim;
        const w = await reconcile({ kind: "work", taskId: id, attempt, key }, deps, { worker, signal });
        const recorded = w.recorded.find((o) => o.taskId === id);
        if (recorded) io.out(describe(recorded));
        else if (w.work?.kind === "not_mine") io.out(`task ${id}: ${w.work.why}`);
        return;
      }
      case "not_runnable":
        io.out(`task ${r.outcome.taskId} is not runnable: ${r.outcome.why}`);
        setCode(1);
        return;
      case "awaiting_approval":
        io.out(`task ${r.outcome.taskId} needs approval first: agent-router approve ${r.outcome.taskId}`);
        return;
      case "ignored":
        io.out(r.outcome.why);
        return;
      default:
        io.out("nothing to run");
    }
  });
}

/** `retry`, `approve`, `cancel`: one event in one reconcile, or with --dry-run what it would do. */
async function applyVerb(io: CliIo, cwd: string, command: Extract<CliCommand, { verb: "retry" | "approve" | "cancel" }>, dryRun: boolean, done: string): Promise<void> {
  const ctx = await buildCliContext(cwd, { io });
  if (command.verb === "retry" && command.agent !== undefined && !isAgentEnabled(ctx.loaded.config, command.agent)) throw new RouterError("E_USAGE", `agent "${command.agent}" is not enabled`, { agent: command.agent });
  const r = await reconcile({ kind: "cli", command }, await reconcileDepsOf(ctx, io), { dryRun });
  if (!dryRun) return io.out(done);
  if (r.outcome.kind === "moved") io.out(`task ${r.outcome.taskId}: ${r.outcome.event} would move it from ${r.outcome.from} to ${r.outcome.to}; nothing was written (--dry-run)`);
  printPlan(io, r);
}

/** `next`, `run`, `serve`, `retry`, `approve`, `cancel`. */
export function addWorkerCommands(program: Command, io: CliIo, where: (cmd: Command) => string, setCode: (code: number) => void): void {
  program
    .command("run")
    .description("run one attempt of a task with its routed agent, in a worktree of its own")
    .argument("<id>", "task id", taskId)
    .option("--dry-run", "print the exact command, environment names, bundle path and the plan; change nothing")
    .action(async (id: number, o: { dryRun?: boolean }, cmd: Command) => runOne(io, where(cmd), { verb: "run", taskId: id }, o.dryRun === true, setCode));

  program
    .command("next")
    .description("run the next runnable task (lowest id)")
    .option("--dry-run", "print what would run; change nothing")
    .action(async (o: { dryRun?: boolean }, cmd: Command) => runOne(io, where(cmd), { verb: "next" }, o.dryRun === true, setCode));

  program
    .command("serve")
    .description("route and run tasks until stopped (Ctrl-C finishes cleanly and leaves nothing claimed)")
    .option("-j, --parallelism <n>", "tasks run at once (default: execution.parallelism)", (v) => {
      if (!/^[1-9]\d*$/.test(v)) throw new RouterError("E_USAGE", "parallelism is a positive whole number");
      return Number(v);
    })
    .option("--until-idle", "exit once nothing is runnable, running, in review or due to retry")
    .option("--dry-run", "print what one round would do now (commands, environment names, bundle paths, the plan); change nothing")
    .action(async (o: { parallelism?: number; untilIdle?: boolean; dryRun?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd), { io });
      const routing = await validRouting(ctx);
      const parallelism = o.parallelism ?? ctx.loaded.config.execution.parallelism;
      const deps = await reconcileDepsOf(ctx, io, { routing, classifier: o.dryRun !== true });
      const { worker, processes } = await workerIoOf(ctx, io, routing);
      if (o.dryRun) {
        const r = await reconcile({ kind: "cli", command: { verb: "serve" } }, deps, { dryRun: true, claim: { limit: parallelism }, reviews: { limit: parallelism }, worker });
        if (r.agentPlans.length === 0) io.out("nothing would run now (see `agent-router list`)");
        printPlan(io, r);
        return;
      }
      const progress = progressReporter(io.stdout ?? { write: (t) => io.out(t.replace(/\n$/, "")) });
      try {
        await withStopSignals(io, processes, async (signal) => {
          const orphans = await processes.reapOrphans();
          reportOrphans(io, orphans);
          const outcomes = await serve(deps, worker, { parallelism, untilIdle: o.untilIdle === true, signal, orphans, onEvent: (e) => progress.event(e) });
          progress.stop();
          io.out(`served ${outcomes.length} attempt${outcomes.length === 1 ? "" : "s"}`);
        });
      } finally {
        progress.stop();
      }
    });

  program
    .command("retry")
    .description("reopen a finished, failed, cancelled or stuck task for a fresh attempt budget")
    .argument("<id>", "task id", taskId)
    .option("-a, --agent <name>", "retry with this agent")
    .option("--dry-run", "say what would change; write nothing")
    .action(async (id: number, o: { agent?: string; dryRun?: boolean }, cmd: Command) =>
      applyVerb(io, where(cmd), { verb: "retry", taskId: id, ...(o.agent ? { agent: o.agent } : {}) }, o.dryRun === true, `task ${id} reopened${o.agent ? ` for ${o.agent}` : ""}`),
    );

  program
    .command("approve")
    .description("approve a task that waits for approval")
    .argument("<id>", "task id", taskId)
    .option("--dry-run", "say what would change; write nothing")
    .action(async (id: number, o: { dryRun?: boolean }, cmd: Command) => applyVerb(io, where(cmd), { verb: "approve", taskId: id }, o.dryRun === true, `task ${id} approved`));

  program
    .command("cancel")
    .description("cancel a task (an agent running in another process stops at its next heartbeat)")
    .argument("<id>", "task id", taskId)
    .option("-r, --reason <text>", "why")
    .option("--dry-run", "say what would change; write nothing")
    .action(async (id: number, o: { reason?: string; dryRun?: boolean }, cmd: Command) =>
      applyVerb(io, where(cmd), { verb: "cancel", taskId: id, ...(o.reason ? { reason: o.reason } : {}) }, o.dryRun === true, `task ${id} cancelled`),
    );
}
