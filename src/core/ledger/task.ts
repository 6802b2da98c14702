import * as z from "zod";

/** Every status a task can be in. `done`, `failed` and `cancelled` are terminal. */
export const TASK_STATUSES = [
  "new",
  "routed",
  "awaiting_approval",
  "running",
  "waiting",
  "in_review",
  "retrying",
  "needs_help",
  "done",
  "failed",
  "cancelled",
] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["done", "failed", "cancelled"];
export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

const isoTime = z.iso.datetime({ offset: true }).describe("ISO-8601 timestamp, UTC");
const taskId = z.number().int().positive().describe("Ledger-wide task id");

/** Where a task came from. */
export const TaskSource = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("issue"), repo: z.string().min(1).optional(), issue: z.number().int().positive() }).strict(),
  z.object({ kind: z.literal("job"), jobId: z.string().min(1), slot: isoTime }).strict(),
  z.object({ kind: z.literal("parent"), parentId: taskId, key: z.string().min(1) }).strict(),
  z.object({ kind: z.literal("cli") }).strict(),
]);
export type TaskSource = z.infer<typeof TaskSource>;

export const Complexity = z.enum(["low", "medium", "high"]);
export const DecidedBy = z.enum(["override", "rule", "llm", "fallback"]);

export const Usage = z
  .object({
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    costUsd: z.number().nonnegative().optional().describe("Absent when the model's price is unknown"),
    turns: z.number().int().nonnegative().optional(),
  })
  .strict();
export type Usage = z.infer<typeof Usage>;

/** The LLM classifier call made while routing: which model, what it cost, how it ended. */
export const ClassifierCall = z
  .object({
    provider: z.string().min(1),
    model: z.string().min(1),
    usage: Usage,
    calls: z.number().int().min(1).max(2).describe("2 when the repair round was used"),
    durationMs: z.number().int().nonnegative(),
    outcome: z.enum(["verdict", "invalid", "error", "timeout"]),
  })
  .strict();
export type ClassifierCall = z.infer<typeof ClassifierCall>;

/** Which agent runs the task, with which model and profile, and why. */
export const Route = z
  .object({
    agent: z.string().min(1),
    model: z.string().min(1).optional(),
    profile: z.string().min(1),
    complexity: Complexity,
    reason: z.string(),
    decidedBy: DecidedBy,
    classifier: ClassifierCall.optional().describe("Present when the LLM classifier was asked"),
  })
  .strict();
export type Route = z.infer<typeof Route>;

export const AttemptOutcome = z.enum(["success", "failure", "timeout", "lease_expired", "cancelled", "released"]);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

/** One run of an agent on the task. `key` is the attempt's idempotency key and fence. */
export const Attempt = z
  .object({
    n: z.number().int().positive(),
    key: z.string().min(1),
    agent: z.string().min(1),
    model: z.string().min(1).optional(),
    startedAt: isoTime,
    endedAt: isoTime.optional(),
    leaseUntil: isoTime.optional(),
    runUrl: z.string().optional(),
    outcome: AttemptOutcome.optional(),
    errorClass: z.string().optional(),
    error: z.string().optional(),
    usage: Usage.optional(),
    sessionId: z.string().optional(),
  })
  .strict();
export type Attempt = z.infer<typeof Attempt>;

export const Approval = z
  .object({ by: z.string().min(1), at: isoTime, attempt: z.number().int().nonnegative() })
  .strict();
export type Approval = z.infer<typeof Approval>;

/** One entry per accepted transition. `data` holds the event's payload so history can be replayed. */
export const HistoryEvent = z
  .object({
    at: isoTime,
    type: z.string().min(1),
    from: TaskStatus.optional(),
    to: TaskStatus,
    by: z.string().min(1),
    attempt: z.number().int().nonnegative().optional(),
    traceId: z.string().min(1),
    note: z.string().optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type HistoryEvent = z.infer<typeof HistoryEvent>;

/** An explicit routing choice made when the task was created (`add --agent/--profile`, a job's or parent's hint). */
export const RouteHint = z
  .object({ agent: z.string().min(1).optional(), profile: z.string().min(1).optional() })
  .strict()
  .refine((h) => h.agent !== undefined || h.profile !== undefined, "a hint names an agent or a profile");
export type RouteHint = z.infer<typeof RouteHint>;

export const GitHubLinks = z
  .object({
    issue: z.number().int().positive().optional(),
    commentId: z.number().int().positive().optional(),
    pr: z.number().int().positive().optional(),
    branch: z.string().optional(),
    projectItemId: z.string().optional(),
    requester: z
      .object({ login: z.string().min(1), id: z.number().int().positive() })
      .strict()
      .optional()
      .describe("Who opened the issue: a requester may not approve their own task unless approvals.allowSelf"),
    synced: z.number().int().nonnegative().optional().describe("History entries already shown on GitHub; fewer than the history means a sync is due"),
    issueClaim: z
      .object({ at: isoTime, by: z.string().min(1) })
      .strict()
      .optional()
      .describe("A sync creating the issue the router opens for this task (a child's, a scheduled job's) now: others leave it alone while the claim is fresh; gone once the issue is linked"),
  })
  .strict();
export type GitHubLinks = z.infer<typeof GitHubLinks>;

/**
 * The open claim on a task's review (status in_review): one worker reviews it at a time, under a
 * lease kept alive like an attempt's. Not a transition: no history entry; gone once the review is
 * recorded, given back, or the task leaves review.
 */
export const ReviewClaim = z
  .object({ key: z.string().min(1), startedAt: isoTime, leaseUntil: isoTime })
  .strict();
export type ReviewClaim = z.infer<typeof ReviewClaim>;

export const Task = z
  .object({
    id: taskId,
    source: TaskSource,
    title: z.string().min(1),
    body: z.string(),
    labels: z.array(z.string()),
    status: TaskStatus,
    maxAttempts: z.number().int().positive().describe("Failed attempts allowed before the task fails"),
    budgetFrom: z.number().int().positive().describe("Attempt number from which failures count against maxAttempts"),
    route: Route.optional(),
    attempts: z.array(Attempt),
    parentId: taskId.optional(),
    children: z.array(taskId),
    after: z.array(z.string()),
    hint: RouteHint.optional(),
    approvals: z.array(Approval),
    github: GitHubLinks.optional(),
    result: z.record(z.string(), z.unknown()).optional().describe("The last handoff from the agent"),
    retryAt: isoTime.optional(),
    reviewClaim: ReviewClaim.optional().describe("The worker reviewing the task now, while in_review"),
    history: z.array(HistoryEvent).min(1),
  })
  .strict();
export type Task = z.infer<typeof Task>;

/** What a caller supplies to create a task; the ledger assigns the id. */
export const NewTaskInput = z
  .object({
    source: TaskSource,
    title: z.string().trim().min(1, "a task needs a title"),
    body: z.string().default(""),
    labels: z.array(z.string().min(1)).default([]),
    maxAttempts: z.number().int().positive().default(3),
    parentId: taskId.optional(),
    after: z.array(z.string()).default([]),
    hint: RouteHint.optional(),
  })
  .strict();
export type NewTaskInput = z.input<typeof NewTaskInput>;
