/**
 * What a read-only worker run hands to the run that records it (the Action's `worker` and `record`
 * jobs): an attempt's result as JSON, beside a git bundle of the task branch, or a review's decision
 * (`kind: "review"`; no bundle: a reviewer's changes are thrown away). The worker job ran an agent,
 * so everything in it is untrusted: it is read back through a schema (numbers are numbers, strings
 * are bounded, a decision is approve or request_changes), an attempt's handoff is validated again
 * exactly as a local run's is, and the result must name the attempt or review the router
 * dispatched. Anything else becomes a router error for that attempt (the task retries) or, for a
 * review, asks a person; never an exception and never another task's result.
 */
import { z } from "zod";
import { FAILURE_CLASSES } from "../agents/classify-failure.ts";
import { parseHandoffJson } from "../handoff/handoff.ts";
import type { AttemptResult } from "./attempt-result.ts";
import type { ReviewResult } from "./review-result.ts";

export const WORKER_ARTIFACT_VERSION = 1;
/** The file the worker writes in its artifact folder. */
export const RESULT_FILE = "result.json";
/** The git bundle of the task branch beside it (absent when the attempt committed nothing). */
export const BUNDLE_FILE = "branch.bundle";

const text = (max: number) => z.string().max(max);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const RunRecordSchema = z
  .object({
    ok: z.boolean(),
    stopReason: text(500).optional(),
    turns: count.optional(),
    inputTokens: count,
    outputTokens: count,
    cacheReadTokens: count.optional(),
    costUsd: z.number().nonnegative().max(1e6).optional(),
    sessionId: text(200).optional(),
    deniedActions: z.array(text(500)).max(200),
    finalText: text(200_000),
    errorText: text(200_000),
    exitCode: z.number().int().nullable(),
    timedOut: z.boolean(),
    costReason: text(500).optional(),
    filesChanged: z.array(text(4096)).max(100_000),
    failure: z.enum(FAILURE_CLASSES).optional(),
    durationMs: count,
    handoffFile: z.object({ bytes: count, readBytes: count, raw: text(200_000) }).strict().optional(),
  })
  .strict();

const Outcome = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ran"), record: RunRecordSchema, handoffJson: text(1_000_000).nullable(), handoffProblem: text(5000).nullable() }).strict(),
  z.object({ kind: z.literal("released"), reason: text(2000) }).strict(),
  z.object({ kind: z.literal("router_error"), message: text(20_000) }).strict(),
]);

const taskId = z.number().int().positive();
const key = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);

const AttemptArtifact = z
  .object({
    schemaVersion: z.literal(WORKER_ARTIFACT_VERSION),
    /** Absent in artifacts written before reviews ran in worker runs: those are attempts. */
    kind: z.literal("attempt").optional(),
    taskId,
    key,
    /** The task branch's head in the bundle, when the attempt committed. */
    branchHead: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/).nullable(),
    outcome: Outcome,
  })
  .strict();

/** The `review` event as `settleReview` made it (recorded as it is, fenced by the review claim's key). */
const ReviewEventSchema = z
  .object({
    type: z.literal("review"),
    decision: z.enum(["approve", "request_changes"]),
    notes: text(20_000).optional(),
    reviewer: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).optional(),
    usage: z.object({ inputTokens: count, outputTokens: count, costUsd: z.number().nonnegative().max(1e6).optional(), turns: count.optional() }).strict().optional(),
    needsHelp: z.boolean().optional(),
  })
  .strict();

const ReviewOutcome = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("reviewed"), event: ReviewEventSchema, record: RunRecordSchema.optional() }).strict(),
  z.object({ kind: z.literal("escalate"), reason: text(2000) }).strict(),
  z.object({ kind: z.literal("released"), reason: text(2000) }).strict(),
]);

const ReviewArtifact = z
  .object({
    schemaVersion: z.literal(WORKER_ARTIFACT_VERSION),
    kind: z.literal("review"),
    taskId,
    /** The review claim's key. */
    key,
    review: ReviewOutcome,
  })
  .strict();

export const WorkerArtifact = z.discriminatedUnion("kind", [AttemptArtifact, ReviewArtifact]);
export type WorkerArtifact = z.infer<typeof WorkerArtifact>;
export type AttemptArtifact = z.infer<typeof AttemptArtifact>;
export type ReviewArtifact = z.infer<typeof ReviewArtifact>;

