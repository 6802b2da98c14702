/**
 * chooseAgent: which agent runs a task's next attempt (DESIGN.md "Routing"; agent-clis.md §8:
 * fail over on rate/usage/auth/outage, never back to an agent already tried in this budget).
 */
import { describe, expect, it } from "vitest";
import { chooseAgent, failoverOrder } from "../../../src/core/agents/choose-agent.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import { emptyLedger } from "../../../src/core/ledger/ledger.ts";
import type { Route, Task } from "../../../src/core/ledger/task.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import { ctxAt } from "../../support/ctx.ts";

const A = "claude";
const B = "codex";
const C = "opencode";
const D = "gemini";

const route: Route = { agent: A, model: "claude-opus", profile: "feature", complexity: "medium", reason: "rule", decidedBy: "rule" };

/** One past attempt: the agent it ran on and how it ended. */
type Step = { agent: string; fail?: string; released?: true; needsHelp?: true };

/** A routed task whose attempts ended as `steps` say, built through the real state machine. */
function taskAfter(steps: Step[], r: Partial<Route> = {}): Task {
  let t = addTask(emptyLedger(), { source: { kind: "cli" }, title: "Add a feature", maxAttempts: 10 }, ctxAt(0)).task;
  t = transition(t, { type: "route", route: { ...route, ...r } }, ctxAt(0)).task;
  steps.forEach((s, i) => {
    const key = `k${i + 1}`;
    const m = (i + 1) * 10;
    t = transition(t, { type: "start", key, agent: s.agent, leaseUntil: ctxAt(m + 5).now }, ctxAt(m)).task;
    t = s.released
      ? transition(t, { type: "release", key, reason: "ctrl-c" }, ctxAt(m + 1)).task
      : transition(t, { type: "fail", key, errorClass: s.fail ?? "agent_error", error: `${s.fail ?? "agent_error"} #${i + 1}`, retryable: true, retryAt: ctxAt(m + 2).now, ...(s.needsHelp ? { needsHelp: true } : {}) }, ctxAt(m + 1)).task;
  });
  return t;
}

const config = (agents: Record<string, object>): MainConfig => MainConfig.parse({ agents });
const abAndBack = config({ [A]: { failover: [B] }, [B]: { failover: [A], models: { medium: "codex-medium", high: "codex-high" } } });

