// performAttempt: the worker half of an attempt (claims nothing; per-attempt worktree; one repair
// round; commits only while the attempt is current; a stop gives the claim back), and how the next
// reconcile records what it hands back (fenced by the attempt key).
import { describe, expect, it } from "vitest";
import { performAttempt } from "../../../src/app/perform-attempt.ts";
import { reconcile } from "../../../src/app/reconcile.ts";
import { failuresInBudget } from "../../../src/core/ledger/transition.ts";
import type { AgentRun } from "../../../src/core/ports.ts";
import type { RunFn, Script } from "../../fakes/fake-agent-runner.ts";
import { deferred, failedRun, garbageRun, handoffRun, hangUntilAbort } from "../../fakes/fake-agent-runner.ts";
import { FakeWorkspaces, MemoryRepoFiles } from "../../fakes/fake-workspaces.ts";
import { InstrumentedLedgerStore } from "../../fakes/instrumented-ledger-store.ts";
import { settle } from "../../fakes/manual-timer.ts";
import type { AppHarness } from "../../support/app.ts";
import { appHarness, gatedProfile, T0, testRouting } from "../../support/app.ts";

const done = (summary = "all good") => handoffRun({ status: "done", summary });

async function harness(scripts: Record<string, Script>, config: Record<string, unknown> = {}, more: { repo?: MemoryRepoFiles } = {}): Promise<AppHarness> {
  return appHarness(await testRouting(config, {}, (l) => [gatedProfile(l)]), { scripts, ...more });
}

