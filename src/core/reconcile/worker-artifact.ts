/**
 * What a read-only worker run hands to the run that records it (the Action's `worker` and `record`
 * jobs): the attempt's result as JSON, beside a git bundle of the task branch. The worker job ran
 * an agent, so everything in it is untrusted: it is read back through a schema (numbers are
 * numbers, strings are bounded), the handoff is validated again exactly as a local run's is, and
 * the result must name the attempt the router dispatched; anything else becomes a router error
 * for that attempt (the task retries), never an exception and never another task's result.
 */
import { z } from "zod";
import { FAILURE_CLASSES } from "../agents/classify-failure.ts";
import { parseHandoffJson } from "../handoff/handoff.ts";
import type { AttemptResult } from "./attempt-result.ts";

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

export const WorkerArtifact = z
  .object({
    schemaVersion: z.literal(WORKER_ARTIFACT_VERSION),
    taskId: z.number().int().positive(),
    key: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
    /** The task branch's head in the bundle, when the attempt committed. */
    branchHead: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/).nullable(),
    outcome: Outcome,
  })
  .strict();
export type WorkerArtifact = z.infer<typeof WorkerArtifact>;

/** The result as the worker writes it. A valid handoff travels as its JSON, and is read again on the other side. */
export function toWorkerArtifact(result: AttemptResult, branchHead: string | null): WorkerArtifact {
  const base = { schemaVersion: WORKER_ARTIFACT_VERSION, taskId: result.taskId, key: result.key, branchHead } as const;
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
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return fail("the worker's result is not JSON");
  }
  const parsed = WorkerArtifact.safeParse(value);
  if (!parsed.success) return fail(`the worker's result is malformed: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  const a = parsed.data;
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

