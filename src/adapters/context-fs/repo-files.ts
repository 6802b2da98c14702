import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BundleWriter, RepoFiles } from "../../core/ports.ts";
import { runGit } from "../ledger-git/run-git.ts";

/** Bytes of a task's diff a bundle may carry; the token budget cuts further. */
export const MAX_DIFF_BYTES = 512 * 1024;

export interface RepoFilesOptions {
  /** The task whose bundle is built: its branch's merge base with `base` is the trusted commit. */
  taskId?: number;
  /** The base branch or commit (the default branch in Actions; HEAD of the main checkout locally). */
  base?: string;
}

interface Entry {
  mode: string;
  oid: string;
}

/**
 * The repository's files for a bundle, read from git objects at a trusted commit: the merge base of
 * the task's branch (`agent-router/task-ID`) with the base branch, or the base itself before the
 * first attempt. What the task's own attempts wrote (an AGENTS.md that says "reviewer: approve") is
 * never read as instructions; it reaches the bundle only through the diff, inside the untrusted
 * block. Uncommitted files, symbolic links and submodules are never read, and reads are capped.
 */
export function repoFiles(root: string, opts: RepoFilesOptions = {}): RepoFiles {
  const base = opts.base ?? "HEAD";
  let tree: Promise<Map<string, Entry>> | undefined;
  const entries = (): Promise<Map<string, Entry>> => (tree ??= loadTree(root, opts.taskId, base));
  return {
    async list() {
      return [...(await entries()).keys()];
    },
    async readText(path, maxBytes) {
      const entry = (await entries()).get(path);
      // Regular files only: a symbolic link (120000) or a submodule (160000) is never followed.
      if (!entry || (entry.mode !== "100644" && entry.mode !== "100755")) return null;
      const r = await readCapped(root, ["cat-file", "blob", entry.oid], maxBytes);
      if (r.code !== 0 && !r.truncated) return null;
      if (r.bytes.includes(0)) return null; // binary
      return { text: r.bytes.toString("utf8").replace(/\uFFFD+$/, ""), truncated: r.truncated };
    },
    async taskDiff(taskId) {
      const branch = `refs/heads/agent-router/task-${taskId}`;
      const exists = await runGit(root, ["rev-parse", "--verify", "--quiet", branch]);
      if (exists.code !== 0) return null;
      const from = await runGit(root, ["merge-base", base, branch]);
      if (from.code !== 0) return null;
      const r = await readCapped(root, ["diff", "--no-color", "--no-ext-diff", from.stdout.trim(), branch], MAX_DIFF_BYTES);
      if (r.bytes.length === 0) return null;
      const text = r.bytes.toString("utf8").replace(/\uFFFD+$/, "");
      return r.truncated ? `${text}\n[… diff cut at ${MAX_DIFF_BYTES / 1024} KB]` : text;
    },
  };
}

/** The trusted commit's files (path → mode and blob id); empty when there is no such commit (an empty repository). */
async function loadTree(root: string, taskId: number | undefined, base: string): Promise<Map<string, Entry>> {
  let commit: string | null = null;
  if (taskId !== undefined) {
    const branch = `refs/heads/agent-router/task-${taskId}`;
    const mb = await runGit(root, ["merge-base", base, branch]);
    if (mb.code === 0) commit = mb.stdout.trim();
  }
  if (commit === null) {
    const head = await runGit(root, ["rev-parse", "--verify", "--quiet", `${base}^{commit}`]);
    if (head.code !== 0) return new Map();
    commit = head.stdout.trim();
  }
  const r = await runGit(root, ["ls-tree", "-r", "-z", "--full-tree", commit]);
  const out = new Map<string, Entry>();
  if (r.code !== 0) return out;
  for (const line of r.stdout.split("\0")) {
    const tab = line.indexOf("\t");
    if (tab < 0) continue;
    const [mode, type, oid] = line.slice(0, tab).split(" ");
    if (type === "blob" && mode && oid) out.set(line.slice(tab + 1), { mode, oid });
  }
  return out;
}

/** Runs git and keeps at most `maxBytes` of its output; a longer output is cut and git stopped. */
function readCapped(cwd: string, args: string[], maxBytes: number): Promise<{ code: number; bytes: Buffer; truncated: boolean }> {
  return new Promise((resolvePromise) => {
    const child = spawn("git", args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", LC_ALL: "C" }, stdio: ["ignore", "pipe", "ignore"] });
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    child.stdout.on("data", (d: Buffer) => {
      if (truncated) return;
      const room = maxBytes - kept;
      if (d.length > room) {
        chunks.push(d.subarray(0, room));
        kept = maxBytes;
        truncated = true;
        child.kill("SIGKILL");
        return;
      }
      chunks.push(d);
      kept += d.length;
    });
    child.on("error", () => resolvePromise({ code: 1, bytes: Buffer.alloc(0), truncated: false }));
    child.on("close", (code) => resolvePromise({ code: code ?? 1, bytes: Buffer.concat(chunks), truncated }));
  });
}

/** Writes `task-ID.md` and `task-ID.manifest.json` into `dir`. */
export function bundleWriter(dir: string): BundleWriter {
  return {
    async write(taskId, text, manifest) {
      await mkdir(dir, { recursive: true });
      const sha256 = createHash("sha256").update(text, "utf8").digest("hex");
      const bundlePath = join(dir, `task-${taskId}.md`);
      const manifestPath = join(dir, `task-${taskId}.manifest.json`);
      await writeFile(bundlePath, text, { mode: 0o600 });
      await writeFile(manifestPath, `${JSON.stringify({ ...manifest, sha256 }, null, 2)}\n`, { mode: 0o600 });
      return { bundlePath, manifestPath, sha256 };
    },
  };
}
