import type { Ledger } from "./ledger.ts";
import type { Task } from "./task.ts";

export interface MergeResult {
  ledger: Ledger;
  /** Local task ids that had to take a new id because the remote handed theirs out meanwhile. */
  renumbered: Map<number, number>;
  /** Tasks both sides changed differently since the base; nothing is merged when non-empty. */
  conflicts: number[];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function remapTask(task: Task, map: ReadonlyMap<number, number>): Task {
  if (map.size === 0) return task;
  const id = (n: number): number => map.get(n) ?? n;
  const next: Task = { ...task, id: id(task.id), children: task.children.map(id) };
  if (task.parentId !== undefined) next.parentId = id(task.parentId);
  if (task.source.kind === "parent") next.source = { ...task.source, parentId: id(task.source.parentId) };
  next.history = task.history.map((h) => {
    if (!h.data) return h;
    const data = { ...h.data };
    if (typeof data.id === "number") data.id = id(data.id);
    if (typeof data.parentId === "number") data.parentId = id(data.parentId);
    if (Array.isArray(data.children)) data.children = (data.children as unknown[]).map((c) => (typeof c === "number" ? id(c) : c));
    const src = data.source as { kind?: string; parentId?: unknown } | undefined;
    if (src?.kind === "parent" && typeof src.parentId === "number") data.source = { ...src, parentId: id(src.parentId) };
    return { ...h, data };
  });
  return next;
}

/**
 * Three-way merge of two ledgers that diverged from `base`, task by task: a task changed on one
 * side only takes that side's version; a task one side archived (gone from its hot file) and the
 * other left as it was stays archived; tasks created locally are appended with fresh ids after the
 * remote's (references to them remapped, jobs' `activeTaskId` included); a task changed on both
 * sides differently, or archived on one side and changed on the other, is a conflict.
 */
export function mergeLedgers(base: Ledger | null, local: Ledger, remote: Ledger): MergeResult {
  const baseById = new Map((base?.tasks ?? []).map((t) => [t.id, t]));
  const remoteById = new Map(remote.tasks.map((t) => [t.id, t]));
  const created = local.tasks.filter((t) => !baseById.has(t.id)).sort((a, b) => a.id - b.id);
  const renumbered = new Map<number, number>();
  created.forEach((t, k) => {
    if (t.id !== remote.nextId + k) renumbered.set(t.id, remote.nextId + k);
  });
  const conflicts: number[] = [];
  const replaced = new Map<number, Task>();
  for (const task of local.tasks) {
    const before = baseById.get(task.id);
    if (!before || same(before, task)) continue;
    const theirs = remoteById.get(task.id);
    if (theirs && same(before, theirs)) replaced.set(task.id, remapTask(task, renumbered));
    else if (!theirs || !same(theirs, task)) conflicts.push(task.id);
  }
  // Archived locally: gone from the local hot file (the archive files are unioned by the store).
  const localIds = new Set(local.tasks.map((t) => t.id));
  const archived = new Set<number>();
  for (const theirs of remote.tasks) {
    const before = baseById.get(theirs.id);
    if (!before || localIds.has(theirs.id)) continue;
    if (same(before, theirs)) archived.add(theirs.id);
    else conflicts.push(theirs.id);
  }
  const remapId = (id: number): number => renumbered.get(id) ?? id;
  const jobs = { ...remote.jobs };
  for (const [key, state] of Object.entries(local.jobs)) {
    if (same(base?.jobs[key], state) || !same(base?.jobs[key], remote.jobs[key])) continue;
    jobs[key] = state.activeTaskId === undefined ? state : { ...state, activeTaskId: remapId(state.activeTaskId) };
  }
  const seen = new Set(remote.deliveries.map((d) => d.id));
  const deliveries = [...remote.deliveries, ...local.deliveries.filter((d) => !seen.has(d.id))];
  const kept = remote.tasks.filter((t) => !archived.has(t.id)).map((t) => replaced.get(t.id) ?? t);
  const tasks = [...kept, ...created.map((t) => remapTask(t, renumbered))];
  return {
    ledger: { ...remote, nextId: remote.nextId + created.length, tasks, jobs, deliveries },
    renumbered,
    conflicts: conflicts.sort((a, b) => a - b),
  };
}
