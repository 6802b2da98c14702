import { RouterError } from "../../core/errors.ts";
import { emptyLedger } from "../../core/ledger/ledger.ts";
import { mergeLedgers } from "../../core/ledger/merge-ledgers.ts";
import type { Backoff } from "../../core/ports.ts";
import { retryDelayMs } from "../../core/scheduling/retry-delay.ts";
import { appendArchive, decodeArchive, encodeLedger } from "../ledger-codec/ledger-file.ts";
import type { GitLedgerStore } from "./git-ledger-store.ts";
import { git, runGit } from "./run-git.ts";
import { writeTree } from "./write-tree.ts";

export type SyncAction = "up-to-date" | "pulled" | "pushed" | "merged" | "nothing";

export interface SyncResult {
  action: SyncAction;
  head: string | null;
  tries: number;
  /** Local task ids that took new ids because the remote had handed theirs out. */
  renumbered: [number, number][];
}

export interface SyncOptions {
  cwd: string;
  remote: string;
  branch: string;
  backoff: Backoff;
  maxTries?: number;
}

const REJECTED = /\[rejected\]|non-fast-forward|fetch first|failed to push some refs|\[remote rejected\]/;

async function isAncestor(cwd: string, a: string, b: string): Promise<boolean> {
  const r = await runGit(cwd, ["merge-base", "--is-ancestor", a, b]);
  if (r.code > 1) throw new RouterError("E_GIT", `git merge-base failed: ${r.stderr.trim()}`);
  return r.code === 0;
}

