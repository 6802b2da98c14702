// In-memory Workspaces (one fixed worktree path per task; commits and discards are recorded, not
// made) and an in-memory RepoFiles for the context bundle.
import type { RepoFiles, Workspaces } from "../../src/core/ports.ts";

export class FakeWorkspaces implements Workspaces {
  readonly prepared: number[] = [];
  readonly commits: { taskId: number; message: string }[] = [];
  readonly discarded: number[] = [];
  /** When set, prepare throws it (a failing `git worktree add`). */
  failPrepare: Error | undefined;

  constructor(private readonly root = "/trees") {}

  pathOf(taskId: number): string {
    return `${this.root}/task-${taskId}`;
  }

  async prepare(taskId: number): Promise<{ path: string; branch: string }> {
    if (this.failPrepare) throw this.failPrepare;
    this.prepared.push(taskId);
    return { path: this.pathOf(taskId), branch: `agent-router/task-${taskId}` };
  }

  async commit(taskId: number, message: string): Promise<string | null> {
    this.commits.push({ taskId, message });
    return `c0ffee${this.commits.length.toString().padStart(34, "0")}`;
  }

  async discard(taskId: number): Promise<void> {
    this.discarded.push(taskId);
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
