// reviewTask: a second agent reviews a task in `in_review` in a worktree of its own; its decision is
// recorded only while the task is still in review; a review that cannot be prepared asks a person.
import { describe, expect, it } from "vitest";
import { reconcile } from "../../../src/app/reconcile.ts";
import { reviewForRecord } from "../../../src/app/remote-worker.ts";
import { reviewTask } from "../../../src/app/review-task.ts";
import type { Profile } from "../../../src/core/config/profile.ts";
import type { ReviewStart } from "../../../src/core/reconcile/plan-reconcile.ts";
import type { Script } from "../../fakes/fake-agent-runner.ts";
import { deferred, failedRun, handoffRun, hangUntilAbort } from "../../fakes/fake-agent-runner.ts";
import { MemoryRepoFiles } from "../../fakes/fake-workspaces.ts";
import { appHarness, testRouting } from "../../support/app.ts";

const reviewed = (loaded: ReadonlyMap<string, Profile>): Profile => ({ ...loaded.get("feature")!, name: "reviewed", review: { required: true, maxRounds: 1 } });
const changed = (summary = "changed") => handoffRun({ status: "done", summary });
const verdict = (decision: "approve" | "request_changes", notes: string) => handoffRun({ status: "done", summary: `review: ${decision}`, review: { decision, notes } });

/** A task whose author (claude) finished, now in review; `claim()` claims its review as serve's reconcile does. */
async function inReview(scripts: Record<string, Script>, config: Record<string, unknown> = {}) {
  const h = appHarness(await testRouting(config, {}, (l) => [reviewed(l)]), { scripts, repo: new MemoryRepoFiles({}, { 1: "diff --git a/x b/x\n" }) });
  const id = await h.add("Change the parser", { profile: "reviewed" });
  expect((await h.run(id)).recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "in_review" })]);
  const claim = async (): Promise<ReviewStart> => {
    const r = await reconcile({ kind: "cli", command: { verb: "serve" } }, h.deps, { reviews: { limit: 1 } });
    expect(r.reviews).toHaveLength(1);
    return r.reviews[0]!;
  };
  return { ...h, id, claim };
}

