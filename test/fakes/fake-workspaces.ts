// In-memory Workspaces (one worktree path per attempt; prepares, commits and removals are
// recorded, not made) and an in-memory RepoFiles for the context bundle.
import type { RepoFiles, Workspaces } from "../../src/core/ports.ts";

export class FakeWorkspaces implements Workspaces {
  readonly prepared: { taskId: number; key: string }[] = [];
  readonly commits: { taskId: number; key: string; message: string }[] = [];
  readonly removed: { taskId: number; key: string }[] = [];
  /** Keys prepared and not removed since: a worktree still on disk. */
  readonly live = new Set<string>();
  /** When set, prepare throws it (a failing `git worktree add`). */
  failPrepare: Error | undefined;
  /** The attempt key whose commit finds the task branch moved (another attempt landed first). */
  conflictOn: string | undefined;

  constructor(private readonly root = "/trees") {}

  pathOf(taskId: number, key: string): string {
    return `${this.root}/task-${taskId}-${key}`;
  }

  async prepare(taskId: number, key: string): Promise<{ path: string; branch: string }> {
    if (this.failPrepare) throw this.failPrepare;
    this.prepared.push({ taskId, key });
    this.live.add(key);
    return { path: this.pathOf(taskId, key), branch: `agent-router/task-${taskId}` };
  }

  async commit(taskId: number, key: string, message: string): Promise<{ commit: string } | { conflict: true } | null> {
    this.commits.push({ taskId, key, message });
    if (key === this.conflictOn) return { conflict: true };
    return { commit: `c0ffee${this.commits.length.toString().padStart(34, "0")}` };
  }

  async remove(taskId: number, key: string): Promise<void> {
    this.removed.push({ taskId, key });
    this.live.delete(key);
  }
}

/** A working tree held in memory: text files by path, diffs by task id. */
export class MemoryRepoFiles implements RepoFiles {
  constructor(
    private readonly files: Readonly<Record<string, string>> = {},
    private readonly diffs: Readonly<Record<number, string>> = {},
  ) {}

  async list(): Promise<string[]> {
    return Object.keys(this.files).sort();
  }

  async readText(path: string, maxBytes: number): Promise<{ text: string; truncated: boolean } | null> {
    const text = this.files[path];
    if (text === undefined) return null;
    const bytes = Buffer.from(text, "utf8");
    return { text: bytes.subarray(0, maxBytes).toString("utf8"), truncated: bytes.length > maxBytes };
  }

  async taskDiff(taskId: number): Promise<string | null> {
    return this.diffs[taskId] ?? null;
  }
}
