/**
 * checkDelegations (DESIGN.md "Delegation"): one table row per rule, then target S9: 10,000
 * random delegation requests checked against an independent oracle and the S9 invariants.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { loadRouting } from "../../../src/adapters/config-fs/load-routing.ts";
import { MainConfig } from "../../../src/core/config/main-config.ts";
import { Profile } from "../../../src/core/config/profile.ts";
import type { DelegationCheck } from "../../../src/core/delegation/check-delegations.ts";
import { checkDelegations, depthOf, orderByAfter } from "../../../src/core/delegation/check-delegations.ts";
import { Delegation } from "../../../src/core/handoff/handoff.ts";
import { addTask } from "../../../src/core/ledger/create-task.ts";
import type { Ledger } from "../../../src/core/ledger/ledger.ts";
import { emptyLedger, findTask } from "../../../src/core/ledger/ledger.ts";
import type { Task } from "../../../src/core/ledger/task.ts";
import { ctxAt } from "../../support/ctx.ts";
import { tempDir } from "../../support/git-repo.ts";

const custom = (name: string, delegation: object): Profile => Profile.parse({ name, description: name, role: "r", instructions: "i", delegation });
/** A delegating profile with no `to` list (the ACL alone decides) and one limited to docs and tests. */
const lead = custom("lead", { allowed: true });
const narrow = custom("narrow", { allowed: true, to: ["docs", "tests"] });

let profiles: Map<string, Profile>;
beforeAll(async () => {
  profiles = new Map((await loadRouting(tempDir(), MainConfig.parse({}))).profiles);
  profiles.set("lead", lead);
  profiles.set("narrow", narrow);
});
const prof = (name: string): Profile => profiles.get(name)!;

const families = new Map<string, { ledger: Ledger; parent: Task }>();
/**
 * A ledger holding a chain of `ancestors` tasks above the parent (a top-level parent when 0) and
 * the parent's `existing` children under the given keys. Returns the parent as the ledger has it.
 * Memoised: the ledgers are plain immutable data.
 */
function family(ancestors: number, existing: string[] = []): { ledger: Ledger; parent: Task } {
  const id = `${ancestors}|${existing.join(",")}`;
  const known = families.get(id);
  if (known) return known;
  let ledger = emptyLedger();
  let above: number | undefined;
  for (let i = 0; i <= ancestors; i++) {
    const source = above === undefined ? { kind: "cli" as const } : { kind: "parent" as const, parentId: above, key: `level${i}` };
    const r = addTask(ledger, { source, title: `level ${i}`, ...(above === undefined ? {} : { parentId: above }) }, ctxAt(0));
    ledger = r.ledger;
    above = r.task.id;
  }
  const parentId = above!;
  const kids: number[] = [];
  for (const key of existing) {
    const r = addTask(ledger, { source: { kind: "parent", parentId, key }, title: key, parentId }, ctxAt(0));
    ledger = r.ledger;
    kids.push(r.task.id);
  }
  ledger = { ...ledger, tasks: ledger.tasks.map((t) => (t.id === parentId ? { ...t, children: kids } : t)) };
  const made = { ledger, parent: findTask(ledger, parentId)! };
  families.set(id, made);
  return made;
}

const d = (key: string, extra: { profile?: string; agent?: string; after?: string[] } = {}): Delegation => Delegation.parse({ key, title: `do ${key}`, ...extra });

function check(o: { parentProfile?: string; delegations: Delegation[]; config?: object; ancestors?: number; existing?: string[] }): DelegationCheck {
  const { ledger, parent } = family(o.ancestors ?? 0, o.existing);
  return checkDelegations({ ledger, parent, parentProfile: prof(o.parentProfile ?? "planner"), delegations: o.delegations, config: MainConfig.parse(o.config ?? {}), profiles });
}

