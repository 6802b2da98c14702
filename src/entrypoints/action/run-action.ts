// The GitHub Action: reads the event, builds the deps on GitHub (the ledger on its branch through
// the API, the Octokit adapter, the repository's config from the checkout), and runs one of three
// modes: `auto` reconciles the event and dispatches a worker run per claimed attempt or review;
// `worker` performs the dispatched attempt (or review) with a read-only token and leaves its result
// as an artifact; `record` pushes that attempt's branch and records its result (or the review's
// decision). Then it writes the step's outputs and its summary. Every mode is level-triggered: a
// run that is dropped or cancelled loses nothing.
import { appendFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliAgentRunner } from "../../adapters/agent-cli/cli-agent-runner.ts";
import { ensureAgentCli } from "../../adapters/agent-cli/install-cli.ts";
import { processRegistry } from "../../adapters/agent-cli/process-registry.ts";
import { runFolders } from "../../adapters/agent-cli/run-folders.ts";
import { classifierFromEnv } from "../../adapters/classifier-ai/classifier-from-env.ts";
import { toConfigSource } from "../../adapters/config-fs/config-source.ts";
import { repoFiles } from "../../adapters/context-fs/repo-files.ts";
import { createOctokit } from "../../adapters/github/create-octokit.ts";
import { triggerFromEvent } from "../../adapters/github/event-trigger.ts";
import { octokitGitHub } from "../../adapters/github/octokit-github.ts";
import { githubLedgerStore } from "../../adapters/ledger-github/github-ledger-store.ts";
import { git } from "../../adapters/ledger-git/run-git.ts";
import { pinoLog } from "../../adapters/log-pino/pino-log.ts";
import { attemptKey, newBoundary, newTraceId, systemBackoff, systemClock, systemTimer } from "../../adapters/system/system.ts";
import { gitAuthEnv } from "../../adapters/workspace-git/git-auth-env.ts";
import { gitWorktrees } from "../../adapters/workspace-git/git-worktrees.ts";
import type { GitHubIo, ReconcileDeps, WorkerIo } from "../../app/app-deps.ts";
import type { ReconcileResult } from "../../app/reconcile.ts";
import { reconcileOnGitHub, settleDispatches } from "../../app/reconcile-github.ts";
import { DispatchExecutor, performForRecord, recordFromWorker, recordReviewFromWorker, reviewForRecord } from "../../app/remote-worker.ts";
import { chooseReviewer } from "../../core/agents/settle-review.ts";
import type { MainConfig } from "../../core/config/main-config.ts";
import { RouterError } from "../../core/errors.ts";
import { findTask } from "../../core/ledger/ledger.ts";
import type { Log } from "../../core/ports.ts";
import type { TriggerOutcome } from "../../core/reconcile/reconcile-types.ts";
import type { Trigger, Work } from "../../core/reconcile/trigger.ts";
import { BUNDLE_FILE, RESULT_FILE } from "../../core/reconcile/worker-artifact.ts";
import { makeRedactor, secretValuesOf } from "../../core/secrets/redact.ts";
import { renderStepSummary } from "../../core/sync/step-summary.ts";
import { pullUrl } from "../../core/sync/task-links.ts";
import type { ActionSettings } from "./action-settings.ts";
import { readSettings } from "./action-settings.ts";
import { loadRepoSetup, withWorkerLease } from "../shared/repo-setup.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface ActionIo {
  env: Env;
  /** Spacing of GitHub writes; GitHub's advice (1 s, 3 s for notifications) unless a test needs it faster. */
  limits?: { writeMinTimeMs: number; notificationMinTimeMs: number };
  /** Log lines (JSON) go here: the step's log. */
  stderr: { write(text: string): unknown };
  /** Stops agents and the run (the runner's SIGTERM on cancel). */
  signal?: AbortSignal;
}

/** What the step reports (also its outputs). */
export interface ActionReport {
  taskId: number | null;
  status: string | null;
  prUrl: string | null;
  /** Worker mode: the folder to upload. */
  artifactDir?: string;
}


