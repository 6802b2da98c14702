// The agent process registry: one small file per running agent process group, so that a worker
// that dies (SIGKILL, OOM, a lost runner) cannot leave its agents running. The next worker on the
// machine calls `reapOrphans()` and stops every group whose owner is gone.
//
// Pids are reused, so a pid alone never identifies a process: every record also keeps the start
// time from /proc/<pid>/stat, and a pid counts as "the same process" only when it still matches.
// Without /proc (not Linux) start times are unknown (null) and a pid that exists counts as alive:
// an orphan whose owner's pid was reused is then left running, which errs on the side of never
// killing someone else's process.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentProcesses, ReapedRun } from "../../core/ports.ts";

/** The run an agent process group belongs to. */
export interface TrackedRun {
  taskId: number;
  key: string;
}

/** What the spawner needs: record a group when it starts, forget it once it is gone. */
export interface ProcessTracker {
  track(pid: number, run: TrackedRun): void;
  untrack(pid: number): void;
}

export type ProcessRegistry = AgentProcesses & ProcessTracker;

/** The file `<dir>/<pgid>.json`. Start times are in clock ticks since boot; null without /proc. */
interface ProcRecord extends TrackedRun {
  pgid: number;
  startTime: number | null;
  ownerPid: number;
  ownerStartTime: number | null;
}

const HAS_PROC = existsSync("/proc/self/stat");
/** Never 0 or 1: kill(-0) is our own group and kill(-1) every process we may signal. */
const validGroup = (pgid: number): boolean => Number.isInteger(pgid) && pgid > 1;
const POLL_MS = 50;
/** A temp file this old was left by a writer killed between write and rename. */
const STALE_TEMP_MS = 60_000;

interface ProcStat {
  state: string;
  pgrp: number;
  startTime: number;
}

/**
 * Fields of /proc/<pid>/stat, or null when the process does not exist. The second field (comm)
 * is in parentheses and may itself contain spaces and parentheses, so the fields are counted
 * from the LAST ')': after it come field 3 (state), 5 (pgrp) … 22 (starttime).
 */
function procStat(pid: number | string): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const rest = text.slice(text.lastIndexOf(")") + 1).trim().split(" ");
  const pgrp = Number(rest[2]);
  const startTime = Number(rest[19]);
  if (!rest[0] || !Number.isInteger(pgrp) || !Number.isInteger(startTime)) return null;
  return { state: rest[0], pgrp, startTime };
}

/** A zombie (or a dying task) has exited; only its parent's wait() is missing. */
const exited = (s: ProcStat): boolean => s.state === "Z" || s.state === "X";

/** The start time of a live process, or null (gone, a zombie, or no /proc). */
function startTimeOf(pid: number): number | null {
  const s = HAS_PROC ? procStat(pid) : null;
  return s && !exited(s) ? s.startTime : null;
}

/** Whether the process that had this start time is still running under this pid. */
function isAlive(pid: number, startTime: number | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false; // EPERM: exists, another user's
  }
  if (!HAS_PROC) return true;
  const s = procStat(pid);
  if (!s || exited(s)) return false;
  return startTime === null || s.startTime === startTime;
}

/**
 * Whether any process of the group is still running. `kill(-pgid, 0)` also succeeds for a group
 * of zombies, which linger when the reparenting init does not reap them (as in some containers),
 * so with /proc the members are looked up and zombies ignored.
 */
