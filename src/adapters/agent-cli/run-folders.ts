import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { RunFolders } from "../../core/ports.ts";

const REPAIR = "-repair";

/**
 * The run folders under `runRoot`, named by `runDirOf` (cli-agent-runner.ts): `task-ID-KEY` and,
 * for the repair round of the same attempt, `task-ID-KEY-repair`. Pruning counts an attempt and its
 * repair folder as one and orders attempts by the newest modification time of their folders.
 */
export function runFolders(runRoot: string): RunFolders {
  return {
    async prune(taskId, keep) {
      let names: string[];
      try {
        names = (await readdir(runRoot, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      // `task-1-` is not a prefix of `task-12-…`: the id ends at the dash.
      const prefix = `task-${taskId}-`;
      const attempts = new Map<string, { folders: string[]; mtimeMs: number }>();
      for (const name of names) {
        if (!name.startsWith(prefix) || name.length === prefix.length) continue;
        const attempt = name.endsWith(REPAIR) && name.length > prefix.length + REPAIR.length ? name.slice(0, -REPAIR.length) : name;
        let mtimeMs: number;
        try {
          mtimeMs = (await stat(join(runRoot, name))).mtimeMs;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // removed meanwhile
          throw err;
        }
        const entry = attempts.get(attempt) ?? { folders: [], mtimeMs: -Infinity };
        entry.folders.push(name);
        entry.mtimeMs = Math.max(entry.mtimeMs, mtimeMs);
        attempts.set(attempt, entry);
      }
      const oldestFirst = [...attempts.entries()].sort(([a, x], [b, y]) => x.mtimeMs - y.mtimeMs || (a < b ? -1 : a > b ? 1 : 0));
      const drop = oldestFirst.slice(0, Math.max(0, oldestFirst.length - Math.max(0, keep)));
      for (const [, { folders }] of drop) {
        for (const name of folders) {
          try {
            await rm(join(runRoot, name), { recursive: true });
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
          }
        }
      }
    },
  };
}
