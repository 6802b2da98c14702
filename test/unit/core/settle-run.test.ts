/**
 * settleRun: how one finished run is recorded (agent-clis.md §8), and, through the state machine,
 * the retry-loop guard: the same error three times asks a person; a spent budget fails the task.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadRouting } from "../../../src/adapters/config-fs/load-routing.ts";
import { chooseAgent } from "../../../src/core/agents/choose-agent.ts";
import type { RunRecord } from "../../../src/core/agents/run-record.ts";
import type { SettleInput, Settlement } from "../../../src/core/agents/settle-run.ts";
import { settleRun } from "../../../src/core/agents/settle-run.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import type { Profile } from "../../../src/core/config/profile.ts";
import type { HandoffResult } from "../../../src/core/handoff/handoff.ts";
import { Handoff } from "../../../src/core/handoff/handoff.ts";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import type { Ledger } from "../../../src/core/ledger/ledger.ts";
import { emptyLedger } from "../../../src/core/ledger/ledger.ts";
import type { Route, Task } from "../../../src/core/ledger/task.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import { isRunnable } from "../../../src/core/scheduling/plan-tick.ts";
import { ctxAt } from "../../support/ctx.ts";
import { tempDir } from "../../support/git-repo.ts";

let profiles: Map<string, Profile>;
beforeAll(async () => {
  profiles = (await loadRouting(tempDir(), MainConfig.parse({}))).profiles;
});

const config = MainConfig.parse({
  agents: { claude: { failover: ["codex"] }, codex: { failover: ["claude"], models: { medium: "codex-medium" } } },
  execution: { retryBaseSeconds: 10, retryCapSeconds: 25 },
});
const route: Route = { agent: "claude", model: "claude-opus", profile: "feature", complexity: "medium", reason: "rule", decidedBy: "rule" };
const usage = { inputTokens: 1200, outputTokens: 340, costUsd: 0.42, turns: 7 };

function record(r: Partial<RunRecord> = {}): RunRecord {
  return { ok: true, exitCode: 0, timedOut: false, inputTokens: 1200, outputTokens: 340, costUsd: 0.42, turns: 7, sessionId: "sess-1", deniedActions: [], filesChanged: [], finalText: "all good", errorText: "", durationMs: 5000, ...r };
}
const failed = (failure: RunRecord["failure"], errorText = "", extra: Partial<RunRecord> = {}): RunRecord => record({ ok: false, exitCode: 1, failure, errorText, ...extra });
const handoff = (h: object): HandoffResult => ({ ok: true, handoff: Handoff.parse({ schemaVersion: 1, summary: "did it", ...h }), from: "file" });
const noHandoff: HandoffResult = { ok: false, problem: "no handoff: the output file was not written and the final message has no fenced JSON block" };

/** A task (id 1) routed with `r`, with `prior` failed attempts, now running attempt `key` on `agent`. */
function running(opts: { r?: Partial<Route>; prior?: { agent: string; errorClass: string }[]; agent?: string; maxAttempts?: number } = {}): { ledger: Ledger; task: Task; key: string } {
  let { ledger, task: t } = addTask(emptyLedger(), { source: { kind: "cli" }, title: "Add search", maxAttempts: opts.maxAttempts ?? 5 }, ctxAt(0));
  t = transition(t, { type: "route", route: { ...route, ...opts.r } }, ctxAt(0)).task;
  (opts.prior ?? []).forEach((p, i) => {
    t = transition(t, { type: "start", key: `p${i}`, agent: p.agent, leaseUntil: ctxAt(i + 5).now }, ctxAt(i)).task;
    t = transition(t, { type: "fail", key: `p${i}`, errorClass: p.errorClass, error: `${p.errorClass} #${i}`, retryable: true, retryAt: ctxAt(i).now }, ctxAt(i)).task;
  });
  const key = "run-key";
  t = transition(t, { type: "start", key, agent: opts.agent ?? "claude", leaseUntil: ctxAt(60).now }, ctxAt(20)).task;
  ledger = { ...ledger, tasks: [t] };
  return { ledger, task: t, key };
}

const now = new Date(ctxAt(30).now);
function settle(rec: RunRecord, h: HandoffResult, opts: Parameters<typeof running>[0] = {}, extra: Partial<SettleInput> = {}): Settlement {
  return settleRun({ ...running(opts), record: rec, handoff: h, config, profiles, now, random: () => 0.5, ...extra });
}
const plus = (ms: number): string => new Date(now.getTime() + ms).toISOString();

