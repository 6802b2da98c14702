import { chooseAgent } from "../agents/choose-agent.ts";
import { chooseReviewer } from "../agents/settle-review.ts";
import { approvedToRun } from "../ledger/approval.ts";
import { findTask } from "../ledger/ledger.ts";
import type { Task } from "../ledger/task.ts";
import { planJobs } from "../scheduling/plan-jobs.ts";
import { isRunnable, planTick, runnableTasks } from "../scheduling/plan-tick.ts";
import type { RunOutcome } from "./attempt-result.ts";
import { recordResult } from "./attempt-result.ts";
import { applyTrigger } from "./apply-trigger.ts";
import { Draft } from "./draft.ts";
import { recordReview } from "./review-result.ts";
import type { Claim, ReconcileInput, ReconcilePlan, ReviewStart, TriggerOutcome } from "./reconcile-types.ts";
import type { Trigger } from "./trigger.ts";

export type { Claim, ReconcileInput, ReconcilePlan, ReviewStart, TriggerOutcome } from "./reconcile-types.ts";

/** How long webhook delivery ids are kept for dedupe. */
export const DELIVERY_TTL_DAYS = 7;

const CLAIM_VERBS = new Set(["run", "next", "serve"]);

/**
 * One reconcile, decided purely: the trigger's own change, then the results to record, then the
 * tick work (expired leases, failed dependencies, parents whose children settled, scheduled jobs'
 * due slots), then routes, approval gates and claims up to the limit. Whatever the trigger, the
 * tick work is done (level-triggered), so a dropped or cancelled run loses nothing.
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
    // An ignored or refused delivery changes nothing, so a redelivery is ignored or refused again: no
    // need to remember it (nor a commit; its reaction or reply is idempotent on GitHub).
    if (delivery !== undefined && outcome.kind !== "ignored" && outcome.kind !== "refused") {
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
  // Finished reviews, each fenced by its claim's key (a late one changes nothing).
  for (const review of input.reviewResults ?? []) {
    const r = recordReview(d.ledger, review, ctx);
    d.ledger = r.ledger;
    recorded.push(r.outcome);
    if (r.line !== "") d.lines.push(r.line);
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
  // Scheduled jobs: a task per due slot, after the results and the tick so that a job whose task
  // ended in this reconcile may start its next one; routed below like any new task.
  const scheduled = planJobs(d.ledger, input.jobs, ctx, { maxAttempts: input.config.execution.maxAttempts });
  d.ledger = scheduled.ledger;
  d.lines.push(...scheduled.lines);

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
    if (profile.approval === "before_run" && !approvedToRun(task, ctx.now, input.config.approvals.expireDays)) {
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
    const reviewer = chooseReviewer(t, input.config, input.profiles.get("review"));
    reviews.push({ taskId: t.id, key, ...(reviewer ? { agent: reviewer } : {}) });
    d.effects.push({ kind: "run_review", class: "agent", taskId: t.id, key });
  }
  return { ledger: d.ledger, effects: d.effects, claims, reviews, recorded, outcome, lines: d.lines };
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
