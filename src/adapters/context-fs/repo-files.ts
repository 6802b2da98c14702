import { createHash } from "node:crypto";
import { mkdir, open, realpath, writeFile } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import type { BundleWriter, RepoFiles } from "../../core/ports.ts";
import { git, runGit } from "../ledger-git/run-git.ts";

/** The working tree at `root`, read through git for the file list and the filesystem for content. */
export function repoFiles(root: string): RepoFiles {
  const base = resolve(root);
  return {
    async list() {
      const r = await runGit(root, ["ls-files", "-z", "--cached"]);
      if (r.code !== 0) return [];
      return r.stdout.split("\0").filter(Boolean);
    },
    async readText(path, maxBytes) {
      const full = resolve(base, path);
      if (!full.startsWith(base + sep)) return null; // never outside the tree
      let handle;
      try {
        // Symbolic links are followed only when they stay inside the tree (a tracked AGENTS.md ->
        // ~/.ssh/id_rsa must not reach a bundle).
        const [real, realBase] = await Promise.all([realpath(full), realpath(base)]);
        if (!real.startsWith(realBase + sep)) return null;
        handle = await open(real, "r");
      } catch {
        return null;
      }
      try {
        if (!(await handle.stat()).isFile()) return null;
        const buf = Buffer.alloc(maxBytes + 1);
        const { bytesRead } = await handle.read(buf, 0, maxBytes + 1, 0);
        const bytes = buf.subarray(0, Math.min(bytesRead, maxBytes));
        if (bytes.includes(0)) return null; // binary
        return { text: bytes.toString("utf8").replace(/\uFFFD+$/, ""), truncated: bytesRead > maxBytes };
      } finally {
        await handle.close();
      }
    },
    async taskDiff(taskId) {
      const branch = `agent-router/task-${taskId}`;
      const exists = await runGit(root, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]);
      if (exists.code !== 0) return null;
      const baseCommit = await git(root, ["merge-base", "HEAD", branch]);
      const diff = await runGit(root, ["diff", "--no-color", "--no-ext-diff", baseCommit, branch]);
      return diff.code === 0 && diff.stdout.length > 0 ? diff.stdout : null;
    },
  };
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