describe("settleRun: failed runs", () => {
  it("tooling_missing: needs help, not retryable, no retryAt", () => {
    const { event, children } = settle(failed("tooling_missing", "bash: line 1: rg: command not found\nmore"), noHandoff);
    expect(event).toStrictEqual({ type: "fail", key: "run-key", errorClass: "tooling_missing", error: "bash: line 1: rg: command not found (install it, or route the task to another agent)", retryable: false, needsHelp: true, usage });
    expect(children).toEqual([]);
  });

  for (const cls of ["rate_limit", "usage_limit", "auth", "outage"] as const) {
    it(`${cls} with a next agent: retry at once (retryAt = now), naming the next agent`, () => {
      const { event } = settle(failed(cls, "429 Too Many Requests"), noHandoff);
      expect(event).toStrictEqual({ type: "fail", key: "run-key", errorClass: cls, error: "429 Too Many Requests; next: codex", retryable: true, retryAt: now.toISOString(), usage });
    });
  }

  it("a failover class with the chain spent: needs help, the chain in the error", () => {
    const { event } = settle(failed("usage_limit", "You've hit your limit · resets 1pm"), noHandoff, { prior: [{ agent: "claude", errorClass: "rate_limit" }], agent: "codex" });
    expect(event).toStrictEqual({ type: "fail", key: "run-key", errorClass: "usage_limit", error: "You've hit your limit · resets 1pm; failover chain spent: claude → codex", retryable: false, needsHelp: true, usage });
  });

  it("no failover configured: the first limit already spends the chain", () => {
    const { event } = settle(failed("outage", "503 Service Unavailable"), noHandoff, {}, { config: MainConfig.parse({}) });
    expect(event).toMatchObject({ errorClass: "outage", error: "503 Service Unavailable; failover chain spent: claude", retryable: false, needsHelp: true });
  });

  // Full jitter from config.execution: base 10 s, cap 25 s; the ceiling doubles per failed attempt in the budget.
  const backoff: { name: string; prior: { agent: string; errorClass: string }[]; ceiling: number }[] = [
    { name: "first failure: ceiling = base", prior: [], ceiling: 10_000 },
    { name: "second failure: ceiling = 2·base", prior: [{ agent: "claude", errorClass: "timeout" }], ceiling: 20_000 },
    { name: "third failure: capped", prior: [{ agent: "claude", errorClass: "timeout" }, { agent: "claude", errorClass: "agent_error" }], ceiling: 25_000 },
  ];
  for (const b of backoff) {
    for (const cls of ["timeout", "agent_error"] as const) {
      it(`${cls}, ${b.name}: retryAt within [now, now + ${b.ceiling} ms)`, () => {
        for (const [r, delay] of [[0, 0], [0.5, b.ceiling / 2], [0.999_999, b.ceiling - 1]] as const) {
          const { event } = settle(failed(cls, "Error: tests failed"), noHandoff, { prior: b.prior }, { random: () => r });
          expect(event).toStrictEqual({ type: "fail", key: "run-key", errorClass: cls, error: "Error: tests failed", retryable: true, retryAt: plus(delay), usage });
        }
      });
    }
  }

  it("a released attempt does not count towards the backoff", () => {
    let { ledger, task: t } = addTask(emptyLedger(), { source: { kind: "cli" }, title: "x" }, ctxAt(0));
    t = transition(t, { type: "route", route }, ctxAt(0)).task;
    t = transition(t, { type: "start", key: "r1", agent: "claude", leaseUntil: ctxAt(9).now }, ctxAt(1)).task;
    t = transition(t, { type: "release", key: "r1", reason: "shutdown" }, ctxAt(2)).task;
    t = transition(t, { type: "start", key: "r2", agent: "claude", leaseUntil: ctxAt(9).now }, ctxAt(3)).task;
    ledger = { ...ledger, tasks: [t] };
    const { event } = settleRun({ ledger, task: t, key: "r2", record: failed("agent_error", "boom"), handoff: noHandoff, config, profiles, now, random: () => 0.999_999 });
    expect(event).toMatchObject({ retryAt: plus(9_999) });
  });

  it("no class and no error text: agent_error, with a message from the exit", () => {
    expect(settle(failed(undefined, "", { exitCode: 3 }), noHandoff).event).toMatchObject({ errorClass: "agent_error", error: "the agent exited with 3", retryable: true });
    expect(settle(failed(undefined, "  \n", { exitCode: null }), noHandoff).event).toMatchObject({ error: "the agent exited with a signal" });
    expect(settle(failed("timeout", "", { timedOut: true, exitCode: null }), noHandoff).event).toMatchObject({ errorClass: "timeout", error: "the agent ran out of time" });
  });
});