/** Fetches the remote branch into a private ref (never forced); null when the remote has no such branch. */
async function fetchRemote(store: GitLedgerStore, o: SyncOptions): Promise<string | null> {
  const tracking = `refs/agent-router/remotes/${o.remote}/${o.branch}`;
  const r = await runGit(o.cwd, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", o.remote, `refs/heads/${o.branch}:${tracking}`]);
  if (r.code !== 0) {
    if (/couldn't find remote ref/i.test(r.stderr)) return null;
    throw new RouterError("E_GIT", `could not fetch ${o.branch} from ${o.remote}: ${r.stderr.trim()}`, { stderr: r.stderr }, {
      fix: `Check that the remote "${o.remote}" exists and is reachable (git remote -v).`,
    });
  }
  return store.head(tracking);
}

/** Plain push: the remote accepts it only as a fast-forward, which is its compare-and-swap. */
async function push(o: SyncOptions, commit: string): Promise<boolean> {
  const r = await runGit(o.cwd, ["push", "--quiet", "--porcelain", o.remote, `${commit}:refs/heads/${o.branch}`]);
  if (r.code === 0) return true;
  if (REJECTED.test(r.stderr + r.stdout)) return false;
  throw new RouterError("E_GIT", `could not push ${o.branch} to ${o.remote}: ${r.stderr.trim()}`, { stderr: r.stderr });
}

async function archiveFiles(cwd: string, commit: string | null, dir: string): Promise<Map<string, string>> {
  if (!commit) return new Map();
  const r = await runGit(cwd, ["ls-tree", "-z", `${commit}:${dir.replace(/\/$/, "")}`]);
  if (r.code !== 0) return new Map();
  return new Map(
    r.stdout
      .split("\0")
      .filter(Boolean)
      .map((line) => {
        const [meta = "", name = ""] = line.split("\t");
        return [name, meta.split(" ")[2] ?? ""] as [string, string];
      }),
  );
}

/** A merge commit of local and remote: tasks merged by id, archive files unioned. */
async function mergeCommit(store: GitLedgerStore, o: SyncOptions, local: string, remote: string): Promise<{ commit: string; renumbered: [number, number][] }> {
  const baseSha = (await runGit(o.cwd, ["merge-base", local, remote])).stdout.trim() || null;
  const [base, mine, theirs] = await Promise.all([baseSha ? store.decodeAt(baseSha) : null, store.decodeAt(local), store.decodeAt(remote)]);
  const merged = mergeLedgers(base?.ledger ?? null, mine?.ledger ?? emptyLedger(), theirs?.ledger ?? emptyLedger());
  if (merged.conflicts.length > 0) {
    throw new RouterError("E_LEDGER_DIVERGED", `the ledger changed on both sides for task(s) ${merged.conflicts.join(", ")}; nothing was merged`, {
      local,
      remote,
      conflicts: merged.conflicts,
    }, {
      fix: `Both commits are kept. Inspect them with \`git show ${local.slice(0, 12)}\` and \`git show ${remote.slice(0, 12)}\`, then make the local branch equal to one of them with \`git update-ref ${store.ref} <sha> ${local}\` and redo the lost change.`,
    });
  }
  const file = store.archiveDir;
  const updates = new Map<string, string>();
  updates.set(store.path, await git(o.cwd, ["hash-object", "-w", "--stdin"], encodeLedger(merged.ledger, store.path, store.location, theirs ?? undefined).text));
  const [localArchive, remoteArchive] = await Promise.all([archiveFiles(o.cwd, local, file), archiveFiles(o.cwd, remote, file)]);
  for (const [name, sha] of localArchive) {
    const theirSha = remoteArchive.get(name);
    if (theirSha === sha) continue;
    if (theirSha === undefined) {
      updates.set(file + name, sha);
      continue;
    }
    const mineText = await git(o.cwd, ["cat-file", "blob", sha]);
    const theirText = await git(o.cwd, ["cat-file", "blob", theirSha]);
    const have = new Set(decodeArchive(theirText, file + name, store.location).map((t) => t.id));
    const missing = decodeArchive(mineText, file + name, store.location).filter((t) => !have.has(t.id));
    if (missing.length > 0) updates.set(file + name, await git(o.cwd, ["hash-object", "-w", "--stdin"], appendArchive(theirText, name.replace(/\.yml$/, ""), missing)));
  }
  const tree = await writeTree(o.cwd, await git(o.cwd, ["rev-parse", `${remote}^{tree}`]), updates);
  const message = `sync: merge local ledger into ${o.remote}/${o.branch}${merged.renumbered.size > 0 ? ` (renumbered ${[...merged.renumbered].map(([a, b]) => `${a}→${b}`).join(", ")})` : ""}`;
  const commit = await git(o.cwd, ["commit-tree", tree, "-p", remote, "-p", local, "-F", "-"], message);
  return { commit, renumbered: [...merged.renumbered] };
}

/** What one round decided under the writer lock: finished, or a commit the local branch now holds and the remote should get. */
type Step = { done: SyncAction; head: string | null } | { push: string; merged: boolean; renumbered: [number, number][] } | { retry: true };

/** `first` then `then`: a local task renumbered twice (a merge whose push was rejected) maps to where it ended. */
function compose(first: [number, number][], then: [number, number][]): [number, number][] {
  const next = new Map(then);
  const chained = first.map(([a, b]): [number, number] => [a, next.get(b) ?? b]);
  const seen = new Set(first.map(([, b]) => b));
  return [...chained, ...then.filter(([a]) => !seen.has(a))].filter(([a, b]) => a !== b);
}

/**
 * Decides one round against the fetched remote head, holding the local writer lock so no local
 * write lands between reading the local head and moving it. A merge is compare-and-swapped into the
 * local branch here, before anything is pushed: the remote only ever gets a commit the local branch
 * already holds, so it can never hold renumbered tasks the local branch does not know.
 */
async function decide(store: GitLedgerStore, o: SyncOptions, remote: string | null): Promise<Step> {
  return store.exclusive(async (): Promise<Step> => {
    const local = await store.head();
    if (local === remote) return { done: local === null ? "nothing" : "up-to-date", head: local };
    if (local === null || (remote !== null && (await isAncestor(o.cwd, local, remote)))) {
      const moved = await store.compareAndSwap(remote as string, local, `sync: fast-forward to ${o.remote}/${o.branch}`);
      return moved ? { done: "pulled", head: remote } : { retry: true };
    }
    if (remote === null || (await isAncestor(o.cwd, remote, local))) return { push: local, merged: false, renumbered: [] };
    const { commit, renumbered } = await mergeCommit(store, o, local, remote);
    return (await store.compareAndSwap(commit, local, "sync: merge")) ? { push: commit, merged: true, renumbered } : { retry: true };
  });
}

/**
 * Brings the local ledger branch and the remote's together without ever forcing: fast-forwards
 * whichever side is behind; when both moved, merges task by task into the local branch first and
 * then pushes the merge. A push the remote rejects (someone else pushed first) starts over and
 * merges again, with full-jitter backoff. Must not be called while holding `store.exclusive`.
 */
export async function syncLedger(store: GitLedgerStore, o: SyncOptions): Promise<SyncResult> {
  const maxTries = o.maxTries ?? 10;
  let merged = false;
  let renumbered: [number, number][] = [];
  for (let tries = 1; tries <= maxTries; tries++) {
    const remote = await fetchRemote(store, o);
    const step = await decide(store, o, remote);
    if ("done" in step) return { action: step.done === "up-to-date" && merged ? "merged" : step.done, head: step.head, tries, renumbered };
    if ("push" in step) {
      merged ||= step.merged;
      renumbered = compose(renumbered, step.renumbered);
      if (await push(o, step.push)) return { action: merged ? "merged" : "pushed", head: step.push, tries, renumbered };
    }
    if (tries < maxTries) await o.backoff.sleep(retryDelayMs(tries, () => o.backoff.random(), 50, 2_000));
  }
  throw new RouterError("E_LEDGER_CONFLICT", `could not sync ${o.branch} with ${o.remote}: it kept changing (${maxTries} tries)`, { tries: maxTries });
}
