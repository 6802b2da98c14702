import { findTask } from "../core/ledger/ledger.ts";
import type { Effect } from "../core/ledger/events.ts";
import type { Route } from "../core/ledger/task.ts";
import type { AgentRunPlan, AgentRunRequest } from "../core/ports.ts";
import type { AttemptResult, RunOutcome } from "../core/reconcile/attempt-result.ts";
import type { ReviewResult } from "../core/reconcile/review-result.ts";
import type { Claim, ReconcileInput, ReconcilePlan, ReviewStart, TriggerOutcome } from "../core/reconcile/plan-reconcile.ts";
import { planReconcile } from "../core/reconcile/plan-reconcile.ts";
import type { Trigger } from "../core/reconcile/trigger.ts";
import { describeTrigger } from "../core/reconcile/trigger.ts";
import type { RouteDecision } from "../core/routing/decide-route.ts";
import { decideRoute, mentionedPaths } from "../core/routing/decide-route.ts";
import type { Ledger } from "../core/ledger/ledger.ts";
import type { ReconcileDeps, WorkerIo } from "./app-deps.ts";
import { mirrorToGitHub } from "./sync-github.ts";
import { contextOf, logOf, mutateOptionsOf, redactOf } from "./app-deps.ts";
import type { Redact } from "../core/secrets/redact.ts";
import { redactDeep } from "../core/secrets/redact.ts";
import { commentWantsPermission } from "../core/reconcile/apply-comment.ts";
import { issueWantsPermission } from "../core/reconcile/apply-trigger.ts";
import { checkCommenter } from "./check-commenter.ts";
import { planTaskBundle } from "./build-context.ts";
import { mutateLedger } from "./mutate-ledger.ts";
import type { PerformOutcome } from "./perform-attempt.ts";
import { performAttempt } from "./perform-attempt.ts";
import { performReview } from "./review-task.ts";

/** Where `run_attempt`, `run_review` and `cancel_attempt` effects go: the local pool, or (Actions) a dispatch. */
export interface Executor {
  runAttempt(claim: Claim): void;
  runReview(review: ReviewStart): void;
  /** Stops a running attempt of this process now (other workers notice at their next heartbeat). */
  cancelAttempt(taskId: number, key: string): void;
}

export interface ReconcileOptions {
  /** Decide and print the plan; write nothing, run nothing, ask no classifier. */
  dryRun?: boolean;
  /** Finished attempts to record in this reconcile's commit. */
  results?: readonly AttemptResult[];
  /** Finished reviews (a dispatched reviewer's) to record in this reconcile's commit. */
  reviewResults?: readonly ReviewResult[];
  /** Attempts whose worker is known dead on this machine. */
  orphans?: readonly { taskId: number; key: string }[];
  /** Attempts this reconcile may claim (0 by default), and tasks this worker already runs. */
  claim?: { limit: number; busy?: ReadonlySet<number> };
  reviews?: { limit: number; busy?: ReadonlySet<number> };
  executor?: Executor;
  /** Needed for a Work trigger, and for a dry run's agent commands. */
  worker?: WorkerIo;
  signal?: AbortSignal;
}

export interface ReconcileResult {
  trigger: Trigger;
  /** The ledger as this reconcile left it (as it would be, for a dry run). */
  ledger: Ledger;
  outcome: TriggerOutcome;
  claims: Claim[];
  reviews: ReviewStart[];
  recorded: RunOutcome[];
  effects: Effect[];
  /** Route decisions made for this reconcile (with their trail), by task id. */
  decisions: Map<number, RouteDecision>;
  written: boolean;
  dryRun: boolean;
  /** One line per change and per effect: what a dry run prints. */
  plan: string[];
  /** Dry run only: the exact agent command each claim would run. */
  agentPlans: { claim: Claim; plan: AgentRunPlan }[];
  /** A Work trigger: what performing the attempt gave. */
  work?: PerformOutcome;
}