describe("chooseAgent", () => {
  const cases: { name: string; steps: Step[]; config: MainConfig; route?: Partial<Route>; want: object }[] = [
    { name: "first attempt: the route's agent and model", steps: [], config: abAndBack, want: { agent: A, model: "claude-opus", chain: [] } },
    { name: "first attempt without a model on the route: no model", steps: [], config: abAndBack, route: { model: undefined }, want: { agent: A, chain: [] } },
    { name: "timeout keeps the same agent and model", steps: [{ agent: A, fail: "timeout" }], config: abAndBack, want: { agent: A, model: "claude-opus", chain: [A] } },
    { name: "agent_error twice keeps the same agent", steps: [{ agent: A }, { agent: A }], config: abAndBack, want: { agent: A, model: "claude-opus", chain: [A] } },
    { name: "invalid_output keeps the same agent", steps: [{ agent: A, fail: "invalid_output" }], config: abAndBack, want: { agent: A, model: "claude-opus", chain: [A] } },
    { name: "lease_expired keeps the same agent", steps: [{ agent: A, fail: "lease_expired" }], config: abAndBack, want: { agent: A, model: "claude-opus", chain: [A] } },
    { name: "rate_limit on A → B with B's model for the complexity", steps: [{ agent: A, fail: "rate_limit" }], config: abAndBack, want: { agent: B, model: "codex-medium", chain: [A] } },
    { name: "B's model follows the route's complexity", steps: [{ agent: A, fail: "rate_limit" }], config: abAndBack, route: { complexity: "high" }, want: { agent: B, model: "codex-high", chain: [A] } },
    { name: "B without a model for the complexity: no model", steps: [{ agent: A, fail: "rate_limit" }], config: abAndBack, route: { complexity: "low" }, want: { agent: B, chain: [A] } },
    { name: "usage_limit fails over", steps: [{ agent: A, fail: "usage_limit" }], config: abAndBack, want: { agent: B, model: "codex-medium", chain: [A] } },
    { name: "auth fails over", steps: [{ agent: A, fail: "auth" }], config: abAndBack, want: { agent: B, model: "codex-medium", chain: [A] } },
    { name: "outage fails over", steps: [{ agent: A, fail: "outage" }], config: abAndBack, want: { agent: B, model: "codex-medium", chain: [A] } },
    { name: "no failover configured: exhausted at once", steps: [{ agent: A, fail: "rate_limit" }], config: config({}), want: { exhausted: true, chain: [A] } },
    { name: "A → B, B rate-limited with B.failover [A]: exhausted, no ping-pong", steps: [{ agent: A, fail: "rate_limit" }, { agent: B, fail: "rate_limit" }], config: abAndBack, want: { exhausted: true, chain: [A, B] } },
    { name: "A → B, B times out: stays on B", steps: [{ agent: A, fail: "rate_limit" }, { agent: B, fail: "timeout" }], config: abAndBack, want: { agent: B, model: "codex-medium", chain: [A, B] } },
    { name: "A → B, B times out, then B outage: exhausted", steps: [{ agent: A, fail: "rate_limit" }, { agent: B, fail: "timeout" }, { agent: B, fail: "outage" }], config: abAndBack, want: { exhausted: true, chain: [A, B] } },
    { name: "A timed out earlier, then rate-limited: A is burned, B next", steps: [{ agent: A, fail: "timeout" }, { agent: A, fail: "auth" }], config: abAndBack, want: { agent: B, model: "codex-medium", chain: [A] } },
    { name: "disabled B is skipped: A → C", steps: [{ agent: A, fail: "rate_limit" }], config: config({ [A]: { failover: [B, C] }, [B]: { enabled: false } }), want: { agent: C, chain: [A] } },
    { name: "every failover agent disabled: exhausted", steps: [{ agent: A, fail: "rate_limit" }], config: config({ [A]: { failover: [B, C] }, [B]: { enabled: false }, [C]: { enabled: false } }), want: { exhausted: true, chain: [A] } },
    { name: "deep chain A → B → C: B limited → C", steps: [{ agent: A, fail: "rate_limit" }, { agent: B, fail: "usage_limit" }], config: config({ [A]: { failover: [B] }, [B]: { failover: [C] }, [C]: { failover: [A], models: { medium: "oc-medium" } } }), want: { agent: C, model: "oc-medium", chain: [A, B] } },
    { name: "deep chain A → B → C: C limited with C.failover [A] → exhausted", steps: [{ agent: A, fail: "rate_limit" }, { agent: B, fail: "usage_limit" }, { agent: C, fail: "outage" }], config: config({ [A]: { failover: [B] }, [B]: { failover: [C] }, [C]: { failover: [A, B] } }), want: { exhausted: true, chain: [A, B, C] } },
    { name: "breadth-first: A.failover [B, C], B.failover [D]: after B comes C, not D", steps: [{ agent: A, fail: "rate_limit" }, { agent: B, fail: "rate_limit" }], config: config({ [A]: { failover: [B, C] }, [B]: { failover: [D] }, [D]: { type: "command", command: ["gemini"] } }), want: { agent: C, chain: [A, B] } },
    { name: "a released attempt is ignored: still on the agent before it", steps: [{ agent: A, fail: "rate_limit" }, { agent: B, released: true }], config: abAndBack, want: { agent: B, model: "codex-medium", chain: [A] } },
    { name: "a released attempt on A after a timeout: stays on A, chain [A]", steps: [{ agent: A, fail: "timeout" }, { agent: B, released: true }], config: abAndBack, want: { agent: A, model: "claude-opus", chain: [A] } },
    { name: "only released attempts: the route's agent, empty chain", steps: [{ agent: A, released: true }, { agent: A, released: true }], config: abAndBack, want: { agent: A, model: "claude-opus", chain: [] } },
  ];
  for (const c of cases) {
    it(c.name, () => expect(chooseAgent(taskAfter(c.steps, c.route), c.config)).toStrictEqual(c.want));
  }

  it("a retry (budgetFrom moved past the failures) clears the chain and starts over on the route's agent", () => {
    const spent = taskAfter([{ agent: A, fail: "rate_limit" }, { agent: B, fail: "rate_limit", needsHelp: true }]);
    expect(spent.status).toBe("needs_help");
    expect(chooseAgent(spent, abAndBack)).toStrictEqual({ exhausted: true, chain: [A, B] });
    const retried = transition(spent, { type: "retry" }, ctxAt(100)).task;
    expect(retried.budgetFrom).toBe(3);
    expect(chooseAgent(retried, abAndBack)).toStrictEqual({ agent: A, model: "claude-opus", chain: [] });
    const answered = transition(spent, { type: "answer", text: "limits raised" }, ctxAt(100)).task;
    expect(chooseAgent(answered, abAndBack)).toStrictEqual({ agent: A, model: "claude-opus", chain: [] });
  });

  it("failures before the budget do not burn an agent afterwards", () => {
    let t = taskAfter([{ agent: A, fail: "rate_limit", needsHelp: true }]);
    t = transition(t, { type: "answer", text: "go on" }, ctxAt(50)).task;
    t = transition(t, { type: "start", key: "k2", agent: A, leaseUntil: ctxAt(70).now }, ctxAt(60)).task;
    t = transition(t, { type: "fail", key: "k2", errorClass: "rate_limit", error: "429", retryable: true, retryAt: ctxAt(62).now }, ctxAt(61)).task;
    // B is free again, and only the new budget's attempt is in the chain.
    expect(chooseAgent(t, abAndBack)).toStrictEqual({ agent: B, model: "codex-medium", chain: [A] });
  });

  it("throws for a task without a route", () => {
    const t = addTask(emptyLedger(), { source: { kind: "cli" }, title: "x" }, ctxAt(0)).task;
    expect(() => chooseAgent(t, abAndBack)).toThrow(/has no route/);
  });
});

describe("failoverOrder", () => {
  it("is breadth-first from the start, each agent once, cycles included only once", () => {
    const c = config({ [A]: { failover: [B, C] }, [B]: { failover: [D, A] }, [C]: { failover: [B] }, [D]: { type: "command", command: ["g"], failover: [A] } });
    expect(failoverOrder(c, A)).toEqual([A, B, C, D]);
    expect(failoverOrder(c, B)).toEqual([B, D, A, C]);
    expect(failoverOrder(config({}), A)).toEqual([A]);
  });
});
