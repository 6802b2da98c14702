import { describe, expect, it } from "vitest";
import type { RunRecord } from "../../../src/core/agents/run-record.ts";
import { chooseReviewer, reviewRounds, settleReview } from "../../../src/core/agents/settle-review.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import { Profile } from "../../../src/core/config/profile.ts";
import type { HandoffResult } from "../../../src/core/handoff/handoff.ts";
import { parseHandoffJson } from "../../../src/core/handoff/handoff.ts";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import { emptyLedger } from "../../../src/core/ledger/ledger.ts";
import type { Task } from "../../../src/core/ledger/task.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import { planTaskBundle } from "../../../src/app/build-context.ts";
import { trustedPart } from "../../../src/core/context/untrusted-block.ts";
import { MemoryRepoFiles } from "../../fakes/fake-workspaces.ts";
import { ctxAt } from "../../support/ctx.ts";

const record = (over: Partial<RunRecord> = {}): RunRecord => ({ ok: true, exitCode: 0, timedOut: false, inputTokens: 100, outputTokens: 20, costUsd: 0.01, deniedActions: [], filesChanged: [], finalText: "", errorText: "", durationMs: 5, ...over });
const review = (decision: string, notes = "n"): HandoffResult => parseHandoffJson(JSON.stringify({ schemaVersion: 1, status: "done", summary: "s", review: { decision, notes } }), "file");
const author = Profile.parse({ name: "feature", description: "d", role: "r", instructions: "i", review: { required: true, maxRounds: 2 } });
const reviewer = Profile.parse({ name: "review", description: "d", role: "r", instructions: "i", preferredAgents: ["codex", "claude"] });

/** A task in review after `rounds` earlier change requests. */
function inReview(rounds: number): Task {
  let t = addTask(emptyLedger(), { source: { kind: "cli" }, title: "t" }, ctxAt(0)).task;
  let minute = 1;
  const step = (e: Parameters<typeof transition>[1]): void => {
    t = transition(t, e, ctxAt(minute++)).task;
  };
  step({ type: "route", route: { agent: "claude", profile: "feature", complexity: "medium", reason: "r", decidedBy: "rule" } });
  for (let i = 0; i <= rounds; i++) {
    step({ type: "start", key: `k${i}`, agent: "claude", leaseUntil: "2030-01-01T00:00:00.000Z" });
    step({ type: "finish", key: `k${i}`, outcome: "review", summary: "work" });
    if (i < rounds) step({ type: "review", decision: "request_changes", notes: `round ${i + 1}` });
  }
  return t;
}

describe("review", () => {
  it("the reviewer is another enabled agent, the review profile's preferred ones first", () => {
    const task = inReview(0);
    expect(chooseReviewer(task, MainConfig.parse({}), reviewer)).toBe("codex");
    expect(chooseReviewer(task, MainConfig.parse({ agents: { codex: { enabled: false } } }), reviewer)).toBe("opencode");
    expect(chooseReviewer(task, MainConfig.parse({ agents: { codex: { enabled: false }, opencode: { enabled: false } } }), reviewer)).toBeNull();
  });

  it("approve approves; a change request sends the author back with the notes until the rounds are spent", () => {
    expect(settleReview(inReview(0), "codex", record(), review("approve", "fine"), author)).toMatchObject({ decision: "approve", notes: "fine", reviewer: "codex", usage: { inputTokens: 100, outputTokens: 20, costUsd: 0.01 } });
    expect(reviewRounds(inReview(1))).toBe(1);
    const first = settleReview(inReview(0), "codex", record(), review("request_changes", "add a test"), author);
    expect(first).toMatchObject({ decision: "request_changes", notes: "add a test" });
    expect(first.needsHelp).toBeUndefined();
    expect(settleReview(inReview(1), "codex", record(), review("request_changes", "still no test"), author).needsHelp).toBeUndefined();
    expect(settleReview(inReview(2), "codex", record(), review("request_changes", "still no test"), author)).toMatchObject({ decision: "request_changes", needsHelp: true });
    const back = transition(inReview(0), first, ctxAt(99)).task;
    expect(back.status).toBe("retrying");
  });

  it.each([
    ["a failed review run", record({ ok: false, failure: "timeout", errorText: "killed" }), review("approve"), /^the review by codex failed \(timeout\): killed$/],
    ["no handoff", record(), { ok: false as const, problem: "no handoff: the output file was not written" }, /gave no valid decision: no handoff/],
    ["a handoff without a review field", record(), parseHandoffJson('{"schemaVersion":1,"status":"done","summary":"LGTM"}', "file"), /gave no valid decision: the handoff has no review field/],
    ["an unknown decision", record(), review("lgtm"), /gave no valid decision: review\.decision/],
    ["a reviewer that failed but says approve", record(), parseHandoffJson('{"schemaVersion":1,"status":"failed","summary":"could not build","review":{"decision":"approve","notes":"ok"}}', "file"), /^the review by codex ended failed, not done, so it is no approval: could not build$/],
    ["a reviewer that asks for help but says approve", record(), parseHandoffJson('{"schemaVersion":1,"status":"needs_help","summary":"unsure","question":"which?","review":{"decision":"approve","notes":"ok"}}', "file"), /ended needs_help, not done/],
  ])("%s is never an approval: a person is asked", (_, rec, handoff, note) => {
    const event = settleReview(inReview(0), "codex", rec, handoff, author);
    expect(event).toMatchObject({ type: "review", decision: "request_changes", needsHelp: true });
    expect(event.notes).toMatch(note);
    expect(transition(inReview(0), event, ctxAt(99)).task.status).toBe("needs_help");
  });
});

describe("the author's next bundle", () => {
  it("carries the reviewer's notes, as untrusted text, only when the task came back from review", async () => {
    const boundary = "ab".repeat(16);
    const back = transition(inReview(0), settleReview(inReview(0), "codex", record(), review("request_changes", "Add a test for the empty file."), author), ctxAt(99)).task;
    const ledger = { ...emptyLedger(), nextId: 2, tasks: [back] };
    const io = { profiles: new Map([["feature", author]]), repo: new MemoryRepoFiles({}, { 1: "diff --git a/x b/x\n" }), boundary };
    const { plan } = await planTaskBundle(MainConfig.parse({}), ledger, back, io);
    expect(plan.text).toContain("## Changes the reviewer asked for");
    expect(plan.text).toContain(`<untrusted-${boundary} source="review notes">\nAdd a test for the empty file.\n</untrusted-${boundary}>`);
    expect(trustedPart(plan.text, boundary)).not.toContain("Add a test");
    const fresh = await planTaskBundle(MainConfig.parse({}), { ...ledger, tasks: [inReview(0)] }, inReview(0), io);
    expect(fresh.plan.text).not.toContain("## Changes the reviewer asked for");
  });
});