describe("settleRun: runs that ended normally", () => {
  it("an invalid handoff fails as invalid_output with the raw output's last 1,000 characters", () => {
    const raw = `${"x".repeat(500)}${"y".repeat(998)}"\n`;
    const { event } = settle(record({ finalText: raw }), { ok: false, problem: "summary: Required" });
    expect(event).toMatchObject({ type: "fail", errorClass: "invalid_output", usage });
    const error = (event as { error: string }).error;
    expect(error).toBe(`summary: Required; output: ${JSON.stringify(raw.slice(-1000))}`);
    expect(error).not.toContain("x");
  });

  it("an invalid handoff file keeps the file's text, not stdout's, and says when it was cut", () => {
    const raw = `{"schemaVersion":1,"status":"dnoe","summary":"${"s".repeat(2000)}"}`;
    const file = { bytes: 5_000_000, readBytes: 4_194_304, raw };
    const { event } = settle(record({ finalText: "stdout chatter", handoffFile: file }), { ok: false, problem: "status: Invalid enum value" });
    const error = (event as { error: string }).error;
    expect(event).toMatchObject({ type: "fail", errorClass: "invalid_output", needsHelp: true });
    expect(error).toBe(`status: Invalid enum value; handoff file (5000000 bytes, first 4194304 read): ${JSON.stringify(raw.slice(0, 1000))}`);
    expect(error).not.toContain("stdout chatter");
    const whole = settle(record({ finalText: "stdout", handoffFile: { bytes: 12, readBytes: 12, raw: "{not json}\n" } }), { ok: false, problem: "not JSON" }).event;
    expect((whole as { error: string }).error).toBe(`not JSON; handoff file (12 bytes): ${JSON.stringify("{not json}\n")}`);
    // An empty file says nothing: the final message is the better evidence.
    const empty = settle(record({ finalText: "the end", handoffFile: { bytes: 0, readBytes: 0, raw: "" } }), { ok: false, problem: "empty" }).event;
    expect((empty as { error: string }).error).toBe(`empty; output: ${JSON.stringify("the end")}`);
  });

  it("done: finish with the summary, usage and session", () => {
    const { event, children } = settle(record(), handoff({ status: "done", summary: "added search" }));
    expect(event).toStrictEqual({ type: "finish", outcome: "done", key: "run-key", summary: "added search", usage, sessionId: "sess-1" });
    expect(children).toEqual([]);
  });

  it("needs_help: finish with the question; usage without cost or turns when the CLI gave none", () => {
    const { event } = settle(record({ costUsd: undefined, turns: undefined, sessionId: undefined }), handoff({ status: "needs_help", question: "Which index?" }));
    expect(event).toStrictEqual({ type: "finish", outcome: "needs_help", key: "run-key", summary: "did it", question: "Which index?", usage: { inputTokens: 1200, outputTokens: 340 } });
  });

  it("failed: a non-retryable agent_error quoting the summary, which is kept as the result", () => {
    const { event } = settle(record(), handoff({ status: "failed", summary: "the repo does not build" }));
    expect(event).toStrictEqual({ type: "fail", key: "run-key", errorClass: "agent_error", error: "the agent gave up: the repo does not build", retryable: false, usage, summary: "the repo does not build" });
  });

  const delegations = [
    { key: "api", title: "Build the API" },
    { key: "docs", title: "Document it", profile: "docs", agent: "codex", after: ["api"] },
  ];

  it("delegate from the planner: finish delegate with planned children (ids filled in by the caller)", () => {
    const { event, children } = settle(record(), handoff({ status: "delegate", delegations }), { r: { profile: "planner" } });
    expect(event).toStrictEqual({ type: "finish", outcome: "delegate", key: "run-key", summary: "did it", usage, sessionId: "sess-1", children: [] });
    expect(children).toStrictEqual([
      { key: "api", title: "Build the API", body: "", profile: "feature", after: [] },
      { key: "docs", title: "Document it", body: "", profile: "docs", agent: "codex", after: ["api"] },
    ]);
  });

  // Regression (was a bug, fixed): an ACL refusal went through retries that the ACL refuses the same way.
  it("delegate from a profile that may not delegate: a person is asked at once with the reason, no children, no retry", () => {
    const { event, children } = settle(record(), handoff({ status: "delegate", delegations }), { r: { profile: "feature" } });
    expect(event).toMatchObject({ type: "fail", errorClass: "delegation_rejected", error: "profile feature may not delegate (not in delegation.acl); change delegation.acl or the task's profile, then retry it", retryable: false, needsHelp: true, usage });
    expect(event).not.toHaveProperty("retryAt");
    expect(children).toEqual([]);
  });

  it("delegate from an unknown profile, or to a profile outside the ACL: a person is asked; an agent's own mistake (a cycle) is retried", () => {
    expect(settle(record(), handoff({ status: "delegate", delegations }), { r: { profile: "ghost" } }).event).toMatchObject({ errorClass: "delegation_rejected", error: "unknown profile ghost", needsHelp: true });
    const toReview = [{ key: "r", title: "Review", profile: "review" }];
    expect(settle(record(), handoff({ status: "delegate", delegations: toReview }), { r: { profile: "planner" } }).event).toMatchObject({ errorClass: "delegation_rejected", error: expect.stringContaining("may not delegate to profile review"), needsHelp: true });
    const cycle = [{ key: "a", title: "A", after: ["b"] }, { key: "b", title: "B", after: ["a"] }];
    const retried = settle(record(), handoff({ status: "delegate", delegations: cycle }), { r: { profile: "planner" } }).event;
    expect(retried).toMatchObject({ errorClass: "delegation_rejected", error: expect.stringContaining("cycle"), retryable: true });
    expect(retried).not.toHaveProperty("needsHelp");
  });
});

