import { open, readFile, stat, unlink } from "node:fs/promises";

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

/**
 * Runs `fn` holding an exclusive lock file (O_EXCL create, holder's pid inside). It only keeps
 * writers on one machine from starving each other; correctness rests on compare-and-swap, so a
 * lock that cannot be had in time is skipped, and a dead holder's lock is taken over.
 */
export async function withLockFile<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? 30_000);
  let held = false;
  while (!held && Date.now() < deadline) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      held = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (await isStale(path, opts.staleMs ?? 60_000)) await unlink(path).catch(() => undefined);
      else await new Promise((r) => setTimeout(r, (opts.pollMs ?? 15) * (0.5 + Math.random())));
    }
  }
  try {
    return await fn();
  } finally {
    if (held) await unlink(path).catch(() => undefined);
  }
}