/** Triggers whose reconcile routes every new task (the CLI's own verbs route only when asked). */
function routesNewTasks(trigger: Trigger): boolean {
  return trigger.kind !== "cli" || trigger.command.verb === "serve";
}

/**
 * The one orchestration every entrypoint calls: load the ledger, decide in the core, write one
 * compare-and-swap commit that records the intents, then perform the effects through ports. Every
 * reconcile also does the tick work. `--dry-run` is enforced here and nowhere else: the plan is
 * decided the same way, printed, and nothing is written, run or asked.
 */
export async function reconcile(received: Trigger, deps: ReconcileDeps, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const log = logOf(deps).child({ trigger: describeTrigger(received) });
  const dryRun = opts.dryRun === true;
  // Results carry what agents wrote (summaries, errors, questions, notes), and issues and comments
  // what anyone wrote: redacted before anything is recorded (the ledger is published).
  const redact = redactOf(deps);
  const trigger = redactTrigger(received, redact);
  const results = (opts.results ?? []).map((r) => redactDeep(r, redact));
  const reviewResults = (opts.reviewResults ?? []).map((r) => redactDeep(r, redact));
  const plan: string[] = [];
  let work: PerformOutcome | undefined;
  if (trigger.kind === "work" && "review" in trigger) {
    // A claimed review: performed here, its decision recorded in this reconcile's commit.
    if (!opts.worker) throw new Error("reconcile: a Work trigger needs the worker's io");
    if (dryRun) plan.push(`would review task ${trigger.taskId} (key ${trigger.key})`);
    else {
      const reviewed = await performReview(deps, opts.worker, { taskId: trigger.taskId, key: trigger.key }, opts.signal);
      if (reviewed.kind === "not_mine") log.warn("not performing a review this worker was not given", { why: reviewed.why });
      else reviewResults.push(redactDeep(reviewed, redact));
    }
  } else if (trigger.kind === "work") {
    if (!opts.worker) throw new Error("reconcile: a Work trigger needs the worker's io");
    if (dryRun) plan.push(`would perform attempt ${trigger.attempt} (key ${trigger.key}) of task ${trigger.taskId}`);
    else {
      work = await performAttempt(deps, opts.worker, { taskId: trigger.taskId, key: trigger.key }, opts.signal);
      if (work.kind === "not_mine") log.warn("not performing an attempt this worker was not given", { why: work.why });
      else results.push(redactDeep(work, redact));
    }
  }

  const input = (ledger: Ledger, routes: ReadonlyMap<number, Route>): ReconcileInput => ({
    ledger,
    trigger,
    ctx: contextOf(deps),
    config: deps.config,
    profiles: deps.routing.profiles,
    jobs: deps.jobs ?? [],
    routes,
    results,
    reviewResults,
    orphans: opts.orphans ?? [],
    claim: { limit: opts.claim?.limit ?? 0, busy: opts.claim?.busy ?? new Set() },
    reviews: { limit: opts.reviews?.limit ?? 0, busy: opts.reviews?.busy ?? new Set() },
    keyFor: deps.keyFor,
    random: deps.random,
    ...(commenter ? { commenter } : {}),
  });

  // Routes are decided before the commit (the classifier is a network call), for the tasks that the
  // plan leaves new; a task created in a retried write may get another id and is routed next time.
  const snapshot = await deps.store.read();
  // A comment that could steer a task: who wrote it may (write access or above), asked only then.
  // So may whoever opened or labelled an issue that would become a task.
  const asking = trigger.kind === "comment" && commentWantsPermission(snapshot.ledger, trigger, deps.config.github.commandPrefix) ? trigger.comment.author : trigger.kind === "issue" && issueWantsPermission(snapshot.ledger, trigger, deps.config) ? trigger.sender : undefined;
  const commenter = asking && deps.github ? await checkCommenter(deps.github.api, asking.login, deps.github.permissionTimeoutMs) : undefined;
  // Only a trigger that routes needs the preview (which tasks the plan leaves new); serve's hot
  // loop otherwise plans once.
  const routing = routesNewTasks(trigger) || (trigger.kind === "cli" && trigger.command.verb === "route");
  const preview = routing ? planReconcile(input(snapshot.ledger, new Map())).ledger : snapshot.ledger;
  const decisions = routing ? await decideRoutes(deps, trigger, preview, dryRun) : new Map<number, RouteDecision>();
  // A route's reasons may quote the classifier's answer: redacted like an agent's text.
  const routes = new Map([...decisions].map(([id, d]) => [id, redactDeep(d.route, redact)]));

  let decided: ReconcilePlan;
  let written = false;
  if (dryRun) {
    decided = planReconcile(input(snapshot.ledger, routes));
  } else {
    const m = await mutateLedger(
      deps.store,
      (snap) => {
        const fresh = snap.head === snapshot.head ? routes : routesStillFor(routes, preview, planReconcile(input(snap.ledger, new Map())).ledger);
        const p = planReconcile(input(snap.ledger, fresh));
        return { ledger: p.ledger, result: p, summary: p.lines.length === 0 ? "" : commitSummary(trigger, p.lines) };
      },
      { ...mutateOptionsOf(deps), first: snapshot },
    );
    decided = m.result;
    written = m.written;
  }
  plan.push(...decided.lines);
  const agentPlans = dryRun && opts.worker ? await planAgents(deps, opts.worker, decided) : [];
  plan.push(...performEffects(decided, dryRun, opts.executor, log));
  if (deps.github) plan.push(...(await mirrorToGitHub(deps, deps.github, decided, dryRun)));
  if (written) log.info("reconciled", { changes: decided.lines.length, claims: decided.claims.length });
  return { trigger, ledger: decided.ledger, outcome: decided.outcome, claims: decided.claims, reviews: decided.reviews, recorded: decided.recorded, effects: decided.effects, decisions, written, dryRun, plan, agentPlans, ...(work ? { work } : {}) };
}