describe("checkDelegations: each rule", () => {
  const rejected: { name: string; input: Parameters<typeof check>[0]; reason: RegExp }[] = [
    { name: "parent profile not in delegation.acl", input: { delegations: [d("a")], config: { delegation: { acl: { lead: ["docs"] } } } }, reason: /profile planner may not delegate \(not in delegation\.acl\)/ },
    { name: "parent profile with an empty ACL entry", input: { delegations: [d("a")], config: { delegation: { acl: { planner: [] } } } }, reason: /not in delegation\.acl/ },
    { name: "profile.delegation.allowed false, though the ACL lists it", input: { parentProfile: "feature", delegations: [d("a")], config: { delegation: { acl: { feature: ["docs"] } } } }, reason: /profile feature does not allow delegation/ },
    { name: "target outside the ACL", input: { delegations: [d("a", { profile: "review" })] }, reason: /planner may not delegate to profile review/ },
    { name: "target in the ACL but not in the profile's delegation.to", input: { parentProfile: "narrow", delegations: [d("a", { profile: "feature" })], config: { delegation: { acl: { narrow: ["feature", "docs"] } } } }, reason: /narrow may not delegate to profile feature \(allowed: docs\)/ },
    { name: "unknown profile in the ACL", input: { parentProfile: "lead", delegations: [d("a", { profile: "ghost" })], config: { delegation: { acl: { lead: ["docs", "ghost"] } } } }, reason: /delegation a: unknown profile ghost/ },
    { name: "disabled agent", input: { delegations: [d("a", { agent: "codex" })], config: { agents: { codex: { enabled: false } } } }, reason: /agent codex is not enabled/ },
    { name: "unknown agent", input: { delegations: [d("a", { agent: "gemini" })] }, reason: /agent gemini is not enabled/ },
    { name: "depth over maxDepth (parent has 3 ancestors, maxDepth 3)", input: { ancestors: 3, delegations: [d("a")] }, reason: /depth 4, over delegation\.maxDepth 3/ },
    { name: "depth over a smaller maxDepth", input: { ancestors: 1, delegations: [d("a")], config: { delegation: { maxDepth: 1 } } }, reason: /depth 2, over delegation\.maxDepth 1/ },
    { name: "fan-out over maxChildren, counting existing children", input: { existing: ["e1", "e2", "e3", "e4", "e5", "e6"], delegations: [d("a"), d("b"), d("c")] }, reason: /9 children would exceed delegation\.maxChildren 8/ },
    { name: "fan-out over a configured maxChildren", input: { delegations: [d("a"), d("b"), d("c")], config: { delegation: { maxChildren: 2 } } }, reason: /3 children would exceed delegation\.maxChildren 2/ },
    { name: "after names an unknown key", input: { delegations: [d("a"), d("b", { after: ["zz"] })] }, reason: /delegation b waits for unknown key zz/ },
    { name: "self-dependency", input: { delegations: [d("a", { after: ["a"] })] }, reason: /delegation a waits for itself/ },
    { name: "a two-node cycle", input: { delegations: [d("a", { after: ["b"] }), d("b", { after: ["a"] })] }, reason: /form a cycle: a, b/ },
    { name: "a three-node cycle beside a free node", input: { delegations: [d("x"), d("a", { after: ["c", "x"] }), d("b", { after: ["a"] }), d("c", { after: ["b"] })] }, reason: /form a cycle: a, b, c$/ },
    { name: "a key already used by an earlier child", input: { existing: ["a"], delegations: [d("a")] }, reason: /key a is already used by an earlier child/ },
  ];
  for (const c of rejected) {
    it(`rejects: ${c.name}`, () => {
      const r = check(c.input);
      expect(r.ok).toBe(false);
      expect(r.ok ? "" : r.reason).toMatch(c.reason);
    });
  }

  it("accepts a valid DAG, defaulting the profile to the ACL's first entry and keeping order", () => {
    const r = check({ ancestors: 2, existing: ["setup"], delegations: [d("api", { after: ["setup"] }), d("ui", { profile: "feature", agent: "codex", after: ["api"] }), d("docs", { profile: "docs", after: ["api", "ui"] })] });
    expect(r).toStrictEqual({
      ok: true,
      children: [
        { key: "api", title: "do api", body: "", profile: "feature", after: ["setup"] },
        { key: "ui", title: "do ui", body: "", profile: "feature", agent: "codex", after: ["api"] },
        { key: "docs", title: "do docs", body: "", profile: "docs", after: ["api", "ui"] },
      ],
    });
  });

  it("accepts exactly maxChildren and exactly maxDepth", () => {
    expect(check({ ancestors: 2, existing: ["e1", "e2", "e3", "e4", "e5", "e6"], delegations: [d("a"), d("b")] }).ok).toBe(true);
  });

  it("depthOf counts ancestors and stops at a cycle in the data", () => {
    const { ledger, parent } = family(3);
    expect(depthOf(ledger, parent)).toBe(3);
    expect(depthOf(ledger, ledger.tasks[0]!)).toBe(0);
    const looped = { ...ledger, tasks: ledger.tasks.map((t) => (t.id === 1 ? { ...t, parentId: parent.id } : t)) };
    expect(depthOf(looped, findTask(looped, parent.id)!)).toBe(3);
  });

  it("orderByAfter puts dependencies first and names the keys on a cycle", () => {
    expect(orderByAfter([{ key: "c", after: ["a", "b"] }, { key: "a", after: [] }, { key: "b", after: ["a", "outside"] }])).toEqual({ order: ["a", "b", "c"] });
    expect(orderByAfter([{ key: "a", after: [] }, { key: "b", after: ["c"] }, { key: "c", after: ["b"] }])).toEqual({ cycle: ["b", "c"] });
  });
});

