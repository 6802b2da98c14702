import { chooseAgent } from "../agents/choose-agent.ts";
import type { MainConfig } from "../config/main-config.ts";
import type { Profile } from "../config/profile.ts";
import { addTask } from "../ledger/create-task.ts";
import type { Effect, TaskEvent, TransitionContext } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { findTask, replaceTask, requireTask } from "../ledger/ledger.ts";
import type { Route, Task, TaskStatus } from "../ledger/task.ts";
import { isTerminal } from "../ledger/task.ts";
import { transition } from "../ledger/transition.ts";
import { isRunnable, planTick, runnableTasks } from "../scheduling/plan-tick.ts";
import type { AttemptResult, RunOutcome } from "./attempt-result.ts";
import { recordResult } from "./attempt-result.ts";
import type { Trigger } from "./trigger.ts";

/** A claimed attempt: what a worker (local, or a dispatched Actions run) is told to perform. */
export interface Claim {
  taskId: number;
  attempt: number;
  key: string;
  agent: string;
  model?: string;
}

export interface ReconcileInput {
  ledger: Ledger;
  trigger: Trigger;
  ctx: TransitionContext;
  config: MainConfig;
  profiles: ReadonlyMap<string, Profile>;
  /** Routes decided before the commit (rules, classifier, fallback), by task id. */
  routes: ReadonlyMap<number, Route>;
  /** Finished attempts to record in this commit. */
  results: readonly AttemptResult[];
  /** Attempts whose owning worker is known to be dead (its agents were stopped on this machine). */
  orphans: readonly { taskId: number; key: string }[];
  /** How many attempts this reconcile may claim, and which tasks this worker already runs. */
  claim: { limit: number; busy: ReadonlySet<number> };
  /** How many reviews may be claimed (their effects go to the executor), and tasks this worker already reviews. */
  reviews: { limit: number; busy: ReadonlySet<number> };
  /** The attempt's idempotency key: one formula, sha256(taskId|attempt) in production. */
  keyFor: (taskId: number, attempt: number) => string;
  random: () => number;
}

/** What the trigger itself asked for, and what came of it. */
export type TriggerOutcome =
  | { kind: "none" }
  | { kind: "duplicate"; deliveryId: string }
  | { kind: "ignored"; why: string }
  | { kind: "created"; task: Task }
  | { kind: "moved"; taskId: number; event: TaskEvent["type"]; from: TaskStatus; to: TaskStatus }
  | { kind: "routed"; taskId: number; route: Route; previous?: Route }
  | { kind: "claimed"; claim: Claim }
  | { kind: "not_runnable"; taskId: number; why: string }
  | { kind: "awaiting_approval"; taskId: number };

/** A review this reconcile claimed: the worker that runs it holds `key` (fenced like an attempt's). */
export interface ReviewStart {
  taskId: number;
  key: string;
}

export interface ReconcilePlan {
  ledger: Ledger;
  /** The intents this commit records, performed after it lands (or printed by a dry run). */
  effects: Effect[];
  claims: Claim[];
  reviews: ReviewStart[];
  recorded: RunOutcome[];
  outcome: TriggerOutcome;
  /** One line per change, for the commit message and the dry-run plan. Empty: nothing to write. */
  lines: string[];
}

/** How long webhook delivery ids are kept for dedupe. */
export const DELIVERY_TTL_DAYS = 7;

const CLAIM_VERBS = new Set(["run", "next", "serve"]);

/**
 * One reconcile, decided purely: the trigger's own change, then the results to record, then the
 * tick work (expired leases, failed dependencies, parents whose children settled), then routes,
 * approval gates and claims up to the limit. Whatever the trigger, the tick work is done
 * (level-triggered), so a dropped or cancelled run loses nothing.
 */
