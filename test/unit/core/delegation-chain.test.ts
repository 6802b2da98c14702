// Regressions found in review: privileges narrow down a delegation chain, a looping parent chain is
// refused, duplicate keys in one request are refused, and a retry on another agent drops the model.
import { describe, expect, it } from "vitest";
import { chooseAgent } from "../../../src/core/agents/choose-agent.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import { Profile } from "../../../src/core/config/profile.ts";
import { checkDelegations } from "../../../src/core/delegation/check-delegations.ts";
import { Delegation } from "../../../src/core/handoff/handoff.ts";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import type { Ledger } from "../../../src/core/ledger/ledger.ts";
import { emptyLedger } from "../../../src/core/ledger/ledger.ts";
import type { Task } from "../../../src/core/ledger/task.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import { ctxAt } from "../../support/ctx.ts";

const profile = (name: string): Profile => Profile.parse({ name, description: name, role: "r", instructions: "i", delegation: { allowed: true } });
const profiles = new Map(["planner", "lead", "review", "docs"].map((n) => [n, profile(n)]));
const route = (p: string) => ({ agent: "claude", profile: p, complexity: "high" as const, reason: "x", decidedBy: "rule" as const });

/** planner (#1) → lead (#2): the lead is the parent that now delegates. */
function chain(): Ledger {
  let l = addTask(emptyLedger(), { source: { kind: "cli" }, title: "plan" }, ctxAt(0)).ledger;
  l = addTask(l, { source: { kind: "parent", parentId: 1, key: "lead" }, title: "lead", parentId: 1 }, ctxAt(0)).ledger;
  return { ...l, tasks: l.tasks.map((t) => ({ ...t, route: route(t.id === 1 ? "planner" : "lead"), children: t.id === 1 ? [2] : [] })) };
}
const d = (key: string, p: string) => Delegation.parse({ key, title: key, profile: p });

describe("delegation chains", () => {
  it("a child never delegates beyond what every delegating ancestor allows", () => {
    const ledger = chain();
    const config = MainConfig.parse({ delegation: { acl: { planner: ["lead", "docs"], lead: ["review", "docs"] } } });
    const parent = ledger.tasks[1]!;
    const review = checkDelegations({ ledger, parent, parentProfile: profiles.get("lead")!, delegations: [d("r", "review")], config, profiles });
    expect(review).toEqual({ ok: false, reason: "lead may not delegate to profile review (allowed: docs)", refused: true });
    const docs = checkDelegations({ ledger, parent, parentProfile: profiles.get("lead")!, delegations: [d("x", "docs")], config, profiles });
    expect(docs.ok).toBe(true);
  });

  it("refuses a looping parent chain and duplicate keys, and says so when no target is left", () => {
    const looped = chain();
    const broken: Ledger = { ...looped, tasks: looped.tasks.map((t) => (t.id === 1 ? { ...t, parentId: 2 } : t)) };
    const config = MainConfig.parse({ delegation: { acl: { planner: ["lead", "docs"], lead: ["docs"] } } });
    expect(checkDelegations({ ledger: broken, parent: broken.tasks[1]!, parentProfile: profiles.get("lead")!, delegations: [d("x", "docs")], config, profiles })).toEqual({ ok: false, reason: "the parent chain of task 2 loops back on itself" });
    const ledger = chain();
    expect(checkDelegations({ ledger, parent: ledger.tasks[1]!, parentProfile: profiles.get("lead")!, delegations: [d("x", "docs"), d("x", "docs")], config, profiles })).toEqual({ ok: false, reason: "two delegations share a key" });
    const none = MainConfig.parse({ delegation: { acl: { planner: ["lead"], lead: ["review"] } } });
    expect(checkDelegations({ ledger, parent: ledger.tasks[1]!, parentProfile: profiles.get("lead")!, delegations: [d("x", "review")], config: none, profiles })).toMatchObject({ ok: false, refused: true, reason: expect.stringMatching(/^profile lead has no profile left to delegate to/) as unknown });
  });
});

describe("retry on another agent", () => {
  it("drops the previous agent's model and uses the new agent's model for the complexity", () => {
    const config = MainConfig.parse({ agents: { codex: { models: { high: "gpt-5-codex" } } } });
    let task: Task = addTask(emptyLedger(), { source: { kind: "cli" }, title: "t" }, ctxAt(0)).task;
    const step = (event: Parameters<typeof transition>[1], at: number): void => {
      task = transition(task, event, ctxAt(at)).task;
    };
    step({ type: "route", route: { ...route("feature"), model: "claude-opus-4" } }, 1);
    step({ type: "start", key: "k1", agent: "claude", model: "claude-opus-4", leaseUntil: "2030-01-01T00:00:00.000Z" }, 2);
    step({ type: "fail", key: "k1", errorClass: "agent_error", error: "x", retryable: false }, 3);
    step({ type: "retry", agent: "codex" }, 4);
    expect(task.route).toMatchObject({ agent: "codex", decidedBy: "override" });
    expect(task.route?.model).toBeUndefined();
    expect(chooseAgent(task, config)).toEqual({ agent: "codex", model: "gpt-5-codex", chain: [] });
  });
});