function groupAlive(pgid: number): boolean {
  if (!validGroup(pgid)) return false;
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (!HAS_PROC) return true;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(name);
    if (s && s.pgrp === pgid && !exited(s)) return true;
  }
  return false;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (!validGroup(pgid)) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (groupAlive(pgid)) {
    if (performance.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/** Best effort inside reapOrphans: a record that cannot be removed is just looked at again next time. */
function forget(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // ENOENT (another reaper was faster), or a path that is not a file
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function parseRecord(text: string): ProcRecord | null {
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof r !== "object" || r === null) return null;
  const o = r as Record<string, unknown>;
  const time = (v: unknown): boolean => v === null || Number.isInteger(v);
  if (!validGroup(o["pgid"] as number) || !(Number.isInteger(o["ownerPid"]) && (o["ownerPid"] as number) > 0) || !Number.isInteger(o["taskId"]) || typeof o["key"] !== "string") return null;
  if (!time(o["startTime"]) || !time(o["ownerStartTime"])) return null;
  return o as unknown as ProcRecord;
}

/**
 * A registry of agent process groups under `dir` (`.git/agent-router/procs`). `ownerPid` is the
 * worker that owns the groups this instance tracks (this process unless a test says otherwise);
 * `graceMs` is how long an orphan has between SIGTERM and SIGKILL.
 */
export function processRegistry(dir: string, opts: { graceMs?: number; ownerPid?: number } = {}): ProcessRegistry {
  const graceMs = opts.graceMs ?? 3000;
  const ownerPid = opts.ownerPid ?? process.pid;
  const ownerStartTime = startTimeOf(ownerPid);
  const own = new Set<number>();
  const fileOf = (pgid: number): string => join(dir, `${pgid}.json`);

  /** Stops one orphaned group if it is still the recorded one. */
  async function stop(r: ProcRecord): Promise<void> {
    if (!groupAlive(r.pgid)) return;
    // A leader with another start time is a new process that reused the pid, and maybe leads a new
    // group with the same id: the kernel does not hand out a pid while a group of that id exists,
    // so the recorded group is gone. A dead leader with live members is still the recorded group.
    const leader = HAS_PROC ? procStat(r.pgid) : null;
    if (leader && r.startTime !== null && leader.startTime !== r.startTime) return;
    signalGroup(r.pgid, "SIGTERM");
    if (await waitGone(r.pgid, graceMs)) return;
    signalGroup(r.pgid, "SIGKILL");
    await waitGone(r.pgid, 1000); // so that a caller who then removes the worktree finds it unused
  }

  return {
    track(pid, run) {
      // Synchronous and atomic (temp file + rename): a worker killed at any point leaves either
      // no record or a whole one, never a torn file.
      mkdirSync(dir, { recursive: true });
      const record: ProcRecord = { pgid: pid, startTime: startTimeOf(pid), ownerPid, ownerStartTime, taskId: run.taskId, key: run.key };
      const temp = join(dir, `.${pid}.${process.pid}.tmp`);
      writeFileSync(temp, JSON.stringify(record) + "\n");
      renameSync(temp, fileOf(pid));
      own.add(pid);
    },

    untrack(pid) {
      own.delete(pid);
      removeFile(fileOf(pid));
    },

    async reapOrphans() {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw e;
      }
      const orphans: ProcRecord[] = [];
      for (const name of names) {
        const path = join(dir, name);
        if (name.endsWith(".tmp")) {
          // Never renamed: its writer was killed mid-track. Only old ones, a live writer may be busy.
          if (ageMs(path) > STALE_TEMP_MS) forget(path);
          continue;
        }
        if (!/^\d+\.json$/.test(name)) continue;
        let record: ProcRecord | null;
        try {
          record = parseRecord(readFileSync(path, "utf8"));
        } catch {
          record = null;
        }
        if (!record) {
          forget(path); // corrupt or unreadable: nothing in it can be trusted to kill by
          continue;
        }
        if (isAlive(record.ownerPid, record.ownerStartTime)) continue; // a live worker's agent
        orphans.push(record);
      }
      // In parallel, so that n orphans cost one grace period, not n.
      await Promise.all(orphans.map((r) => stop(r)));
      for (const r of orphans) forget(fileOf(r.pgid));
      // Every orphan is reported, also those whose group had already exited: the caller learns
      // from them that the owning worker died.
      return orphans.map((r): ReapedRun => ({ taskId: r.taskId, key: r.key, pgid: r.pgid }));
    },

    killOwn() {
      // Records stay on disk: the next reapOrphans reports these runs, whose worker is exiting.
      for (const pgid of own) signalGroup(pgid, "SIGKILL");
    },
  };
}