describe("reviewTask", () => {
  it("a second agent reviews in a worktree of its own with the review profile and the diff; the worktree is removed after and nothing of it is committed", async () => {
    const h = await inReview({ claude: [changed()], codex: [verdict("approve", "Looks right.")] });
    const commits = h.workspaces.commits.length;
    const review = await h.claim();
    expect(review.key).toMatch(new RegExp(`^review-${h.id}-1-[0-9a-z]+$`));
    expect((await h.task(h.id)).reviewClaim).toMatchObject({ key: review.key });
    const out = await reviewTask(h.deps, review, h.io);
    expect(out).toMatchObject({ kind: "recorded", status: "done", note: "review by codex: approve" });
    const request = h.runner.requests.at(-1)!;
    expect(request).toMatchObject({ agent: "codex", key: review.key, profile: { name: "review" }, workdir: h.workspaces.pathOf(h.id, review.key) });
    expect(request.bundle).toContain("diff --git a/x b/x");
    expect(h.workspaces.prepared.at(-1)).toEqual({ taskId: h.id, key: review.key });
    expect(h.workspaces.removed.at(-1)).toEqual({ taskId: h.id, key: review.key });
    expect((await h.task(h.id)).reviewClaim).toBeUndefined();
    expect(h.workspaces.live.size).toBe(0);
    expect(h.workspaces.commits).toHaveLength(commits);
    expect((await h.task(h.id)).history.at(-1)).toMatchObject({ type: "review", to: "done", data: { reviewer: "codex", decision: "approve" } });
  });

  it("with no second enabled agent, a person is asked and nothing runs", async () => {
    const h = await inReview({ claude: [changed()] }, { agents: { codex: { enabled: false }, opencode: { enabled: false } } });
    const runs = h.runner.requests.length;
    expect(await reviewTask(h.deps, await h.claim(), h.io)).toEqual({ taskId: h.id, kind: "decided", status: "needs_help", note: "review by nobody: request_changes (a person must decide)" });
    expect(h.runner.requests).toHaveLength(runs);
    expect((await h.task(h.id)).history.at(-1)?.note).toBe("no second enabled agent can review this task");
  });

  it("a review that cannot be prepared asks a person once, instead of being retried in a loop", async () => {
    const h = await inReview({ claude: [changed()], codex: [] });
    h.workspaces.failPrepare = new Error("git worktree add failed: disk full\nfatal: details");
    const review = await h.claim();
    const writes = h.store.writes;
    const out = await reviewTask(h.deps, review, h.io);
    expect(out).toEqual({ taskId: h.id, kind: "decided", status: "needs_help", note: "the review could not be prepared: git worktree add failed: disk full" });
    expect(h.store.writes).toBe(writes + 1);
    expect(h.runner.requestsFor(h.id)).toHaveLength(1); // the author's run only
    // needs_help is not in review: nothing asks for another review.
    const r = await reconcile({ kind: "tick" }, h.deps, { reviews: { limit: 4 } });
    expect(r.reviews).toEqual([]);
  });

  it("a change request sends the author back with the notes; once the profile's rounds are spent a person is asked", async () => {
    const h = await inReview({ claude: [changed("first try"), changed("second try")], codex: [verdict("request_changes", "Handle empty rows."), verdict("request_changes", "Still wrong.")] });
    const first = await h.claim();
    expect(await reviewTask(h.deps, first, h.io)).toMatchObject({ kind: "recorded", status: "retrying" });
    expect(await h.task(h.id)).toMatchObject({ status: "retrying", history: expect.arrayContaining([expect.objectContaining({ type: "review", note: "Handle empty rows." })]) });
    expect((await h.run(h.id)).recorded).toEqual([expect.objectContaining({ status: "in_review", attempt: 2 })]);
    expect(h.runner.requestsFor(h.id).filter((r) => r.agent === "claude")[1]!.bundle).toContain("attempt 1 by claude");
    const second = await h.claim();
    expect(await reviewTask(h.deps, second, h.io)).toMatchObject({ kind: "recorded", status: "needs_help" });
    expect((await h.task(h.id)).history.at(-1)).toMatchObject({ type: "review", to: "needs_help", note: "Still wrong." });
    expect(h.runner.requests.map((r) => r.key)).toEqual(["key-1-1", first.key, "key-1-2", second.key]);
    expect(second.key).toMatch(new RegExp(`^review-${h.id}-2-`));
  });

  it("a failed review or one without a decision asks a person, never approves", async () => {
    const h = await inReview({ claude: [changed(), changed()], codex: [failedRun("outage", "503 service unavailable"), handoffRun({ status: "done", summary: "fine" })] });
    expect(await reviewTask(h.deps, await h.claim(), h.io)).toMatchObject({ status: "needs_help", note: "review by codex: request_changes (a person must decide)" });
    expect((await h.task(h.id)).history.at(-1)!.note).toContain("the review by codex failed (outage)");
    await reconcile({ kind: "cli", command: { verb: "retry", taskId: h.id } }, h.deps);
    await h.run(h.id);
    expect(await reviewTask(h.deps, await h.claim(), h.io)).toMatchObject({ status: "needs_help" });
    expect((await h.task(h.id)).history.at(-1)!.note).toContain("the handoff has no review field");
  });

  it("a decision that arrives after the task left review is stale and changes nothing", async () => {
    const gate = deferred<void>();
    const h = await inReview({ claude: [changed()], codex: [async () => (await gate.promise, verdict("approve", "late"))] });
    const reviewing = reviewTask(h.deps, await h.claim(), h.io);
    await h.runner.started(2);
    await reconcile({ kind: "cli", command: { verb: "cancel", taskId: h.id } }, h.deps);
    gate.resolve();
    expect(await reviewing).toMatchObject({ kind: "stale", note: expect.stringContaining("arrived too late: review review-1-1-") });
    expect((await reviewing as { note: string }).note).toContain("is no longer the task's open review (status cancelled)");
    expect((await h.task(h.id)).status).toBe("cancelled");
    expect(h.workspaces.live.size).toBe(0);
  });

  it("a stopped review leaves the task in review and removes its worktree", async () => {
    const h = await inReview({ claude: [changed()], codex: [hangUntilAbort] });
    const stop = new AbortController();
    const reviewing = reviewTask(h.deps, await h.claim(), h.io, { signal: stop.signal });
    await h.runner.started(2);
    stop.abort();
    expect(await reviewing).toEqual({ taskId: h.id, kind: "released" });
    expect((await h.task(h.id)).status).toBe("in_review");
    expect(h.workspaces.live.size).toBe(0);
    // The claim was given back: the next reconcile claims the review again at once.
    expect((await h.task(h.id)).reviewClaim).toBeUndefined();
    expect((await h.claim()).taskId).toBe(h.id);
  });

  it("two workers never pay for one review: the claim holds while its lease is renewed, a late decision is stale", async () => {
    const gate = deferred<void>();
    const h = await inReview({ claude: [changed()], codex: [async () => (await gate.promise, verdict("approve", "ok"))] });
    const review = await h.claim();
    const reviewing = reviewTask(h.deps, review, h.io);
    await h.runner.started(2);
    // A second worker's serve reconcile finds the review held and starts nothing.
    const other = await reconcile({ kind: "cli", command: { verb: "serve" } }, h.deps, { reviews: { limit: 4 } });
    expect(other.reviews).toEqual([]);
    // The heartbeat renews the claim's lease (no history entry), so it stays held past the first lease.
    const before = (await h.task(h.id)).reviewClaim!.leaseUntil;
    const history = (await h.task(h.id)).history.length;
    h.clock.advance(100_000);
    await h.timer.fire();
    expect(Date.parse((await h.task(h.id)).reviewClaim!.leaseUntil)).toBe(Date.parse(before) + 100_000);
    expect((await h.task(h.id)).history).toHaveLength(history);
    h.clock.advance(250_000); // past the first lease, within the renewed one
    expect((await reconcile({ kind: "cli", command: { verb: "serve" } }, h.deps, { reviews: { limit: 4 } })).reviews).toEqual([]);
    gate.resolve();
    expect(await reviewing).toMatchObject({ kind: "recorded", status: "done" });
    expect(h.runner.requests.filter((r) => r.key.startsWith("review-"))).toHaveLength(1);
  });

  it("a review whose claim was taken over (its lease ended) records nothing", async () => {
    const gate = deferred<void>();
    const h = await inReview({ claude: [changed()], codex: [async () => (await gate.promise, verdict("approve", "late")), verdict("request_changes", "needs a test")] });
    const first = await h.claim();
    const late = reviewTask(h.deps, first, h.io);
    await h.runner.started(2);
    h.clock.advance(6 * 60_000); // no heartbeat fired: the lease ended
    const second = await h.claim();
    expect(second.key).not.toBe(first.key);
    expect(await reviewTask(h.deps, second, h.io)).toMatchObject({ kind: "recorded", status: "retrying" });
    gate.resolve();
    expect(await late).toMatchObject({ kind: "stale", note: expect.stringContaining("arrived too late") });
    expect((await h.task(h.id)).history.filter((e) => e.type === "review")).toHaveLength(1);
  });

  it("a review Work trigger (a worker told to review) performs the review and records it in that reconcile's one commit; a dry run only says so", async () => {
    const h = await inReview({ claude: [changed()], codex: [verdict("request_changes", "Handle empty rows.")] });
    const review = await h.claim();
    const runs = h.runner.requests.length;
    const dry = await reconcile({ kind: "work", review: true, taskId: h.id, key: review.key }, h.deps, { worker: h.io, dryRun: true });
    expect(dry.plan).toContain(`would review task ${h.id} (key ${review.key})`);
    expect(h.runner.requests).toHaveLength(runs);
    const writes = h.store.writes;
    const r = await reconcile({ kind: "work", review: true, taskId: h.id, key: review.key }, h.deps, { worker: h.io });
    expect(r.recorded).toEqual([expect.objectContaining({ taskId: h.id, kind: "recorded", status: "retrying", note: "review by codex: request_changes" })]);
    expect(h.store.writes).toBe(writes + 1);
    expect(h.runner.requests.at(-1)).toMatchObject({ agent: "codex", key: review.key });
    // Told again for the same claim: not this worker's any more, nothing runs.
    await reconcile({ kind: "work", review: true, taskId: h.id, key: review.key }, h.deps, { worker: h.io });
    expect(h.runner.requests).toHaveLength(runs + 1);
  });

  it("the Action's worker (reviewForRecord, read-only) performs a review without writing anything: no heartbeat, no record; the decision goes in the artifact", async () => {
    const gate = deferred<void>();
    const h = await inReview({ claude: [changed()], codex: [async () => (await gate.promise, verdict("approve", "Looks right."))] });
    const review = await h.claim();
    const writes = h.store.writes;
    const performing = reviewForRecord(h.deps, h.io, { kind: "work", review: true, taskId: h.id, key: review.key });
    await h.runner.started(2);
    h.clock.advance(100_000);
    await h.timer.fire(); // a local worker's heartbeat would renew the claim's lease now
    gate.resolve();
    const { outcome, artifact } = await performing;
    expect(outcome).toMatchObject({ kind: "reviewed", taskId: h.id, key: review.key, event: { type: "review", decision: "approve", reviewer: "codex" }, record: { ok: true } });
    expect(artifact).toMatchObject({ kind: "review", taskId: h.id, key: review.key, review: { kind: "reviewed", event: { decision: "approve" } } });
    expect(h.store.writes).toBe(writes);
    expect((await h.task(h.id)).status).toBe("in_review");
    expect(h.workspaces.live.size).toBe(0);
  });

  it("a task that is not in review is not reviewed", async () => {
    const h = await inReview({ claude: [changed()], codex: [verdict("approve", "ok")] });
    const review = await h.claim();
    await reviewTask(h.deps, review, h.io);
    const runs = h.runner.requests.length;
    expect(await reviewTask(h.deps, review, h.io)).toEqual({ taskId: h.id, kind: "stale", note: `task ${h.id}: review ${review.key} is no longer the task's open review (status done)` });
    expect(h.runner.requests).toHaveLength(runs);
    await expect(reviewTask(h.deps, { taskId: 99, key: review.key }, h.io)).rejects.toThrow("no task 99");
  });
});