// ---------------------------------------------------------------------------------------------
// S9: 10,000 random requests. The oracle below restates DESIGN.md "Delegation" on the generator's
// own facts (how many ancestors it built, which agents it enabled), not on the code under test.
// ---------------------------------------------------------------------------------------------

const PARENTS = ["planner", "lead", "narrow", "feature"] as const;
const PROFILE_POOL = ["feature", "bugfix", "docs", "tests", "review", "planner", "lead", "ghost"];
const KEYS = ["a", "b", "c", "d", "e", "f"];

interface Case {
  parentProfile: (typeof PARENTS)[number];
  acl: Record<string, string[]>;
  maxDepth: number;
  maxChildren: number;
  ancestors: number;
  existing: string[];
  enabled: Record<string, boolean>;
  delegations: { key: string; profile?: string; agent?: string; after: string[] }[];
}

/** How an `after` entry is drawn: mostly an earlier sibling, sometimes a later one (cycles), an existing child's key or an unknown key. */
const afterPick = fc.record({
  kind: fc.oneof({ weight: 8, arbitrary: fc.constant("earlier" as const) }, { weight: 2, arbitrary: fc.constant("later" as const) }, { weight: 2, arbitrary: fc.constant("existing" as const) }, { weight: 1, arbitrary: fc.constant("unknown" as const) }),
  n: fc.nat(9),
});
const weighted = <T>(common: T[], rare: T[]): fc.Arbitrary<T> => fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...common) }, { weight: 1, arbitrary: fc.constantFrom(...rare) });
const usually = <T>(value: T, otherwise: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 3, arbitrary: fc.constant(value) }, { weight: 1, arbitrary: otherwise });

const rawDelegation = fc.record(
  {
    key: fc.constantFrom(...KEYS),
    profile: fc.option(weighted(["feature", "docs", "tests", "bugfix"], ["review", "planner", "lead", "ghost"]), { nil: undefined, freq: 2 }),
    agent: fc.option(weighted(["claude"], ["codex", "opencode", "gemini"]), { nil: undefined, freq: 2 }),
    picks: fc.array(afterPick, { maxLength: 2 }),
  },
  { requiredKeys: ["key", "picks"] },
);