/**
 * Routes are decided on a preview, before the commit, and keyed by task id. When the write is retried
 * on a ledger another writer changed, a task the preview created (from an issue, a job's slot) may
 * get another id, and its old id may now be another writer's task: a route is kept only for the task
 * it was decided for (same source and title). A task left without one is routed by the next reconcile.
 */
function routesStillFor(routes: ReadonlyMap<number, Route>, preview: Ledger, planned: Ledger): Map<number, Route> {
  const identity = (ledger: Ledger, id: number): string | undefined => {
    const t = findTask(ledger, id);
    return t && JSON.stringify([t.source, t.title]);
  };
  return new Map([...routes].filter(([id]) => identity(planned, id) !== undefined && identity(planned, id) === identity(preview, id)));
}

/** The trigger with what people wrote (issue title and body, comment) redacted. */
function redactTrigger(t: Trigger, redact: Redact): Trigger {
  if (t.kind === "issue") return { ...t, issue: { ...t.issue, title: redact(t.issue.title), body: redact(t.issue.body) } };
  if (t.kind === "comment") return { ...t, comment: { ...t.comment, body: redact(t.comment.body) } };
  return t;
}

/** First line: the trigger and the number of changes; then one line per change. */
function commitSummary(trigger: Trigger, lines: readonly string[]): string {
  const head = `${describeTrigger(trigger)}: ${lines.length === 1 ? lines[0]! : `${lines.length} changes`}`;
  return lines.length === 1 ? head : `${head}\n\n${lines.join("\n")}`;
}