describe("performAttempt", () => {
  it("performs a claimed attempt to done in its own worktree, records usage and session in one commit, and commits the work under the attempt key", async () => {
    const h = await harness({ claude: [handoffRun({ status: "done", summary: "Added the parser" }, { inputTokens: 1200, outputTokens: 300, costUsd: 0.42, turns: 7, sessionId: "sess-9" })] });
    const id = await h.add("Add a CSV parser");
    const claim = await h.claim(id);
    expect(claim).toEqual({ taskId: id, attempt: 1, key: "key-1-1", agent: "claude" });
    const writes = h.store.writes;
    const r = await reconcile({ kind: "work", taskId: id, attempt: 1, key: claim.key }, h.deps, { worker: h.io });
    expect(h.store.writes).toBe(writes + 1); // performed and recorded in one commit
    expect(r.work).toMatchObject({ kind: "ran", taskId: id, key: "key-1-1" });
    expect(r.recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "done", attempt: 1 })]);

    const task = await h.task(id);
    expect(task.status).toBe("done");
    expect(task.result).toMatchObject({ status: "done", summary: "Added the parser" });
    expect(task.attempts).toHaveLength(1);
    expect(task.attempts[0]).toMatchObject({ key: "key-1-1", agent: "claude", outcome: "success", sessionId: "sess-9", usage: { inputTokens: 1200, outputTokens: 300, costUsd: 0.42, turns: 7 } });
    expect(task.attempts[0]!.leaseUntil).toBeUndefined();
    expect(h.runner.requests).toHaveLength(1);
    expect(h.runner.requests[0]).toMatchObject({ taskId: id, key: "key-1-1", workdir: h.workspaces.pathOf(id, "key-1-1") });
    expect(h.runner.requests[0]!.bundle).toContain("Add a CSV parser");
    expect(h.workspaces.prepared).toEqual([{ taskId: id, key: "key-1-1" }]);
    expect(h.workspaces.commits).toHaveLength(1);
    expect(h.workspaces.commits[0]!.message).toContain("Agent-Router-Attempt: key-1-1");
    expect(h.workspaces.commits[0]!.message).toContain("Added the parser");
    expect(h.workspaces.removed).toEqual([{ taskId: id, key: "key-1-1" }]);
    expect(h.workspaces.live.size).toBe(0);
  });

  it("claims nothing: a key that is not the task's open attempt is not performed, and nothing is written", async () => {
    const h = await harness({ claude: [] });
    const routed = await h.add("Never claimed");
    const running = await h.add("Claimed");
    const claim = await h.claim(running);
    const writes = h.store.writes;
    expect(await performAttempt(h.deps, h.io, { taskId: routed, key: "key-1-1" })).toMatchObject({ kind: "not_mine", taskId: routed });
    expect(await performAttempt(h.deps, h.io, { taskId: running, key: "key-2-9" })).toMatchObject({ kind: "not_mine", why: expect.stringContaining("no longer the task's open attempt") });
    expect(await performAttempt(h.deps, h.io, { taskId: 99, key: claim.key })).toMatchObject({ kind: "not_mine", why: "the task is gone from the ledger" });
    // A Work trigger for someone else's attempt records nothing either.
    const r = await reconcile({ kind: "work", taskId: running, attempt: 1, key: "key-2-9" }, h.deps, { worker: h.io });
    expect(r.work).toMatchObject({ kind: "not_mine" });
    expect(r.recorded).toEqual([]);
    expect(h.store.writes).toBe(writes);
    expect(h.runner.requests).toEqual([]);
    expect(h.workspaces.prepared).toEqual([]);
    expect((await h.task(routed)).status).toBe("routed");
    expect((await h.task(running)).status).toBe("running");
  });

  // Regression (was a bug, fixed): the bundle is planned after the claim, so a first run listed its own open attempt
  // under "Earlier attempts" and got the branch diff as if it retried.
  it("shows a first run no earlier attempts and no previous diff", async () => {
    const h = await harness({ claude: [done()] }, {}, { repo: new MemoryRepoFiles({}, { 1: "diff --git a/stale b/stale" }) });
    const id = await h.add("First try");
    await h.run(id);
    expect(h.runner.requests[0]!.bundle).not.toContain("attempt 1 by claude");
    expect(h.runner.requests[0]!.bundle).not.toContain("diff --git a/stale");
  });

  it("shows a retry the earlier attempt and the previous diff, but not its own open attempt", async () => {
    const h = await harness({ claude: [failedRun("agent_error", "tool crashed"), done()] }, {}, { repo: new MemoryRepoFiles({}, { 1: "diff --git a/half b/half" }) });
    const id = await h.add("Second try");
    await h.run(id);
    h.clock.advance(900_000);
    await h.run(id);
    const retry = h.runner.requests[1]!.bundle;
    expect(retry).toContain("attempt 1 by claude: failure");
    expect(retry).not.toContain("attempt 2 by claude");
    expect(retry).toContain("diff --git a/half");
  });

  it("gives an invalid handoff one repair round in the same session and worktree, and sums its usage", async () => {
    const h = await harness({ claude: [garbageRun("I did it, trust me", { sessionId: "sess-1", inputTokens: 100, outputTokens: 10, costUsd: 0.1 }), done()] });
    const id = await h.add("Repairable");
    expect((await h.run(id)).recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "done" })]);
    const [first, repair] = h.runner.requests;
    expect(h.runner.requests).toHaveLength(2);
    expect(first!.repair).toBeUndefined();
    expect(repair).toMatchObject({ key: first!.key, bundle: first!.bundle, workdir: first!.workdir, repair: { sessionId: "sess-1" } });
    expect(repair!.repair!.message).toContain("no handoff");
    expect(h.workspaces.prepared).toHaveLength(1);
    const usage = (await h.task(id)).attempts[0]!.usage!;
    expect(usage).toMatchObject({ inputTokens: 100, outputTokens: 10 });
    expect(usage.costUsd).toBeCloseTo(0.1, 10);
  });

  it("records invalid_output with the raw text after a second invalid answer and asks a person, without a third request", async () => {
    const h = await harness({ claude: [garbageRun("first words"), garbageRun("still no JSON here", { inputTokens: 5 })] });
    const id = await h.add("Unrepairable");
    expect((await h.run(id)).recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "needs_help" })]);
    expect(h.runner.requests).toHaveLength(2);
    expect(h.runner.requests[1]!.repair).toEqual({ message: expect.stringContaining("no handoff") }); // no session to resume
    const attempt = (await h.task(id)).attempts[0]!;
    expect(attempt).toMatchObject({ outcome: "failure", errorClass: "invalid_output" });
    expect(attempt.error).toContain('"still no JSON here"');
  });

  it("keeps a malformed handoff file's own text on the attempt (not stdout) and tells the repair round the file was cut", async () => {
    const fileText = `{"schemaVersion":1,"status":"done","summary":"${"z".repeat(300)}`; // cut mid-string
    const cut: AgentRun = { record: { ...garbageRun("stdout says all is fine").record, handoffFile: { bytes: 9_000_000, readBytes: 4_194_304, raw: fileText } }, handoffText: fileText };
    const h = await harness({ claude: [cut, garbageRun("repair wrote nothing new")] });
    const id = await h.add("Huge handoff");
    expect((await h.run(id)).recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "needs_help" })]);
    expect(h.runner.requests[1]!.repair!.message).toContain("the handoff file is 9000000 bytes and only the first 4194304 were read");
    const attempt = (await h.task(id)).attempts[0]!;
    expect(attempt).toMatchObject({ outcome: "failure", errorClass: "invalid_output" });
    expect(attempt.error).toContain(`handoff file (9000000 bytes, first 4194304 read): ${JSON.stringify(fileText)}`);
    expect(attempt.error).not.toContain("repair wrote nothing new");
  });

  it("does not ask for a repair when the run itself failed", async () => {
    const h = await harness({ claude: [failedRun("agent_error", "tool crashed")] });
    const id = await h.add("Crashed");
    await h.run(id);
    expect(h.runner.requests).toHaveLength(1);
    expect((await h.task(id)).status).toBe("retrying");
  });

  // Regression (was a bug, fixed): the repair round summed tokens and cost but took `turns` from the repair run only.
  it("sums the turns of the first run and the repair round", async () => {
    const h = await harness({ claude: [garbageRun("no handoff", { turns: 12 }), handoffRun({ status: "done", summary: "ok" }, { turns: 1 })] });
    const id = await h.add("Turns");
    await h.run(id);
    expect((await h.task(id)).attempts[0]!.usage!.turns).toBe(13);
  });

  it("fails over A → B and then asks for help without bouncing back to A", async () => {
    const h = await harness(
      { claude: [failedRun("rate_limit", "429 too many requests")], codex: [failedRun("usage_limit", "usage limit reached")] },
      { agents: { claude: { failover: ["codex"] }, codex: { failover: ["claude"] } } },
    );
    const id = await h.add("Busy providers");
    expect((await h.run(id)).recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "retrying" })]);
    expect((await h.task(id)).retryAt).toBe(new Date(T0).toISOString()); // a failover retries at once
    expect(await h.claim(id)).toMatchObject({ attempt: 2, agent: "codex" });
    const second = await reconcile({ kind: "work", taskId: id, attempt: 2, key: "key-1-2" }, h.deps, { worker: h.io });
    expect(second.recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "needs_help" })]);
    const task = await h.task(id);
    expect(task.attempts.map((a) => a.agent)).toEqual(["claude", "codex"]);
    expect(task.attempts[1]!.error).toContain("failover chain spent: claude → codex");
    const again = await reconcile({ kind: "cli", command: { verb: "run", taskId: id } }, h.deps, { claim: { limit: 1 } });
    expect(again.outcome).toMatchObject({ kind: "not_runnable", why: "status needs_help" });
    expect(h.runner.requests.map((r) => r.agent)).toEqual(["claude", "codex"]);
  });

  it("asks for help when the same error repeats three times, within the attempt budget", async () => {
    const same = failedRun("agent_error", "segfault in tool");
    const h = await harness({ claude: [same, same, same, failedRun("agent_error", "one"), failedRun("agent_error", "two"), failedRun("agent_error", "three")] }, { execution: { maxAttempts: 5 } });
    const repeated = await h.add("Same error");
    const varied = await h.add("Different errors");
    for (const id of [repeated, repeated, repeated, varied, varied, varied]) {
      await h.run(id);
      h.clock.advance(900_000); // past any retryAt (retryCapSeconds)
    }
    expect((await h.task(repeated)).status).toBe("needs_help");
    expect((await h.task(varied)).status).toBe("retrying");
  });

  it("a result that arrives after a cancel is recorded as stale, its work is not committed, and the task stays cancelled", async () => {
    const gate = deferred<void>();
    const h = await harness({ claude: [async () => (await gate.promise, done("too late"))] });
    const id = await h.add("Cancelled midway");
    const running = h.run(id);
    await h.runner.started(1);
    await reconcile({ kind: "cli", command: { verb: "cancel", taskId: id, reason: "not needed" } }, h.deps);
    gate.resolve();
    const r = await running;
    expect(r.work).toMatchObject({ kind: "ran" });
    expect(r.recorded).toEqual([expect.objectContaining({ taskId: id, kind: "stale" })]);
    const task = await h.task(id);
    expect(task.status).toBe("cancelled");
    expect(task.result).toBeUndefined();
    expect(task.attempts[0]).toMatchObject({ key: "key-1-1", outcome: "cancelled" });
    expect(task.history.at(-1)).toMatchObject({ type: "stale_result", from: "cancelled", to: "cancelled", data: { key: "key-1-1" } });
    expect(h.workspaces.commits).toEqual([]);
    expect(h.workspaces.removed).toEqual([{ taskId: id, key: "key-1-1" }]);
  });

  it("a stop while the agent runs aborts it and gives the claim back, without spending the attempt budget", async () => {
    const h = await harness({ claude: [hangUntilAbort, done()] }, { execution: { maxAttempts: 1 } });
    const id = await h.add("Interrupted");
    const controller = new AbortController();
    const running = h.run(id, controller.signal);
    await h.runner.started(1);
    controller.abort();
    await settle();
    expect(h.runner.signals[0]?.aborted).toBe(true); // the stop reached the running agent
    const r = await running;
    expect(r.work).toMatchObject({ kind: "released", taskId: id, key: "key-1-1" });
    expect(r.recorded).toEqual([{ taskId: id, kind: "released" }]);
    const task = await h.task(id);
    expect(task.status).toBe("routed");
    expect(task.attempts[0]!.outcome).toBe("released");
    expect(failuresInBudget(task)).toBe(0);
    expect(h.workspaces.commits).toEqual([]);
    expect(h.workspaces.live.size).toBe(0);
    expect((await h.run(id)).recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "done", attempt: 2 })]);
  });

  // The old "pre-aborted signal" test passed whatever performAttempt did with the signal. Here the stop
  // comes after the claim and before the attempt is performed: the agent must never run with a live
  // signal, and the claim comes back as `released`.
  it("a stop between the claim and the agent's start: the agent never runs with a live signal and the claim is given back", async () => {
    const h = await harness({ claude: [done("should not have run"), done("second")] }, { execution: { maxAttempts: 1 } });
    const id = await h.add("Stopped early");
    const claim = await h.claim(id);
    const stopped = new AbortController();
    stopped.abort(); // Ctrl-C while the claim was being written
    const r = await reconcile({ kind: "work", taskId: id, attempt: claim.attempt, key: claim.key }, h.deps, { worker: h.io, signal: stopped.signal });
    expect(h.runner.signals.every((s) => s?.aborted === true)).toBe(true);
    expect(h.runner.requests).toEqual([]);
    expect(h.workspaces.commits).toEqual([]);
    expect(r.work).toMatchObject({ kind: "released", reason: "the worker was stopped before the agent finished" });
    const task = await h.task(id);
    expect(task.status).toBe("routed");
    expect(task.attempts).toEqual([expect.objectContaining({ key: claim.key, outcome: "released" })]);
    expect(failuresInBudget(task)).toBe(0);
    expect((await h.run(id)).recorded).toEqual([expect.objectContaining({ kind: "recorded", status: "done", attempt: 2 })]);
  });

  it("a stop while the worktree is being prepared reaches the agent as an aborted signal", async () => {
    const controller = new AbortController();
    const seen: boolean[] = [];
    const agent: RunFn = (_req, signal) => (seen.push(signal?.aborted === true), done("ran anyway"));
    const h = await harness({ claude: agent });
    const id = await h.add("Stopped while preparing");
    const claim = await h.claim(id);
    const workspaces = new (class extends FakeWorkspaces {
      override async prepare(taskId: number, key: string) {
        controller.abort(); // Ctrl-C during `git worktree add`
        return super.prepare(taskId, key);
      }
    })();
    const out = await performAttempt(h.deps, { ...h.io, workspaces }, claim, controller.signal);
    expect(seen).toEqual([true]);
    expect(out).toMatchObject({ kind: "released" });
    expect(workspaces.commits).toEqual([]);
    expect(workspaces.live.size).toBe(0);
  });

  it("records a router error after the claim (no worktree) as a failure that backs off, leaving nothing running", async () => {
    const h = await harness({ claude: [] });
    const id = await h.add("Broken worktree");
    h.workspaces.failPrepare = new Error("git worktree add failed: disk full\nfatal: more detail");
    const r = await h.run(id);
    expect(r.work).toMatchObject({ kind: "router_error", message: expect.stringContaining("disk full") });
    expect(r.recorded).toEqual([expect.objectContaining({ kind: "router_error", status: "retrying" })]);
    const task = await h.task(id);
    expect(task.status).toBe("retrying");
    expect(task.retryAt).toBe(new Date(T0 + 15_000).toISOString()); // full jitter: 0.5 × retryBaseSeconds
    expect(task.attempts[0]).toMatchObject({ outcome: "failure", errorClass: "agent_error", error: "router error: git worktree add failed: disk full" });
    expect((await h.tasks()).filter((t) => t.status === "running")).toEqual([]);
    expect(h.runner.requests).toEqual([]);
    expect(h.workspaces.removed).toEqual([]);
  });

  it("a task branch that moved while the attempt ran is a router error, not a success", async () => {
    const h = await harness({ claude: [done("my work")] });
    const id = await h.add("Raced");
    h.workspaces.conflictOn = "key-1-1";
    const r = await h.run(id);
    expect(r.work).toMatchObject({ kind: "router_error", message: expect.stringContaining("moved while this attempt ran") });
    const task = await h.task(id);
    expect(task.status).toBe("retrying");
    expect(task.result).toBeUndefined();
    expect(h.workspaces.live.size).toBe(0);
  });

  it("pushes the task branch after the commit where there is a remote; a push the remote refuses is a router error, not a success", async () => {
    const h = await harness({ claude: [done("pushed work"), done("refused push")] });
    const pushes: number[] = [];
    let answer: { pushed: string } | { conflict: true } = { pushed: "abc" };
    h.io.workspaces.publish = async (taskId) => (pushes.push(taskId), answer);
    const first = await h.add("Pushed");
    expect((await h.run(first)).work).toMatchObject({ kind: "ran" });
    expect(pushes).toEqual([first]);
    expect((await h.task(first)).status).toBe("done");

    answer = { conflict: true };
    const second = await h.add("Refused");
    expect((await h.run(second)).work).toMatchObject({ kind: "router_error", message: expect.stringContaining("moved on the remote") });
    expect((await h.task(second)).status).toBe("retrying");
    expect(pushes).toEqual([first, second]);
  });

  it("removes the worktree when the runner throws, and hands the error back", async () => {
    const h = await harness({ claude: () => Promise.reject(new Error("spawn ENOENT")) });
    const id = await h.add("Runner broke");
    const r = await h.run(id);
    expect(r.work).toMatchObject({ kind: "router_error", message: "spawn ENOENT" });
    expect(h.workspaces.removed).toEqual([{ taskId: id, key: "key-1-1" }]);
    expect(h.workspaces.live.size).toBe(0);
    expect((await h.task(id)).status).toBe("retrying");
  });

  it("a profile removed between the claim and the work is a router error, and no worktree is made", async () => {
    const h = await harness({ claude: [] });
    const id = await h.add("Orphaned profile");
    const claim = await h.claim(id);
    const profiles = new Map([...h.io.profiles].filter(([name]) => name !== "feature"));
    expect(await performAttempt(h.deps, { ...h.io, profiles }, claim)).toMatchObject({ kind: "router_error", message: 'profile "feature" does not exist' });
    expect(h.workspaces.prepared).toEqual([]);
  });

  // Regression (was a bug, fixed): when the heartbeat could not renew a lease about to lapse, the agent was
  // stopped, yet its partial work was committed to the task branch, where the retry may already be working.
  it("a lease that could not be renewed stops the agent, commits none of its work and gives the claim back", async () => {
    const store = new InstrumentedLedgerStore();
    const h = appHarness(await testRouting(), { scripts: { claude: [hangUntilAbort] }, store });
    const id = await h.add("Long run");
    const claim = await h.claim(id);
    const running = performAttempt(h.deps, h.io, claim);
    await h.runner.started(1);
    store.failWrites = Number.POSITIVE_INFINITY;
    // Two beats fail; by the second the lease (5 min, a beat every 100 s) ends before the next beat could help.
    for (let i = 0; i < 2; i++) {
      h.clock.advance(100_000);
      await h.timer.fire();
    }
    expect(h.runner.signals[0]?.aborted).toBe(true);
    const out = await running;
    expect(out).toMatchObject({ kind: "released", taskId: id, key: claim.key });
    expect((out as { reason: string }).reason).toMatch(/^the agent was stopped: the lease ends at .* and could not be renewed/);
    expect(h.workspaces.commits).toEqual([]);
  });

  it("keeps the lease alive on the injected timer while the agent runs and stops the heartbeat after, and prunes run folders", async () => {
    const gate = deferred<void>();
    const h = await harness({ claude: [async () => (await gate.promise, done())] });
    const pruned: [number, number][] = [];
    const id = await h.add("Long run");
    const claim = await h.claim(id);
    const running = performAttempt(h.deps, { ...h.io, runFolders: { prune: async (taskId, keep) => void pruned.push([taskId, keep]) } }, claim);
    await h.runner.started(1);
    expect(h.timer.intervals).toEqual([100_000]); // leaseMinutes 5, a beat every third
    expect(h.timer.live).toBe(1);
    const before = (await h.task(id)).attempts[0]!.leaseUntil!;
    h.clock.advance(100_000);
    await h.timer.fire();
    expect(Date.parse((await h.task(id)).attempts[0]!.leaseUntil!)).toBe(Date.parse(before) + 100_000);
    gate.resolve();
    expect(await running).toMatchObject({ kind: "ran" });
    expect(h.timer.live).toBe(0);
    expect(pruned).toEqual([[id, 3]]);
    await settle();
  });
});