/** The result as the worker writes it. A valid handoff travels as its JSON, and is read again on the other side. */
export function toWorkerArtifact(result: AttemptResult, branchHead: string | null): AttemptArtifact {
  const base = { schemaVersion: WORKER_ARTIFACT_VERSION, kind: "attempt", taskId: result.taskId, key: result.key, branchHead } as const;
  switch (result.kind) {
    case "ran":
      return {
        ...base,
        outcome: { kind: "ran", record: result.record, handoffJson: result.handoff.ok ? JSON.stringify(result.handoff.handoff) : null, handoffProblem: result.handoff.ok ? null : result.handoff.problem },
      };
    case "released":
      return { ...base, outcome: { kind: "released", reason: result.reason } };
    case "router_error":
      return { ...base, outcome: { kind: "router_error", message: result.message } };
  }
}

/**
 * The attempt's result from the artifact's JSON text (or null: there was none), for the attempt the
 * router dispatched. The branch head is what the bundle must bring; null when nothing was committed.
 */
export function fromWorkerArtifact(json: string | null, expected: { taskId: number; key: string }): { result: AttemptResult; branchHead: string | null } {
  const fail = (message: string) => ({ result: { kind: "router_error" as const, taskId: expected.taskId, key: expected.key, message }, branchHead: null });
  if (json === null) return fail("the worker run ended without a result (it failed, timed out or was cancelled before the agent finished; see its run)");
  const read = readArtifact(json);
  if (typeof read === "string") return fail(read);
  if (read.kind === "review") return fail(`the worker's result is a review's; it was dispatched for task ${expected.taskId}, attempt ${expected.key}`);
  const a = read;
  if (a.taskId !== expected.taskId || a.key !== expected.key) return fail(`the worker's result names task ${a.taskId}, attempt ${a.key}; it was dispatched for task ${expected.taskId}, attempt ${expected.key}`);
  const o = a.outcome;
  switch (o.kind) {
    case "ran": {
      const record = o.record;
      const handoff = o.handoffJson === null ? { ok: false as const, problem: o.handoffProblem ?? "no valid handoff" } : parseHandoffJson(o.handoffJson, "file");
      return { result: { kind: "ran", taskId: a.taskId, key: a.key, record, handoff }, branchHead: a.branchHead };
    }
    case "released":
      return { result: { kind: "released", taskId: a.taskId, key: a.key, reason: o.reason }, branchHead: null };
    case "router_error":
      return { result: { kind: "router_error", taskId: a.taskId, key: a.key, message: o.message }, branchHead: null };
  }
}


/** A review's result as the worker writes it. */
export function toReviewArtifact(result: ReviewResult): ReviewArtifact {
  const base = { schemaVersion: WORKER_ARTIFACT_VERSION, kind: "review", taskId: result.taskId, key: result.key } as const;
  switch (result.kind) {
    case "reviewed":
      return { ...base, review: { kind: "reviewed" as const, event: result.event, ...(result.record ? { record: result.record } : {}) } };
    case "escalate":
      return { ...base, review: { kind: "escalate" as const, reason: result.reason } };
    case "released":
      return { ...base, review: { kind: "released" as const, reason: result.reason } };
  }
}

/**
 * The review's result from the artifact's JSON text, for the review the router dispatched. No
 * artifact (the worker run died, or was not this review's) gives the claim back, so a later
 * reconcile dispatches the review again; a malformed or foreign one is no valid decision, and a
 * person is asked (never an approval, and no loop of reviews that keep failing the same way).
 */
export function fromReviewArtifact(json: string | null, expected: { taskId: number; key: string }): ReviewResult {
  const { taskId, key } = expected;
  if (json === null) return { kind: "released", taskId, key, reason: "the worker run ended without a review (it failed, timed out or was cancelled before the reviewer finished; see its run)" };
  const fail = (why: string): ReviewResult => ({ kind: "escalate", taskId, key, reason: `the reviewer's worker run gave no valid result: ${why}` });
  const read = readArtifact(json);
  if (typeof read === "string") return fail(read);
  if (read.kind !== "review") return fail(`the worker's result is an attempt's; it was dispatched for the review ${key} of task ${taskId}`);
  if (read.taskId !== taskId || read.key !== key) return fail(`the worker's result names task ${read.taskId}, review ${read.key}; it was dispatched for task ${taskId}, review ${key}`);
  const r = read.review;
  switch (r.kind) {
    case "reviewed":
      return { kind: "reviewed", taskId, key, event: r.event, ...(r.record ? { record: r.record } : {}) };
    case "escalate":
      return { kind: "escalate", taskId, key, reason: r.reason };
    case "released":
      return { kind: "released", taskId, key, reason: r.reason };
  }
}

/** The artifact read through the schema, or what is wrong with it (paths and zod's words only, never its text). */
function readArtifact(json: string): WorkerArtifact | string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return "the worker's result is not JSON";
  }
  const parsed = WorkerArtifact.safeParse(value);
  if (!parsed.success) return `the worker's result is malformed: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`;
  return parsed.data;
}