export function planReconcile(input: ReconcileInput): ReconcilePlan {
  const { ctx } = input;
  const d = new Draft(input.ledger, ctx);
  const recorded: RunOutcome[] = [];

  // 1. The trigger's own change.
  let outcome: TriggerOutcome = { kind: "none" };
  const delivery = "deliveryId" in input.trigger ? input.trigger.deliveryId : undefined;
  if (delivery !== undefined && d.ledger.deliveries.some((x) => x.id === delivery)) {
    outcome = { kind: "duplicate", deliveryId: delivery };
  } else {
    outcome = applyTrigger(d, input);
    // An ignored delivery changes nothing, so a redelivery is ignored again: no need to remember it (nor a commit).
    if (delivery !== undefined && outcome.kind !== "ignored") {
      const cutoff = new Date(Date.parse(ctx.now) - DELIVERY_TTL_DAYS * 86_400_000).toISOString();
      d.ledger = { ...d.ledger, deliveries: [...d.ledger.deliveries.filter((x) => x.at >= cutoff), { id: delivery, at: ctx.now }] };
      d.lines.push(`delivery ${delivery}`);
    }
  }

  // 2. Results of finished attempts, each fenced by its key.
  for (const result of input.results) {
    const r = recordResult(d.ledger, result, { config: input.config, profiles: input.profiles, ctx, random: input.random });
    d.ledger = r.ledger;
    recorded.push(r.outcome);
    d.lines.push(r.line);
  }

  // 3. Attempts whose worker is proven dead move on now, without waiting for the lease.
  for (const o of input.orphans) {
    const open = findTask(d.ledger, o.taskId);
    const attempt = open?.attempts.at(-1);
    if (open?.status === "running" && attempt?.key === o.key && attempt.endedAt === undefined) {
      d.step(o.taskId, { type: "lease_expired", key: o.key, retryAt: ctx.now }, `task ${o.taskId}: its worker died; attempt ${attempt.n} ended`);
    } else if (open?.status === "in_review" && open.reviewClaim?.key === o.key) {
      d.patch(o.taskId, { reviewClaim: undefined }, `task ${o.taskId}: its reviewer died; the review is given back`);
    }
  }

  // 4. The tick work.
  for (const { taskId, event } of planTick(d.ledger, ctx.now)) d.step(taskId, event, `tick: ${event.type} #${taskId}`);

  // 5. Routes decided before the commit, for tasks still waiting for one.
  const routeVerb = input.trigger.kind === "cli" && input.trigger.command.verb === "route" ? input.trigger.command.taskId : undefined;
  for (const [taskId, route] of input.routes) {
    const task = findTask(d.ledger, taskId);
    if (!task || (task.status !== "new" && taskId !== routeVerb)) continue;
    const previous = task.route;
    d.step(taskId, { type: "route", route }, `task ${taskId} routed to ${route.agent}/${route.profile} (${route.decidedBy})`);
    if (taskId === routeVerb) outcome = { kind: "routed", taskId, route, ...(previous ? { previous } : {}) };
  }

  // 6. Approval gates, then claims.
  const claims: Claim[] = [];
  const only = onlyTask(input.trigger);
  const verb = input.trigger.kind === "cli" ? input.trigger.command.verb : undefined;
  const claiming = verb === undefined || CLAIM_VERBS.has(verb) ? input.claim.limit : 0;
  const candidates = only !== undefined ? [findTask(d.ledger, only)].filter((t): t is Task => t !== undefined) : runnableTasks(d.ledger, ctx.now);
  for (const candidate of candidates) {
    if (claims.length >= claiming) break;
    if (input.claim.busy.has(candidate.id)) continue;
    const task = findTask(d.ledger, candidate.id)!;
    if (!isRunnable(d.ledger, task, ctx.now)) {
      if (only !== undefined) outcome = { kind: "not_runnable", taskId: task.id, why: notRunnableWhy(task) };
      continue;
    }
    const profile = input.profiles.get(task.route!.profile);
    if (!profile) {
      d.step(task.id, { type: "escalate", reason: `profile "${task.route!.profile}" does not exist; route the task again or add the profile` }, `task ${task.id}: needs help (unknown profile)`);
      if (only !== undefined) outcome = { kind: "not_runnable", taskId: task.id, why: `profile "${task.route!.profile}" does not exist` };
      continue;
    }
    if (profile.approval === "before_run" && task.approvals.length === 0) {
      d.step(task.id, { type: "require_approval", reason: `profile ${profile.name} needs approval before it runs` }, `task ${task.id}: awaiting approval`);
      if (only !== undefined) outcome = { kind: "awaiting_approval", taskId: task.id };
      continue;
    }
    const choice = chooseAgent(task, input.config);
    const agent = "exhausted" in choice ? task.route!.agent : choice.agent;
    const model = "exhausted" in choice ? task.route!.model : choice.model;
    const attempt = task.attempts.length + 1;
    const key = input.keyFor(task.id, attempt);
    const leaseUntil = new Date(Date.parse(ctx.now) + input.config.execution.leaseMinutes * 60_000).toISOString();
    d.step(task.id, { type: "start", key, agent, ...(model ? { model } : {}), leaseUntil }, `task ${task.id} attempt ${attempt} claimed for ${agent}`);
    const claim: Claim = { taskId: task.id, attempt, key, agent, ...(model ? { model } : {}) };
    claims.push(claim);
    if (only !== undefined || verb === "next") outcome = { kind: "claimed", claim };
  }
  if (verb === "next" && claims.length === 0 && outcome.kind === "none") outcome = { kind: "ignored", why: "nothing to run" };

  // 7. Reviews to start, each claimed in the ledger (a key and a lease) so that two workers never pay
  // for the same review; a claim whose lease ended (its worker died) is taken over.
  const reviews: ReviewStart[] = [];
  for (const t of d.ledger.tasks) {
    if (reviews.length >= input.reviews.limit) break;
    if (t.status !== "in_review" || input.reviews.busy.has(t.id)) continue;
    if (t.reviewClaim && t.reviewClaim.leaseUntil > ctx.now) continue;
    const key = reviewKey(ctx.now, t);
    const leaseUntil = new Date(Date.parse(ctx.now) + input.config.execution.leaseMinutes * 60_000).toISOString();
    d.patch(t.id, { reviewClaim: { key, startedAt: ctx.now, leaseUntil } }, `task ${t.id}: review claimed${t.reviewClaim ? " (the previous reviewer's lease ended)" : ""}`);
    reviews.push({ taskId: t.id, key });
    d.effects.push({ kind: "run_review", class: "agent", taskId: t.id, key });
  }
  return { ledger: d.ledger, effects: d.effects, claims, reviews, recorded, outcome, lines: d.lines };
}

