import { Command, CommanderError, InvalidArgumentError } from "commander";
import { gitHubNextSteps, initGitHubWorkflow, initProject } from "../../app/init-project.ts";
import { listTasks, showTask } from "../../app/task-commands.ts";
import { reconcile } from "../../app/reconcile.ts";
import { commandAgentWarnings } from "../../app/check-command-agents.ts";
import { validateLedger } from "../../app/validate-ledger.ts";
import { formatConfigProblem } from "../../adapters/config-fs/load-config.ts";
import { loadJobs } from "../../adapters/config-fs/load-jobs.ts";
import { loadRouting } from "../../adapters/config-fs/load-routing.ts";
import { syncLedger } from "../../adapters/ledger-git/sync-ledger.ts";
import { runGit } from "../../adapters/ledger-git/run-git.ts";
import { findExecutable } from "../../adapters/system/find-executable.ts";
import { projectFiles } from "../../adapters/system/system.ts";
import { isRouterError, RouterError } from "../../core/errors.ts";
import { DEFAULT_WORKFLOW_CRON, workflowOptionProblems, type WorkflowOptions } from "../../core/github-workflow.ts";
import { isAgentEnabled } from "../../core/routing/decide-route.ts";
import { TASK_STATUSES, type TaskStatus } from "../../core/ledger/task.ts";
import { buildCliContext, reconcileDepsOf, type CliContext } from "./build-deps.ts";
import type { CliIo } from "./cli-io.ts";
import { formatTaskDetail, formatTaskTable } from "./format.ts";
import { addRoutingCommands } from "./routing-commands.ts";
import { addWorkerCommands } from "./worker-commands.ts";
import { taskId } from "./task-id-arg.ts";

export type { CliIo } from "./cli-io.ts";