/** Mostly a workable ACL entry, sometimes a random one, rarely an empty one. */
const aclEntry = fc.oneof(
  { weight: 6, arbitrary: fc.constant(["feature", "bugfix", "docs", "tests", "refactor", "lead"]) },
  { weight: 3, arbitrary: fc.subarray(PROFILE_POOL) },
  { weight: 1, arbitrary: fc.constant([]) },
);

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    parentProfile: weighted(["planner", "lead", "narrow"], ["feature"]),
    acl: fc
      .record(Object.fromEntries(PARENTS.map((p) => [p, fc.option(aclEntry, { nil: undefined, freq: 20 })])))
      .map((acl) => Object.fromEntries(Object.entries(acl).filter(([, v]) => v !== undefined)) as Record<string, string[]>),
    maxDepth: usually(3, fc.integer({ min: 0, max: 4 })),
    maxChildren: usually(8, fc.integer({ min: 1, max: 8 })),
    ancestors: usually(0, fc.integer({ min: 0, max: 4 })),
    existing: fc.uniqueArray(fc.constantFrom("x", "y", "z", "a", "b"), { maxLength: 3 }),
    enabled: fc.record({ codex: fc.boolean(), opencode: fc.boolean() }),
    raw: fc.uniqueArray(rawDelegation, { minLength: 1, maxLength: 5, selector: (x) => x.key }),
  })
  .map(({ raw, ...c }) => ({
    ...c,
    delegations: raw.map(({ picks, ...x }, i) => {
      const after = picks.flatMap(({ kind, n }) => {
        if (kind === "earlier") return i === 0 ? [] : [raw[n % i]!.key];
        if (kind === "later") return [raw[(i + 1 + n) % raw.length]!.key];
        if (kind === "existing") return c.existing.length === 0 ? [] : [c.existing[n % c.existing.length]!];
        return ["zz"];
      });
      return { ...x, after: [...new Set(after)] };
    }),
  })) as fc.Arbitrary<Case>;

const agentEnabled = (c: Case, agent: string): boolean => agent === "claude" || c.enabled[agent] === true;

/** Whether `edges` (key → keys it waits for, restricted to `nodes`) has a cycle: depth-first with colours. */
function hasCycle(nodes: string[], edges: Map<string, string[]>): boolean {
  const colour = new Map<string, "grey" | "black">();
  const visit = (n: string): boolean => {
    if (colour.get(n) === "black") return false;
    if (colour.get(n) === "grey") return true;
    colour.set(n, "grey");
    if ((edges.get(n) ?? []).filter((m) => nodes.includes(m)).some(visit)) return true;
    colour.set(n, "black");
    return false;
  };
  return nodes.some(visit);
}

type Rule = "acl" | "not_allowed" | "depth" | "fan_out" | "reused_key" | "target" | "agent" | "self" | "unknown_after" | "cycle";
const RULES: Rule[] = ["acl", "not_allowed", "depth", "fan_out", "reused_key", "target", "agent", "self", "unknown_after", "cycle"];

/** Every rule the request breaks (all of them, not the first), judged from the generator's own facts. */
function violations(c: Case): Set<Rule> {
  const out = new Set<Rule>();
  const p = prof(c.parentProfile);
  const acl = c.acl[c.parentProfile] ?? [];
  if (acl.length === 0) out.add("acl");
  if (!p.delegation.allowed) out.add("not_allowed");
  if (c.ancestors + 1 > c.maxDepth) out.add("depth");
  if (c.existing.length + c.delegations.length > c.maxChildren) out.add("fan_out");
  const targets = acl.filter((t) => p.delegation.to.length === 0 || p.delegation.to.includes(t));
  const newKeys = c.delegations.map((x) => x.key);
  for (const x of c.delegations) {
    if (c.existing.includes(x.key)) out.add("reused_key");
    const profile = x.profile ?? targets[0];
    if (acl.length > 0 && (profile === undefined || !targets.includes(profile) || !profiles.has(profile))) out.add("target");
    if (x.agent !== undefined && !agentEnabled(c, x.agent)) out.add("agent");
    if (x.after.includes(x.key)) out.add("self");
    if (x.after.some((a) => !newKeys.includes(a) && !c.existing.includes(a))) out.add("unknown_after");
  }
  if (hasCycle(newKeys, new Map(c.delegations.map((x) => [x.key, x.after.filter((a) => a !== x.key)])))) out.add("cycle");
  return out;
}

