// The worker artifact (what the Action's worker job hands to its record job), read back through a
// schema: an attempt's result, or a review's decision (kind "review"); artifacts of attempts written
// before reviews ran in workers (no kind) stay valid.
import { describe, expect, it } from "vitest";
import type { RunRecord } from "../../../src/core/agents/run-record.ts";
import { readHandoff } from "../../../src/core/handoff/handoff.ts";
import type { ReviewResult } from "../../../src/core/reconcile/review-result.ts";
import { fromReviewArtifact, fromWorkerArtifact, toReviewArtifact, toWorkerArtifact, WorkerArtifact } from "../../../src/core/reconcile/worker-artifact.ts";

const record = (over: Partial<RunRecord> = {}): RunRecord => ({ ok: true, exitCode: 0, timedOut: false, inputTokens: 120, outputTokens: 30, costUsd: 0.01, deniedActions: [], filesChanged: [], finalText: "looked", errorText: "", durationMs: 900, ...over });
const REVIEW = { taskId: 4, key: "review-4-1-mf3k2a1" };
const reviewed = (decision: "approve" | "request_changes"): ReviewResult => ({
  kind: "reviewed",
  ...REVIEW,
  event: { type: "review", decision, notes: "Handle empty rows.", reviewer: "codex", usage: { inputTokens: 120, outputTokens: 30, costUsd: 0.01 } },
  record: record(),
});
const roundTrip = (r: ReviewResult): ReviewResult => fromReviewArtifact(JSON.stringify(toReviewArtifact(r)), REVIEW);

describe("the worker artifact of a review", () => {
  it.each<[string, ReviewResult]>([
    ["an approval", reviewed("approve")],
    ["a change request", reviewed("request_changes")],
    ["a person asked, nobody ran", { kind: "reviewed", ...REVIEW, event: { type: "review", decision: "request_changes", needsHelp: true, notes: "no second enabled agent can review this task" } }],
    ["a review that could not be prepared", { kind: "escalate", ...REVIEW, reason: "the review could not be prepared: disk full" }],
    ["a review given back", { kind: "released", ...REVIEW, reason: "the worker was stopped before the review finished" }],
  ])("round-trips %s", (_, r) => {
    const artifact = toReviewArtifact(r);
    expect(artifact).toMatchObject({ schemaVersion: 1, kind: "review", taskId: 4, key: REVIEW.key });
    expect(WorkerArtifact.parse(JSON.parse(JSON.stringify(artifact)))).toEqual(artifact);
    expect(roundTrip(r)).toEqual(r);
  });

  it("rejects a decision other than approve or request_changes: no valid result, a person is asked (never an approval)", () => {
    const bad = JSON.parse(JSON.stringify(toReviewArtifact(reviewed("approve")))) as { review: { event: { decision: string } } };
    bad.review.event.decision = "merge";
    expect(WorkerArtifact.safeParse(bad).success).toBe(false);
    const r = fromReviewArtifact(JSON.stringify(bad), REVIEW);
    expect(r).toEqual({ kind: "escalate", ...REVIEW, reason: expect.stringMatching(/^the reviewer's worker run gave no valid result: the worker's result is malformed: review\.event\.decision: /) });
    // Nor may the decision travel anywhere else: unknown keys are refused.
    const extra = { ...toReviewArtifact(reviewed("request_changes")), approved: true };
    expect(fromReviewArtifact(JSON.stringify(extra), REVIEW)).toMatchObject({ kind: "escalate", reason: expect.stringContaining("(root): Unrecognized key") });
  });

  it("no artifact gives the claim back; another review's, an attempt's or garbage asks a person", () => {
    expect(fromReviewArtifact(null, REVIEW)).toMatchObject({ kind: "released", ...REVIEW, reason: expect.stringContaining("ended without a review") });
    expect(fromReviewArtifact(JSON.stringify(toReviewArtifact({ ...reviewed("approve"), key: "review-4-1-other" })), REVIEW)).toMatchObject({ kind: "escalate", reason: expect.stringContaining("names task 4, review review-4-1-other") });
    const attempt = toWorkerArtifact({ kind: "released", taskId: 4, key: REVIEW.key, reason: "stopped" }, null);
    expect(fromReviewArtifact(JSON.stringify(attempt), REVIEW)).toMatchObject({ kind: "escalate", reason: expect.stringContaining("is an attempt's") });
    expect(fromReviewArtifact("{", REVIEW)).toMatchObject({ kind: "escalate", reason: expect.stringContaining("not JSON") });
  });
});

describe("the worker artifact of an attempt", () => {
  const ATTEMPT = { taskId: 4, key: "a".repeat(64) };
  const ran = { kind: "ran" as const, ...ATTEMPT, record: record(), handoff: readHandoff(JSON.stringify({ schemaVersion: 1, status: "done", summary: "did it", filesChanged: [] }), "") };

  it("is written with kind attempt; one written before reviews ran in workers (no kind) is still read", () => {
    const artifact = toWorkerArtifact(ran, "b".repeat(40));
    expect(artifact.kind).toBe("attempt");
    expect(fromWorkerArtifact(JSON.stringify(artifact), ATTEMPT)).toEqual({ result: ran, branchHead: "b".repeat(40) });
    const { kind: _kind, ...old } = artifact;
    expect(fromWorkerArtifact(JSON.stringify(old), ATTEMPT)).toEqual({ result: ran, branchHead: "b".repeat(40) });
  });

  it("a review's artifact is not an attempt's result: a router error for the attempt", () => {
    const r = fromWorkerArtifact(JSON.stringify(toReviewArtifact(reviewed("approve"))), ATTEMPT);
    expect(r).toEqual({ result: { kind: "router_error", ...ATTEMPT, message: expect.stringContaining("is a review's") }, branchHead: null });
  });
});
