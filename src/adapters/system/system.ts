import { createHash, randomBytes } from "node:crypto";
import { access, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Backoff, Clock, ProjectFiles, Timer } from "../../core/ports.ts";

export const systemClock: Clock = { now: () => new Date() };

export const systemBackoff: Backoff = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/** A fresh W3C traceparent: version 00, 128-bit trace id, 64-bit parent id, sampled. */
export function newTraceId(): string {
  return `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;
}

/** A fresh boundary for untrusted blocks: 128 random bits as hex, new for every prompt or bundle. */
export function newBoundary(): string {
  return randomBytes(16).toString("hex");
}

/** The user's working tree rooted at `root`. */
export function projectFiles(root: string): ProjectFiles {
  return {
    async exists(path) {
      try {
        await access(join(root, path));
        return true;
      } catch {
        return false;
      }
    },
    async create(path, text) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text, { flag: "wx" });
    },
  };
}

/** Heartbeats on real timers that never keep the process alive by themselves. */
export const systemTimer: Timer = {
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return { stop: () => clearInterval(handle) };
  },
};

/** The attempt's idempotency key: sha256(taskId|attempt), first 20 hex digits (80 bits). */
export function attemptKey(taskId: number, attempt: number): string {
  return createHash("sha256").update(`${taskId}|${attempt}`).digest("hex").slice(0, 20);
}