function statusList(value: string, previous: TaskStatus[] = []): TaskStatus[] {
  const parts = value.split(",").map((s) => s.trim());
  const bad = parts.filter((s) => !(TASK_STATUSES as readonly string[]).includes(s));
  if (bad.length > 0) throw new InvalidArgumentError(`unknown status ${bad.join(", ")}; one of ${TASK_STATUSES.join(", ")}`);
  return [...previous, ...(parts as TaskStatus[])];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const DEFAULT_ACTION_REPO = "agent-router/agent-router";

interface InitOptions {
  github?: boolean;
  actionRepo?: string;
  actionSha?: string;
  cron?: string;
}

/** The workflow to write for `init --github`, checked before anything is written; undefined without --github. */
function workflowOptionsOf(o: InitOptions): WorkflowOptions | undefined {
  if (!o.github) {
    if (o.actionRepo !== undefined || o.actionSha !== undefined || o.cron !== undefined) throw new RouterError("E_USAGE", "--action-repo, --action-sha and --cron need --github");
    return undefined;
  }
  const repository = o.actionRepo ?? DEFAULT_ACTION_REPO;
  // The build embeds no commit of its own, so the pin must be given: a guessed SHA would be worse.
  if (o.actionSha === undefined) {
    throw new RouterError("E_USAGE", "init --github needs --action-sha: the commit of the agent-router Action to pin the workflow to", { repository }, {
      fix: `Pass --action-sha with the full 40-character commit of the release you want; \`git ls-remote https://github.com/${repository} 'refs/tags/*'\` lists them (for an annotated tag use its ^{} line).`,
    });
  }
  const opts: WorkflowOptions = { action: { repository, sha: o.actionSha }, ...(o.cron !== undefined ? { cron: o.cron } : {}) };
  const problems = workflowOptionProblems(opts);
  if (problems.length > 0) throw new RouterError("E_USAGE", problems.join("; "), { problems });
  return opts;
}

/** Refuses an override naming an agent that is not enabled or a profile that does not exist. */
async function checkOverride(ctx: CliContext, agent: string | undefined, profile: string | undefined): Promise<void> {
  if (agent !== undefined && !isAgentEnabled(ctx.loaded.config, agent)) {
    throw new RouterError("E_USAGE", `agent "${agent}" is not enabled`, { agent }, { fix: "Use claude, codex or opencode, or enable the agent under agents: in .github/agent-router.yml." });
  }
  if (profile !== undefined && !(await loadRouting(ctx.root, ctx.loaded.config)).profiles.has(profile)) {
    throw new RouterError("E_USAGE", `profile "${profile}" does not exist`, { profile }, { fix: "Use a built-in profile (bugfix, feature, docs, tests, refactor, review, planner, maintenance) or add .github/agent-router/profiles/<name>.yml." });
  }
}

/** Builds the commander program; actions set `state.code`. */
function buildProgram(io: CliIo, state: { code: number }): Command {
  const program = new Command("agent-router")
    .description("Routes GitHub issues, comment commands and schedules to coding agents, through a task ledger in git.")
    .option("-C, --cwd <dir>", "run as if started in <dir>")
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, "")), writeErr: (s) => io.err(s.replace(/\n$/, "")) });
  const where = (cmd: Command): string => (cmd.optsWithGlobals<{ cwd?: string }>().cwd ?? io.cwd);
  const json = (value: unknown): void => io.out(JSON.stringify(value, null, 2));

  program
    .command("init")
    .description("create .github/agent-router.yml and the ledger branch (safe to run again)")
    .option("--github", "also write .github/workflows/agent-router.yml (the GitHub Action workflow)")
    .option("--action-repo <owner/name>", `the agent-router Action's repository (default ${DEFAULT_ACTION_REPO})`)
    .option("--action-sha <sha>", "the full commit of the Action to pin (required with --github)")
    .option("--cron <expr>", `the workflow's reconcile schedule, UTC (default "${DEFAULT_WORKFLOW_CRON}")`)
    .action(async (o: InitOptions, cmd: Command) => {
      const workflow = workflowOptionsOf(o);
      const ctx = await buildCliContext(where(cmd), { allowInvalidConfig: true });
      const r = await initProject(ctx.deps, projectFiles(ctx.root));
      io.out(r.configCreated ? "created .github/agent-router.yml" : ".github/agent-router.yml exists; left as it is");
      io.out(r.ledgerCreated ? `created ${ctx.store.location}` : `${ctx.store.location} exists; left as it is`);
      if (!workflow) return;
      const w = await initGitHubWorkflow(projectFiles(ctx.root), workflow);
      io.out(w.workflowCreated ? `created ${w.path}` : `${w.path} exists; left as it is`);
      for (const line of gitHubNextSteps(ctx.loaded.config)) io.out(line);
    });

  program
    .command("add")
    .description("add a task to the ledger")
    .argument("<title>", "the task's title")
    .option("-b, --body <text>", "the task's description", "")
    .option("-l, --label <name>", "a label (repeat for more)", collect, [])
    .option("-a, --agent <name>", "route to this agent (an explicit override)")
    .option("-p, --profile <name>", "use this role profile (an explicit override)")
    .option("--json", "print the task as JSON")
    .action(async (title: string, o: { body: string; label: string[]; agent?: string; profile?: string; json?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      if (o.agent !== undefined || o.profile !== undefined) await checkOverride(ctx, o.agent, o.profile);
      const hint = { ...(o.agent ? { agent: o.agent } : {}), ...(o.profile ? { profile: o.profile } : {}) };
      const r = await reconcile({ kind: "cli", command: { verb: "add", title, body: o.body, labels: o.label, ...(o.agent || o.profile ? { hint } : {}) } }, await reconcileDepsOf(ctx, io));
      if (r.outcome.kind !== "created") throw new Error("add: the task was not created");
      const task = r.outcome.task;
      if (o.json) json(task);
      else io.out(`task ${task.id} added: ${task.title}`);
    });

  program
    .command("list")
    .description("list tasks")
    .option("-s, --status <statuses>", `only these statuses, comma-separated (${TASK_STATUSES.join(", ")})`, statusList)
    .option("--json", "print JSON")
    .action(async (o: { status?: TaskStatus[]; json?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      const tasks = await listTasks(ctx.deps, o.status ? { status: o.status } : {});
      if (o.json) json(tasks);
      else io.out(formatTaskTable(tasks, ctx.deps.clock.now().toISOString()));
    });

  program
    .command("show")
    .description("show a task's fields and history")
    .argument("<id>", "task id", taskId)
    .option("--json", "print JSON")
    .action(async (id: number, o: { json?: boolean }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      const task = await showTask(ctx.deps, id);
      if (o.json) json(task);
      else io.out(formatTaskDetail(task, ctx.deps.clock.now().toISOString()));
    });

  addRoutingCommands(program, io, where, json);
  addWorkerCommands(program, io, where, (code) => {
    state.code = code;
  });

  program
    .command("validate")
    .description("check the config, profiles, routing rules, classifier template, jobs and the ledger; exit 1 listing every problem")
    .action(async (_o, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd), { allowInvalidConfig: true });
      const ledger = await validateLedger(ctx.store);
      const routing = await loadRouting(ctx.root, ctx.loaded.config);
      const jobs = await loadJobs(ctx.root, new Set(routing.profiles.keys()));
      // The agent runner spawns argv[0] with the host's PATH, from a worktree of this repository.
      const path = io.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin";
      const agents = await commandAgentWarnings(ctx.loaded.config, (program) => findExecutable(program, ctx.root, path));
      const files = [...ctx.loaded.problems, ...agents.map((p) => ({ ...p, file: ctx.loaded.file })), ...routing.problems, ...jobs.problems];
      const errors = [...files.filter((p) => p.severity === "error").map(formatConfigProblem), ...ledger.errors];
      const warnings = [...files.filter((p) => p.severity === "warning").map(formatConfigProblem), ...ledger.warnings];
      for (const w of warnings) io.err(`warning: ${w}`);
      for (const e of errors) io.err(`error: ${e}`);
      if (errors.length > 0) state.code = 1;
      else io.out(`ok: ${ctx.loaded.exists ? ctx.loaded.file : "default config (no .github/agent-router.yml)"}, profiles, routing rules, classifier template, jobs and ${ctx.store.location} are valid`);
    });

  program
    .command("sync")
    .description("pull and push the ledger branch to a remote, merging by task; never forces")
    .option("-r, --remote <name>", "the remote (default: ledger.remote from the config, else origin)")
    .action(async (o: { remote?: string }, cmd: Command) => {
      const ctx = await buildCliContext(where(cmd));
      const remote = o.remote ?? ctx.loaded.config.ledger.remote ?? "origin";
      const known = await runGit(ctx.root, ["remote"]);
      if (!known.stdout.split("\n").includes(remote)) {
        io.err(`error: no git remote named "${remote}"; add one with \`git remote add ${remote} <url>\` or pass --remote`);
        state.code = 1;
        return;
      }
      const r = await syncLedger(ctx.store, { cwd: ctx.root, remote, branch: ctx.loaded.config.ledger.branch, backoff: ctx.deps.backoff });
      const renumbered = r.renumbered.length > 0 ? `; renumbered local tasks ${r.renumbered.map(([a, b]) => `${a}→${b}`).join(", ")}` : "";
      io.out(`${ctx.loaded.config.ledger.branch}: ${r.action}${r.head ? ` at ${r.head.slice(0, 12)}` : ""}${renumbered}`);
    });

  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 usage error. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const state = { code: 0 };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return state.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2;
    if (isRouterError(err)) {
      io.err(`error [${err.code}]: ${err.message}\n  fix: ${err.fix}`);
      return err.code === "E_USAGE" ? 2 : 1;
    }
    io.err(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}