export async function runAction(io: ActionIo): Promise<ActionReport> {
  const s = readSettings(io.env);
  const traceId = newTraceId();
  // Every secret the step holds (the tokens, the agents' keys) is kept out of the ledger, comments and logs.
  const redact = makeRedactor([...secretValuesOf(io.env), s.token, ...(s.projectToken ? [s.projectToken] : []), ...Object.values(s.agentEnv)]);
  const level = io.env["RUNNER_DEBUG"] === "1" ? "debug" : "info";
  const log = pinoLog({ traceId, level, destination: io.stderr, pretty: false, redact });
  const event = { name: s.eventName, payload: JSON.parse(await readFile(s.eventPath, "utf8")) as unknown };
  const reading = triggerFromEvent(event);
  if ("ignored" in reading) {
    log.info("event ignored", { event: s.eventName, why: reading.ignored });
    await writeSummary(s, `### agent-router: ${s.eventName} ignored\n\n${reading.ignored}\n`);
    return await finish(s, { taskId: null, status: null, prUrl: null });
  }
  const trigger = reading.trigger;
  const deps = await buildDeps(s, io, log, traceId, redact);
  switch (s.mode) {
    case "auto":
      return auto(s, deps, trigger, log);
    case "worker":
      return worker(s, io, deps, mustWork(trigger, s.mode), log);
    case "record":
      return record(s, deps, mustWork(trigger, s.mode), log);
  }
}

function mustWork(t: Trigger, mode: string): Work {
  if (t.kind !== "work") throw new RouterError("E_USAGE", `mode ${mode} needs a workflow_dispatch with task, attempt and key inputs (or task and review); this run got ${t.kind === "tick" ? "a run without them" : `a ${t.kind} event`}`, { mode }, { fix: "Run mode worker and record only in the jobs that `agent-router init --github` guards with `inputs.task != ''`." });
  return t;
}

async function auto(s: ActionSettings, deps: Deps, trigger: Trigger, log: Log): Promise<ActionReport> {
  if (trigger.kind === "work") throw new RouterError("E_USAGE", "a worker dispatch reached mode auto", {}, { fix: "Give the worker job mode: worker (see `agent-router init --github`)." });
  const executor = new DispatchExecutor(deps.github, { workflow: s.workflow, ref: await deps.github.api.defaultBranch() }, log);
  // Reviews are dispatched to worker runs too, and count against the same limit; a scheduled (or
  // manual) run also takes up labelled issues whose own run never came.
  const run = await reconcileOnGitHub(trigger, deps, { executor, maxWorkers: s.maxWorkers, dryRun: s.dryRun });
  return report(s, deps, { ...run.last, plan: run.plan }, taskOf(run.result.outcome, trigger));
}

async function worker(s: ActionSettings, io: ActionIo, deps: Deps, work: Work, log: Log): Promise<ActionReport> {
  // A folder left by an earlier step of this job is not this attempt's.
  await rm(s.artifactDir, { recursive: true }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  });
  await mkdir(s.artifactDir, { recursive: true });
  if (s.dryRun) {
    log.info("dry run: the attempt is not performed", { taskId: work.taskId, key: work.key });
    return finish(s, { taskId: work.taskId, status: null, prUrl: null, artifactDir: s.artifactDir });
  }
  const io2 = await workerIo(s, io, deps, await agentOf(deps, work));
  if ("review" in work) {
    // A review leaves only its decision: whatever the reviewer changed is thrown away.
    const reviewed = await reviewForRecord(deps, io2, work, io.signal);
    if (reviewed.artifact) await writeFile(join(s.artifactDir, RESULT_FILE), `${JSON.stringify(reviewed.artifact)}\n`);
    const decision = reviewed.outcome.kind === "reviewed" ? reviewed.outcome.event.decision : reviewed.outcome.kind;
    log.info("review performed; its decision is handed to the record job", { taskId: work.taskId, key: work.key, outcome: decision });
    await writeSummary(s, `### agent-router: reviewer for task ${work.taskId}\n\nOutcome: \`${decision}\`. The record job records it.\n`);
    return finish(s, { taskId: work.taskId, status: null, prUrl: null, artifactDir: s.artifactDir });
  }
  const done = await performForRecord(deps, io2, work, join(s.artifactDir, BUNDLE_FILE), io.signal);
  if (done.artifact) await writeFile(join(s.artifactDir, RESULT_FILE), `${JSON.stringify(done.artifact)}\n`);
  log.info("attempt performed; its result is handed to the record job", { taskId: work.taskId, key: work.key, outcome: done.outcome.kind, branchHead: done.artifact?.branchHead ?? null });
  await writeSummary(s, `### agent-router: worker for task ${work.taskId}, attempt ${work.attempt}\n\nOutcome: \`${done.outcome.kind}\`. The record job pushes the branch and records it.\n`);
  return finish(s, { taskId: work.taskId, status: null, prUrl: null, artifactDir: s.artifactDir });
}