/** The ledger as this reconcile changes it, with the effects and commit lines gathered so far. */
class Draft {
  effects: Effect[] = [];
  lines: string[] = [];
  constructor(
    public ledger: Ledger,
    private readonly ctx: TransitionContext,
  ) {}

  /** Applies one event to one task (throws IllegalTransition when refused). */
  step(taskId: number, event: TaskEvent, line: string): Task {
    const r = transition(requireTask(this.ledger, taskId), event, this.ctx);
    this.ledger = replaceTask(this.ledger, r.task);
    this.effects.push(...r.effects);
    this.lines.push(line);
    return r.task;
  }

  /** Changes fields that are not state (a claim's lease); no history entry. `undefined` removes a field. */
  patch(taskId: number, fields: Partial<Task>, line: string): void {
    const next: Record<string, unknown> = { ...requireTask(this.ledger, taskId), ...fields };
    for (const [k, v] of Object.entries(fields)) if (v === undefined) delete next[k];
    this.ledger = replaceTask(this.ledger, next as Task);
    this.lines.push(line);
  }

  /** Applies an event and reports the move. */
  move(taskId: number, event: TaskEvent, line: string): TriggerOutcome {
    const from = requireTask(this.ledger, taskId).status;
    const to = this.step(taskId, event, line).status;
    return { kind: "moved", taskId, event: event.type, from, to };
  }
}

/**
 * A review claim's key: the task, the attempt under review, and the claim's time (a lapsed claim's
 * successor is claimed later, so its key differs; one reconcile claims a task's review at most once).
 */
