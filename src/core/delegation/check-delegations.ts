import type { MainConfig } from "../config/main-config.ts";
import type { Profile } from "../config/profile.ts";
import type { Delegation } from "../handoff/handoff.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Task } from "../ledger/task.ts";
import { isAgentEnabled } from "../routing/decide-route.ts";

export interface PlannedChild {
  key: string;
  title: string;
  body: string;
  profile: string;
  agent?: string;
  after: string[];
}

/**
 * `refused`: the delegation ACL (or depth limit) forbids it, so running the agent again cannot
 * succeed; a person must change the config or the task. Other failures are the agent's mistakes
 * (a duplicate key, a cycle) that another attempt may get right.
 */
export type DelegationCheck = { ok: true; children: PlannedChild[] } | { ok: false; reason: string; refused?: true };

/** A task's ancestors, nearest first, and whether the parent chain loops back on itself. */
export function ancestorsOf(ledger: Ledger, task: Task): { ancestors: Task[]; cycle: boolean } {
  const byId = new Map(ledger.tasks.map((t) => [t.id, t]));
  const ancestors: Task[] = [];
  const seen = new Set<number>([task.id]);
  for (let p = task.parentId; p !== undefined; p = byId.get(p)?.parentId) {
    if (seen.has(p)) return { ancestors, cycle: true };
    seen.add(p);
    const t = byId.get(p);
    if (!t) break;
    ancestors.push(t);
  }
  return { ancestors, cycle: false };
}

/** How many ancestors a task has (a top-level task is at depth 0). Stops at a cycle in the data. */
export function depthOf(ledger: Ledger, task: Task): number {
  return ancestorsOf(ledger, task).ancestors.length;
}

/** Keys in an order where each comes after everything it waits for, or the keys on a cycle. */
export function orderByAfter(items: readonly { key: string; after: readonly string[] }[]): { order: string[] } | { cycle: string[] } {
  const indegree = new Map(items.map((i) => [i.key, 0]));
  const dependents = new Map<string, string[]>(items.map((i) => [i.key, []]));
  for (const i of items) {
    for (const a of i.after) {
      if (!indegree.has(a)) continue;
      indegree.set(i.key, (indegree.get(i.key) ?? 0) + 1);
      dependents.get(a)!.push(i.key);
    }
  }
  const ready = items.filter((i) => indegree.get(i.key) === 0).map((i) => i.key);
  const order: string[] = [];
  while (ready.length > 0) {
    const k = ready.shift()!;
    order.push(k);
    for (const d of dependents.get(k) ?? []) {
      indegree.set(d, indegree.get(d)! - 1);
      if (indegree.get(d) === 0) ready.push(d);
    }
  }
  return order.length === items.length ? { order } : { cycle: items.map((i) => i.key).filter((k) => !order.includes(k)) };
}

/**
 * Checks a `delegate` handoff before any child exists: the parent's profile must be allowed to
 * delegate (by `delegation.acl` and by the profile itself), each child's profile must be one it
 * may delegate to, agents must be enabled, depth ≤ maxDepth, children ≤ maxChildren, and `after`
 * must name sibling keys and form no cycle. The first violation is the reason; nothing is created.
 * A child without a profile gets the first one the ACL lists.
 */
export function checkDelegations(input: { ledger: Ledger; parent: Task; parentProfile: Profile; delegations: readonly Delegation[]; config: MainConfig; profiles: ReadonlyMap<string, Profile> }): DelegationCheck {
  const { ledger, parent, parentProfile, delegations, config, profiles } = input;
  const acl = config.delegation.acl[parentProfile.name];
  if (!acl || acl.length === 0) return { ok: false, reason: `profile ${parentProfile.name} may not delegate (not in delegation.acl)`, refused: true };
  if (!parentProfile.delegation.allowed) return { ok: false, reason: `profile ${parentProfile.name} does not allow delegation`, refused: true };
  const lineage = ancestorsOf(ledger, parent);
  if (lineage.cycle) return { ok: false, reason: `the parent chain of task ${parent.id} loops back on itself` };
  // A child never gets more than its whole chain allows: each delegating ancestor's ACL narrows it.
  let targets = parentProfile.delegation.to.length > 0 ? acl.filter((p) => parentProfile.delegation.to.includes(p)) : acl;
  for (const a of lineage.ancestors) {
    const allowed = config.delegation.acl[a.route?.profile ?? ""];
    if (allowed) targets = targets.filter((p) => allowed.includes(p) || p === a.route?.profile);
  }
  if (targets.length === 0) return { ok: false, reason: `profile ${parentProfile.name} has no profile left to delegate to (delegation.acl, the profile's delegation.to and its ancestors' ACLs share none)`, refused: true };
  const depth = lineage.ancestors.length + 1;
  if (depth > config.delegation.maxDepth) return { ok: false, reason: `children would be at depth ${depth}, over delegation.maxDepth ${config.delegation.maxDepth}`, refused: true };
  const total = parent.children.length + delegations.length;
  if (total > config.delegation.maxChildren) return { ok: false, reason: `${total} children would exceed delegation.maxChildren ${config.delegation.maxChildren}` };
  const keys = new Set(delegations.map((d) => d.key));
  const siblingKeys = new Set(ledger.tasks.filter((t) => t.parentId === parent.id && t.source.kind === "parent").map((t) => (t.source.kind === "parent" ? t.source.key : "")));
  const children: PlannedChild[] = [];
  if (keys.size < delegations.length) return { ok: false, reason: "two delegations share a key" };
  for (const d of delegations) {
    if (siblingKeys.has(d.key)) return { ok: false, reason: `key ${d.key} is already used by an earlier child` };
    const profile = d.profile ?? targets[0]!;
    if (!targets.includes(profile)) return { ok: false, reason: `${parentProfile.name} may not delegate to profile ${profile} (allowed: ${targets.join(", ")})`, refused: true };
    if (!profiles.has(profile)) return { ok: false, reason: `delegation ${d.key}: unknown profile ${profile}` };
    if (d.agent !== undefined && !isAgentEnabled(config, d.agent)) return { ok: false, reason: `delegation ${d.key}: agent ${d.agent} is not enabled` };
    for (const a of d.after) {
      if (a === d.key) return { ok: false, reason: `delegation ${d.key} waits for itself` };
      if (!keys.has(a) && !siblingKeys.has(a)) return { ok: false, reason: `delegation ${d.key} waits for unknown key ${a}` };
    }
    children.push({ key: d.key, title: d.title, body: d.body, profile, ...(d.agent ? { agent: d.agent } : {}), after: [...d.after] });
  }
  const ordered = orderByAfter(children);
  if ("cycle" in ordered) return { ok: false, reason: `the after dependencies form a cycle: ${ordered.cycle.join(", ")}` };
  return { ok: true, children };
}