async function record(s: ActionSettings, deps: Deps, work: Work, log: Log): Promise<ActionReport> {
  const json = await readFile(join(s.downloadDir, RESULT_FILE), "utf8").catch(() => null);
  if (json === null) log.warn("review" in work ? "no result from the worker job; the review is given back" : "no result from the worker job; the attempt is recorded as a router error", { taskId: work.taskId, key: work.key });
  if (s.dryRun) return finish(s, { taskId: work.taskId, status: null, prUrl: null });
  const executor = new DispatchExecutor(deps.github, { workflow: s.workflow, ref: await deps.github.api.defaultBranch() }, log);
  const r =
    "review" in work
      ? await recordReviewFromWorker(deps, work, json, { executor, claimLimit: s.maxWorkers })
      : await recordFromWorker(deps, gitWorktrees(s.workspace, { remote: "origin", remoteEnv: gitAuthEnv(s.serverUrl, s.token) }), work, json, join(s.downloadDir, BUNDLE_FILE), { executor, claimLimit: s.maxWorkers });
  const after = await settleDispatches(deps, executor);
  return report(s, deps, after ?? r, work.taskId);
}

function taskOf(outcome: TriggerOutcome, trigger: Trigger): number | null {
  if ("taskId" in outcome && typeof outcome.taskId === "number") return outcome.taskId;
  if (outcome.kind === "created") return outcome.task.id;
  if (trigger.kind === "work") return trigger.taskId;
  return null;
}

async function report(s: ActionSettings, deps: Deps, r: ReconcileResult, taskId: number | null): Promise<ActionReport> {
  // After the mirror wrote back what GitHub assigned (the pull request); a dry run has only its plan.
  const ledger = s.dryRun ? r.ledger : (await deps.store.read()).ledger;
  const task = taskId === null ? undefined : findTask(ledger, taskId);
  const repo = { repository: `${s.owner}/${s.repo}`, serverUrl: s.serverUrl };
  const touched = [...new Set([...(taskId !== null ? [taskId] : []), ...r.claims.map((c) => c.taskId), ...r.reviews.map((v) => v.taskId), ...r.recorded.map((o) => o.taskId)])];
  await writeSummary(s, renderStepSummary({ ledger, taskIds: touched, repo, title: `${s.eventName} (${s.mode})`, lines: r.plan, dryRun: s.dryRun }));
  return finish(s, { taskId: task?.id ?? null, status: task?.status ?? null, prUrl: task?.github?.pr !== undefined ? pullUrl(repo, task.github.pr) : null });
}

async function finish(s: ActionSettings, r: ActionReport): Promise<ActionReport> {
  if (s.outputFile) {
    const lines = [`task-id=${r.taskId ?? ""}`, `status=${r.status ?? ""}`, `pr-url=${r.prUrl ?? ""}`, ...(r.artifactDir ? [`artifact-dir=${r.artifactDir}`] : [])];
    await appendFile(s.outputFile, `${lines.join("\n")}\n`);
  }
  return r;
}

async function writeSummary(s: ActionSettings, text: string): Promise<void> {
  if (s.summaryFile) await appendFile(s.summaryFile, text);
}

type Deps = ReconcileDeps & { github: GitHubIo };