function reviewKey(now: string, task: Task): string {
  return `review-${task.id}-${task.attempts.length}-${Date.parse(now).toString(36)}`;
}

function onlyTask(trigger: Trigger): number | undefined {
  return trigger.kind === "cli" && trigger.command.verb === "run" ? trigger.command.taskId : undefined;
}

function notRunnableWhy(task: Task): string {
  if (task.status === "retrying" && task.retryAt) return `retrying at ${task.retryAt}`;
  if (task.status === "routed") return "waiting for the tasks it comes after";
  return `status ${task.status}`;
}


/** The trigger's own change to the ledger. */
function applyTrigger(d: Draft, input: ReconcileInput): TriggerOutcome {
  const t = input.trigger;
  switch (t.kind) {
    case "cli": {
      const c = t.command;
      switch (c.verb) {
        case "add": {
          const added = addTask(d.ledger, { source: { kind: "cli" }, title: c.title, body: c.body, labels: c.labels, maxAttempts: input.config.execution.maxAttempts, ...(c.hint ? { hint: c.hint } : {}) }, input.ctx);
          d.ledger = added.ledger;
          d.lines.push(`task ${added.task.id} created: ${c.title.slice(0, 60)}`);
          return { kind: "created", task: added.task };
        }
        case "route":
        case "run":
          requireTask(d.ledger, c.taskId);
          return { kind: "none" };
        case "retry":
          return d.move(c.taskId, { type: "retry", ...(c.agent ? { agent: c.agent } : {}) }, `task ${c.taskId} reopened${c.agent ? ` for ${c.agent}` : ""}`);
        case "approve":
          return d.move(c.taskId, { type: "approve" }, `task ${c.taskId} approved`);
        case "cancel":
          return d.move(c.taskId, { type: "cancel", ...(c.reason ? { reason: c.reason } : {}) }, `task ${c.taskId} cancelled`);
        case "next":
        case "serve":
          return { kind: "none" };
      }
      break;
    }
    case "issue":
      return applyIssue(d, input, t);
    case "comment":
      // Commands and answers from comments need GitHub's permission check (the GitHub sync issue).
      return { kind: "ignored", why: "comment commands are not handled yet" };
    case "tick":
    case "work":
      return { kind: "none" };
  }
  return { kind: "none" };
}

/** A labelled issue becomes a task (once per issue); closing the issue cancels its live task. */
function applyIssue(d: Draft, input: ReconcileInput, t: Extract<Trigger, { kind: "issue" }>): TriggerOutcome {
  const existing = d.ledger.tasks.filter((task) => task.source.kind === "issue" && task.source.issue === t.issue.number && task.parentId === undefined);
  const live = existing.find((task) => !isTerminal(task.status));
  const label = input.config.github.triggerLabel;
  if (t.action === "closed") {
    if (!live) return { kind: "ignored", why: `no live task for issue #${t.issue.number}` };
    return d.move(live.id, { type: "cancel", reason: `issue #${t.issue.number} was closed` }, `task ${live.id} cancelled: issue closed`);
  }
  const wanted = (t.action === "opened" || t.action === "labeled" || t.action === "reopened") && t.issue.labels.includes(label);
  if (!wanted) return { kind: "ignored", why: `issue #${t.issue.number} ${t.action} without the "${label}" label` };
  if (existing.length > 0) return { kind: "ignored", why: `issue #${t.issue.number} already has task ${existing.at(-1)!.id}` };
  const agentLabel = t.issue.labels.find((l) => l.startsWith("agent:"))?.slice("agent:".length);
  const added = addTask(
    d.ledger,
    { source: { kind: "issue", issue: t.issue.number }, title: t.issue.title.trim() || `Issue #${t.issue.number}`, body: t.issue.body, labels: t.issue.labels, maxAttempts: input.config.execution.maxAttempts, ...(agentLabel ? { hint: { agent: agentLabel } } : {}) },
    input.ctx,
  );
  d.ledger = added.ledger;
  d.lines.push(`task ${added.task.id} created from issue #${t.issue.number}`);
  return { kind: "created", task: added.task };
}
