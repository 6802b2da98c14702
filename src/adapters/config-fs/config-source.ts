import { readdir, readFile, realpath } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { RouterError } from "../../core/errors.ts";
import type { ConfigSource } from "../../core/ports.ts";
import { git, runGit } from "../ledger-git/run-git.ts";

/** Sources made by `workingTreeSource`: their files are named by path alone in messages. */
const workingTrees = new WeakSet<ConfigSource>();

/**
 * How a file of `source` is named in messages and `sources` maps: the bare path for the working
 * tree (what a person edits), `path (commit 1a2b3c4d (main))` for anything else, so a problem in a
 * committed file is not mistaken for one in the working tree.
 */
export function sourceFile(source: ConfigSource, path: string): string {
  return workingTrees.has(source) ? path : `${path} (${source.describe})`;
}

/** `root` itself when it is a string (the working tree there), else the source as given. */
export function toConfigSource(root: string | ConfigSource): ConfigSource {
  return typeof root === "string" ? workingTreeSource(root) : root;
}

/** The path's parts, or null when it is absolute or climbs out with `..` (never allowed, whatever the source). */
function pathParts(path: string): string[] | null {
  if (path.includes("\0") || path.includes("\n") || isAbsolute(path) || path.startsWith("/") || path.includes("\\")) return null;
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  return parts.includes("..") ? null : parts;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * The files under `root` (the local CLI). A path that leaves the tree, by `..` or through a symbolic
 * link pointing outside it, reads as missing.
 */
export function workingTreeSource(root: string): ConfigSource {
  const top = resolve(root);
  /** The real location of `path`, or null when it is missing or outside the tree. */
  const locate = async (path: string): Promise<string | null> => {
    const parts = pathParts(path);
    if (parts === null) return null;
    try {
      const [realTop, real] = await Promise.all([realpath(top), realpath(join(top, ...parts))]);
      return isInside(realTop, real) ? real : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  };
  const source: ConfigSource = {
    describe: `working tree at ${top}`,
    async read(path) {
      const real = await locate(path);
      if (real === null) return null;
      try {
        return await readFile(real, "utf8");
      } catch (err) {
        if (isMissing(err)) return null;
        throw err; // EISDIR, EACCES: not the same as "no such file", so not taken for defaults
      }
    },
    async list(dir) {
      const real = await locate(dir);
      if (real === null) return [];
      let entries;
      try {
        entries = await readdir(real, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return [];
        throw err;
      }
      // Files, and symbolic links to files (`read` refuses one that leads outside the tree).
      return entries
        .filter((e) => e.isFile() || e.isSymbolicLink())
        .map((e) => e.name)
        .sort();
    },
  };
  workingTrees.add(source);
  return source;
}

/** One object from `git cat-file --batch --follow-symlinks`: its type and text, or null when missing. */
function parseBatchOutput(out: string): { type: string; text: string } | null {
  const newline = out.indexOf("\n");
  const header = newline === -1 ? out : out.slice(0, newline);
  // "<name> missing", or a symbolic link git would not follow: outside the tree, dangling, a loop,
  // or a path through a file ("symlink|dangling|loop|notdir <size>").
  if (header.endsWith(" missing") || /^(symlink|dangling|loop|notdir) \d+$/.test(header)) return null;
  const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
  if (!m) throw new RouterError("E_GIT", `unexpected output from git cat-file: ${header}`, { header });
  return { type: m[1] as string, text: out.slice(newline + 1, out.endsWith("\n") ? -1 : undefined) };
}

/**
 * The files of one commit of the repository at `root` (the Action and the app read the default
 * branch's commit: a branch under review must not choose which commands run or which secrets they
 * get). `commitish` is resolved to a sha once, so every read sees the same commit. The working tree
 * is never read.
 */
export async function commitSource(root: string, commitish: string): Promise<ConfigSource> {
  const notFound = (why: string): RouterError =>
    new RouterError("E_CONFIG_INVALID", `cannot read the configuration from "${commitish}": ${why}`, { commitish, root }, {
      fix: "Pass an existing branch, tag or commit of this repository (fetch it first, e.g. `git fetch origin main`).",
    });
  if (commitish === "" || commitish.startsWith("-") || /[\s\0]/.test(commitish)) throw notFound("not a valid revision");
  const resolved = await runGit(root, ["rev-parse", "--verify", "--quiet", `${commitish}^{commit}`]);
  if (resolved.code !== 0) {
    // A revision that does not exist, or is not a commit, exits 1 (git says why only for the
    // latter); outside a repository git exits 128.
    const why = resolved.stderr.trim().replace(/^error: /, "");
    if (resolved.code === 1) throw notFound(why === "" ? `no such commit in ${root}` : why);
    throw new RouterError("E_GIT", `git rev-parse failed in ${root}: ${why || `exit ${resolved.code}`}`, { commitish, root, stderr: resolved.stderr });
  }
  const sha = resolved.stdout.trim();
  const short = sha.slice(0, 8);
  const describe = commitish === sha || sha.startsWith(commitish) ? `commit ${short}` : `commit ${short} (${commitish})`;
  return {
    describe,
    async read(path) {
      const parts = pathParts(path);
      if (parts === null || parts.length === 0) return null;
      // `--follow-symlinks` follows a committed link inside the tree and reports one leading out of
      // it instead of following, like the working tree.
      // runGit, not git(): git() trims the output, and with it the file's last newlines.
      const r = await runGit(root, ["cat-file", "--batch", "--follow-symlinks"], `${sha}:${parts.join("/")}\n`);
      if (r.code !== 0) throw new RouterError("E_GIT", `git cat-file failed in ${root}: ${r.stderr.trim() || `exit ${r.code}`}`, { path, commit: sha, stderr: r.stderr });
      const obj = parseBatchOutput(r.stdout);
      if (obj === null) return null;
      if (obj.type !== "blob") {
        throw new RouterError("E_CONFIG_INVALID", `${parts.join("/")} is a ${obj.type === "tree" ? "directory" : obj.type}, not a file, in ${describe}`, { path, commit: sha }, {
          fix: "Make it a file in that commit.",
        });
      }
      return obj.text;
    },
    async list(dir) {
      const parts = pathParts(dir);
      if (parts === null) return [];
      const prefix = parts.length === 0 ? "" : `${parts.join("/")}/`;
      // "<mode> <type> <object>\t<path>", NUL-terminated, paths from the top of the tree.
      const out = await git(root, ["ls-tree", "-z", "--full-tree", sha, "--", ...(prefix === "" ? [] : [prefix])]);
      const names: string[] = [];
      for (const entry of out.split("\0")) {
        const m = /^(\d+) (\w+) [0-9a-f]+\t(.*)$/s.exec(entry);
        if (!m || m[2] !== "blob") continue; // directories and submodules
        const path = m[3] as string;
        if (path.startsWith(prefix)) names.push(path.slice(prefix.length));
      }
      return names.sort();
    },
  };
}
