import { git } from "./run-git.ts";

interface Entry {
  mode: string;
  type: string;
  sha: string;
  name: string;
}

async function listTree(cwd: string, tree: string | null): Promise<Entry[]> {
  if (!tree) return [];
  const out = await git(cwd, ["ls-tree", "-z", tree]);
  return out
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const [meta = "", name = ""] = line.split("\t");
      const [mode = "", type = "", sha = ""] = meta.split(" ");
      return { mode, type, sha, name };
    });
}

/**
 * A new tree: `base` (a tree, or a commit's tree) with the files in `updates` (path → blob sha) added or replaced, built with
 * ls-tree and mktree only, so neither the user's index nor working tree is touched.
 */
export async function writeTree(cwd: string, base: string | null, updates: ReadonlyMap<string, string>): Promise<string> {
  const entries = await listTree(cwd, base);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const nested = new Map<string, Map<string, string>>();
  for (const [path, sha] of updates) {
    const slash = path.indexOf("/");
    if (slash < 0) {
      byName.set(path, { mode: "100644", type: "blob", sha, name: path });
    } else {
      const dir = path.slice(0, slash);
      const sub = nested.get(dir) ?? new Map<string, string>();
      sub.set(path.slice(slash + 1), sha);
      nested.set(dir, sub);
    }
  }
  for (const [dir, sub] of nested) {
    const existing = byName.get(dir);
    const sha = await writeTree(cwd, existing?.type === "tree" ? existing.sha : null, sub);
    byName.set(dir, { mode: "040000", type: "tree", sha, name: dir });
  }
  const input = [...byName.values()].map((e) => `${e.mode} ${e.type} ${e.sha}\t${e.name}\0`).join("");
  return git(cwd, ["mktree", "-z"], input);
}