describe("the retry loop, end to end with transition", () => {
  /** Runs attempts on the task, each settled from `records[i]`, until one leaves it not retrying. */
  function loop(records: RunRecord[], maxAttempts: number, cfg = config): { task: Task; agents: string[] } {
    let { ledger, task: t } = addTask(emptyLedger(), { source: { kind: "cli" }, title: "Fix flaky test", maxAttempts }, ctxAt(0));
    t = transition(t, { type: "route", route }, ctxAt(0)).task;
    const agents: string[] = [];
    let minute = 1;
    for (const [i, rec] of records.entries()) {
      const choice = chooseAgent(t, cfg);
      if ("exhausted" in choice) throw new Error(`exhausted before run ${i + 1}`);
      agents.push(choice.agent);
      const at = t.retryAt ?? ctxAt(minute).now;
      if (t.retryAt) expect(isRunnable({ ...ledger, tasks: [t] }, t, new Date(new Date(at).getTime() - 1).toISOString())).toBe(false);
      expect(isRunnable({ ...ledger, tasks: [t] }, t, at)).toBe(true);
      t = transition(t, { type: "start", key: `k${i + 1}`, agent: choice.agent, leaseUntil: ctxAt(minute + 30).now }, { ...ctxAt(minute), now: at }).task;
      ledger = { ...ledger, tasks: [t] };
      const s = settleRun({ ledger, task: t, key: `k${i + 1}`, record: rec, handoff: noHandoff, config: cfg, profiles, now: new Date(at), random: () => 0.5 });
      t = transition(t, s.event, { ...ctxAt(minute), now: at }).task;
      minute += 60;
      if (t.status !== "retrying") break;
    }
    return { task: t, agents };
  }

  it("the same error three times in a row ends in needs_help, even with attempts left", () => {
    const { task, agents } = loop([1, 2, 3, 4].map(() => failed("agent_error", "TypeError: x is undefined")), 10);
    expect(task.status).toBe("needs_help");
    expect(task.attempts).toHaveLength(3);
    expect(agents).toEqual(["claude", "claude", "claude"]);
    expect(task.attempts.map((a) => a.usage)).toEqual([usage, usage, usage]);
  });

  it("three timeouts in a row also end in needs_help", () => {
    expect(loop([1, 2, 3].map(() => failed("timeout", "", { timedOut: true })), 10).task.status).toBe("needs_help");
  });

  it("different errors until maxAttempts ends failed", () => {
    const { task } = loop([failed("agent_error", "e1"), failed("timeout", "e2"), failed("agent_error", "e3"), failed("agent_error", "e4")], 3);
    expect(task.status).toBe("failed");
    expect(task.attempts.map((a) => a.error)).toEqual(["e1", "e2", "e3"]);
  });

  it("two alike then a different one keeps retrying", () => {
    const { task } = loop([failed("agent_error", "same"), failed("agent_error", "same"), failed("agent_error", "other")], 10);
    expect(task.status).toBe("retrying");
  });

  it("A rate-limited → B, B rate-limited → needs_help listing the chain, no bounce back", () => {
    const { task, agents } = loop([failed("rate_limit", "429"), failed("rate_limit", "429"), failed("rate_limit", "429")], 10);
    expect(agents).toEqual(["claude", "codex"]);
    expect(task.status).toBe("needs_help");
    expect(task.attempts.at(-1)?.error).toBe("429; failover chain spent: claude → codex");
  });
});
