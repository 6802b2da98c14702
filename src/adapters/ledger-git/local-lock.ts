import { link, readdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface LockOptions {
  /** Give up waiting after this long and go on without the lock (writes are still compare-and-swap). */
  waitMs?: number;
  pollMs?: number;
  /** A lock whose holder cannot be seen and which is older than this is taken over. */
  staleMs?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 0) return !alive(pid);
    return Date.now() - info.mtimeMs > staleMs;
  } catch {
    return false; // released meanwhile
  }
}

/** Removes `<lock>.<pid>.<n>` files left by writers killed between writing and linking them. */
async function removeOrphans(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(name.slice(prefix.length).split(".")[0]);
    if (name.startsWith(prefix) && Number.isInteger(pid) && pid !== process.pid && !alive(pid)) await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}

/**
 * Runs `fn` holding an exclusive lock file whose content is the holder's pid. The file is written
 * under a private name and then hard-linked into place, so a lock never exists without its pid,
 * even when the holder is killed half-way. It only keeps
 * writers on one machine from starving each other; correctness rests on compare-and-swap, so a
 * lock that cannot be had in time is skipped, and a dead holder's lock is taken over.
 */
export async function withLockFile<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  // Callers in this process queue here first (a serve loop runs several tasks at once), so they
  // neither poll each other's lock nor share a private file name.
  const previous = queues.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mineDone = new Promise<void>((r) => (release = r));
  const tail = previous.then(() => mineDone);
  queues.set(path, tail);
  await previous;
  try {
    return await withFileLock(path, fn, opts);
  } finally {
    release();
    if (queues.get(path) === tail) queues.delete(path);
  }
}

const queues = new Map<string, Promise<void>>();
let sequence = 0;

async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? 30_000);
  const mine = `${path}.${process.pid}.${sequence++}`;
  await removeOrphans(path);
  await writeFile(mine, String(process.pid));
  let held = false;
  try {
    while (!held && Date.now() < deadline) {
      try {
        await link(mine, path);
        held = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        if (await isStale(path, opts.staleMs ?? 10_000)) await unlink(path).catch(() => undefined);
        else await new Promise((r) => setTimeout(r, (opts.pollMs ?? 15) * (0.5 + Math.random())));
      }
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  try {
    return await fn();
  } finally {
    if (held) await unlink(path).catch(() => undefined);
  }
}