/** A plain assertion: vitest's expect costs too much for every child of 10,000 requests. */
function ensure(ok: boolean, what: string): void {
  if (!ok) throw new Error(`S9 violated: ${what}`);
}

describe("S9: 10,000 random delegation requests", () => {
  it("every accepted request stays inside the ACL, depth, fan-out and an acyclic after graph; the decision matches the oracle", () => {
    let accepted = 0;
    /** Requests that break exactly one rule, by rule: each rule must be seen enforced on its own. */
    const alone = new Map<Rule, number>(RULES.map((r) => [r, 0]));
    fc.assert(
      fc.property(caseArb, (c) => {
        const { ledger, parent } = family(c.ancestors, c.existing);
        const config = MainConfig.parse({ agents: { codex: { enabled: c.enabled.codex }, opencode: { enabled: c.enabled.opencode } }, delegation: { acl: c.acl, maxDepth: c.maxDepth, maxChildren: c.maxChildren } });
        const delegations = c.delegations.map((x) => Delegation.parse({ title: `do ${x.key}`, ...x }));
        const r = checkDelegations({ ledger, parent, parentProfile: prof(c.parentProfile), delegations, config, profiles });
        const broken = violations(c);
        // Accepted → breaks no rule; rejected → breaks at least one (the reason is printed on failure).
        if (r.ok) expect([...broken]).toEqual([]);
        else expect(broken.size, r.reason).toBeGreaterThan(0);
        if (broken.size === 1) {
          const [rule] = [...broken] as [Rule];
          alone.set(rule, alone.get(rule)! + 1);
        }
        if (!r.ok) return;
        accepted++;
        const acl = c.acl[c.parentProfile] ?? [];
        const p = prof(c.parentProfile);
        const keys = new Set([...r.children.map((k) => k.key), ...c.existing]);
        ensure(p.delegation.allowed, "the parent's profile allows delegation");
        ensure(depthOf(ledger, parent) === c.ancestors && c.ancestors + 1 <= c.maxDepth, "children's depth ≤ maxDepth");
        ensure(c.existing.length + r.children.length <= c.maxChildren, "children per parent ≤ maxChildren");
        ensure(r.children.map((k) => k.key).join() === c.delegations.map((x) => x.key).join(), "one child per delegation, in order");
        for (const [i, child] of r.children.entries()) {
          ensure(acl.includes(child.profile) && (p.delegation.to.length === 0 || p.delegation.to.includes(child.profile)), `edge ${c.parentProfile} → ${child.profile} inside the ACL`);
          ensure(profiles.has(child.profile), `known profile ${child.profile}`);
          ensure(child.agent === undefined || agentEnabled(c, child.agent), `enabled agent ${child.agent}`);
          ensure(child.after.join() === c.delegations[i]!.after.join(), "after kept as asked");
          ensure(!c.existing.includes(child.key), `fresh key ${child.key}`);
          ensure(child.after.every((a) => a !== child.key && keys.has(a)), `after of ${child.key} names other sibling keys`);
        }
        ensure(!hasCycle(r.children.map((k) => k.key), new Map(r.children.map((k) => [k.key, k.after]))), "after edges acyclic");
      }),
      { numRuns: 10_000 },
    );
    // Both outcomes common, and every rule seen enforced on its own, or the property says little.
    expect(accepted).toBeGreaterThan(1000);
    for (const rule of RULES) expect([rule, alone.get(rule)! >= 20]).toEqual([rule, true]);
  });
});