async function buildDeps(s: ActionSettings, io: ActionIo, log: Log, traceId: string, redact: (t: string) => string): Promise<Deps> {
  const setup = await loadRepoSetup(configSource(s));
  // A claim's lease covers the whole worker run (workers cannot renew it: their token is read-only);
  // the trigger-label input wins over the config.
  const leased = withWorkerLease(setup);
  const config: MainConfig = { ...leased, github: { ...leased.github, ...(s.triggerLabel ? { triggerLabel: s.triggerLabel } : {}) } };
  const throttle = io.limits ? { throttle: io.limits } : {};
  const octokit = createOctokit({ token: s.token, baseUrl: s.apiUrl, log, ...throttle });
  const projectOctokit = s.projectToken ? createOctokit({ token: s.projectToken, baseUrl: s.apiUrl, log, ...throttle }) : undefined;
  const api = octokitGitHub(octokit, { owner: s.owner, repo: s.repo, log, ...(projectOctokit ? { projectOctokit } : {}) });
  const store = githubLedgerStore(api, { branch: config.ledger.branch, path: config.ledger.path });
  const classifier = s.mode === "auto" ? await classifierFromEnv(config.router.classifier, { ...io.env, ...s.agentEnv }, setup.classifierTemplate) : { classifier: null, why: "not needed" };
  if (!classifier.classifier) log.info("no classifier: rules and the fallback route tasks", { why: classifier.why });
  return {
    store,
    clock: systemClock,
    backoff: systemBackoff,
    config,
    traceId,
    actor: `github:${s.actor}`,
    conflictBaseDelayMs: 500,
    log,
    redact,
    github: { api, serverUrl: s.serverUrl, ...(s.runUrl ? { runUrl: s.runUrl } : {}) },
    routing: { ...setup.routing, config },
    classifier: classifier.classifier,
    keyFor: attemptKey,
    random: Math.random,
    jobs: setup.jobs,
  };
}

/** The checkout, with the config read from the `config` input's path. */
function configSource(s: ActionSettings) {
  const tree = toConfigSource(s.workspace);
  const wanted = s.configPath.replace(/^\.\//, "");
  if (wanted === ".github/agent-router.yml") return tree;
  return { describe: tree.describe, read: (path: string) => tree.read(path === ".github/agent-router.yml" ? wanted : path), list: (dir: string) => tree.list(dir) };
}


/**
 * The agent the dispatched attempt was claimed for, as the ledger says (undefined when it is no
 * longer open); for a review, the reviewer the review will choose.
 */
async function agentOf(deps: Deps, work: Work): Promise<string | undefined> {
  const task = findTask((await deps.store.read()).ledger, work.taskId);
  if ("review" in work) return (task && chooseReviewer(task, deps.config, deps.routing.profiles.get("review"))) ?? undefined;
  return task?.attempts.find((a) => a.key === work.key)?.agent;
}

async function workerIo(s: ActionSettings, io: ActionIo, deps: Deps, agent: string | undefined): Promise<WorkerIo> {
  const common = await git(s.workspace, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
  const runRoot = join(common, "agent-router", "runs");
  const processes = processRegistry(join(common, "agent-router", "procs"));
  // The agents see PATH and the one key their CLI needs (the runner's allowlist); never the GitHub token.
  // The pinned CLI of a built-in agent, installed when the runner lacks it (kept in the runner's tool cache).
  const cli = agent ? await ensureAgentCli(agent, io.env, join(io.env["RUNNER_TOOL_CACHE"] ?? io.env["RUNNER_TEMP"] ?? tmpdir(), "agent-router-clis")) : { path: io.env["PATH"] };
  const hostEnv = { PATH: cli.path, ...s.agentEnv };
  return {
    runner: cliAgentRunner({ config: deps.config, hostEnv, runRoot, processes }),
    workspaces: gitWorktrees(s.workspace, { remote: "origin", remoteEnv: gitAuthEnv(s.serverUrl, s.token) }),
    repoFor: (taskId: number) => repoFiles(s.workspace, { taskId }),
    root: s.workspace,
    profiles: deps.routing.profiles,
    newBoundary,
    timer: systemTimer,
    runFolders: runFolders(runRoot),
  };
}