/** The one gate for side effects: a dry run describes them, a real run hands them to their port. */
function performEffects(p: ReconcilePlan, dryRun: boolean, executor: Executor | undefined, log: ReturnType<typeof logOf>): string[] {
  const lines: string[] = [];
  for (const e of p.effects) {
    // GitHub effects are performed (or, in a dry run, listed) by mirrorToGitHub when there is a
    // GitHub adapter; the local CLI has none and skips them.
    if (e.class === "github") {
      log.debug("github effect left to the GitHub mirror", { effect: e.kind, taskId: e.taskId });
      continue;
    }
    if (dryRun) {
      lines.push(`would ${describeEffect(e)}`);
      continue;
    }
    switch (e.kind) {
      case "run_attempt": {
        const claim = p.claims.find((c) => c.key === e.key);
        if (claim) executor?.runAttempt(claim);
        break;
      }
      case "run_review":
        executor?.runReview(p.reviews.find((r) => r.key === e.key) ?? { taskId: e.taskId, key: e.key });
        break;
      case "cancel_attempt":
        executor?.cancelAttempt(e.taskId, e.key);
        break;
    }
  }
  return lines;
}

function describeEffect(e: Effect): string {
  switch (e.kind) {
    case "run_attempt":
      return `run attempt ${e.attempt} of task ${e.taskId} (key ${e.key})`;
    case "run_review":
      return `review task ${e.taskId} (key ${e.key})`;
    case "cancel_attempt":
      return `stop the running attempt ${e.key} of task ${e.taskId}`;
    default:
      return `${e.kind} for task ${e.taskId}`;
  }
}

/** Routes for the tasks this trigger routes. A dry run never asks the classifier. */
async function decideRoutes(deps: ReconcileDeps, trigger: Trigger, ledger: Ledger, dryRun: boolean): Promise<Map<number, RouteDecision>> {
  const ids = trigger.kind === "cli" && trigger.command.verb === "route" ? [trigger.command.taskId] : routesNewTasks(trigger) ? ledger.tasks.filter((t) => t.status === "new").map((t) => t.id) : [];
  const out = new Map<number, RouteDecision>();
  for (const id of ids) {
    const found = findTask(ledger, id);
    if (!found) continue;
    const routable = { title: found.title, body: found.body, labels: found.labels, paths: mentionedPaths(`${found.title}\n${found.body}`) };
    const from: "job" | "parent" | "cli" = found.source.kind === "job" || found.source.kind === "parent" ? found.source.kind : "cli";
    const hint = found.hint ? { ...found.hint, from } : undefined;
    let decision = decideRoute(routable, deps.routing, hint);
    if (decision.wantsVerdict && deps.classifier && !dryRun) {
      const { outcome, call } = await deps.classifier.classify(routable, deps.routing);
      const withVerdict = decideRoute(routable, deps.routing, hint, outcome);
      decision = { ...withVerdict, route: { ...withVerdict.route, classifier: call } };
    } else if (decision.wantsVerdict && deps.classifier && dryRun) {
      decision = { ...decision, trail: [...decision.trail, `dry run: the classifier (${deps.classifier.describe}) was not asked`] };
    }
    out.set(id, decision);
  }
  return out;
}

/** A dry run's exact agent commands: the bundle planned as the attempt would see it, nothing written. */
async function planAgents(deps: ReconcileDeps, io: WorkerIo, p: ReconcilePlan): Promise<{ claim: Claim; plan: AgentRunPlan }[]> {
  const out: { claim: Claim; plan: AgentRunPlan }[] = [];
  for (const claim of p.claims) {
    const task = findTask(p.ledger, claim.taskId)!;
    const before = { ...task, attempts: task.attempts.filter((a) => a.key !== claim.key) };
    const { plan: bundle, profile } = await planTaskBundle(deps.config, p.ledger, before, { profiles: io.profiles, repo: io.repoFor(before.id), boundary: io.newBoundary() });
    const timeoutMs = (deps.config.agents[claim.agent]?.timeoutMinutes ?? profile.timeoutMinutes) * 60_000;
    const request: AgentRunRequest = { taskId: claim.taskId, key: claim.key, agent: claim.agent, ...(claim.model ? { model: claim.model } : {}), profile, bundle: bundle.text, workdir: `(a new worktree for attempt ${claim.attempt} of task ${claim.taskId})`, timeoutMs };
    out.push({ claim, plan: io.runner.plan(request) });
  }
  return out;
}
