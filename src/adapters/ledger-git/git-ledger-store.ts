import { stat, unlink } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { isRouterError, RouterError } from "../../core/errors.ts";
import { emptyLedger } from "../../core/ledger/ledger.ts";
import type { Task } from "../../core/ledger/task.ts";
import type { LedgerSnapshot, LedgerStore, LedgerWrite, WriteOutcome } from "../../core/ports.ts";
import type { DecodedLedger } from "../ledger-codec/ledger-file.ts";
import { appendArchive, decodeArchive, decodeLedger, encodeLedger } from "../ledger-codec/ledger-file.ts";
import { git, lostRefRace, runGit, updateRefError } from "./run-git.ts";
import { withLockFile } from "./local-lock.ts";
import { writeTree } from "./write-tree.ts";

export interface GitLedgerOptions {
  /** A directory inside the repository. */
  cwd: string;
  branch: string;
  /** Path of the ledger file inside the branch. */
  path: string;
  /** A ref update lock older than this is a crashed git's and is removed. */
  staleLockMs?: number;
}

const ZERO = "0".repeat(40);

/**
 * The ledger on a branch of the local repository. Reads blobs at the branch head; writes a blob,
 * a tree and a commit with plumbing, then moves the branch with `update-ref NEW OLD`, which git
 * applies only if the branch is still at OLD (compare-and-swap). The working tree and index are
 * never touched, and nothing is ever forced.
 */
export class GitLedgerStore implements LedgerStore {
  readonly location: string;
  readonly ref: string;
  private last: { head: string; decoded: DecodedLedger } | undefined;
  private checkedOut: boolean | undefined;
  private gitDir: string | undefined;

  constructor(private readonly opts: GitLedgerOptions) {
    this.ref = `refs/heads/${opts.branch}`;
    this.location = `${opts.path} on branch ${opts.branch}`;
  }

  /** The commit the branch points at, or null when the branch does not exist. */
  async head(ref = this.ref): Promise<string | null> {
    const r = await runGit(this.opts.cwd, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    if (r.code === 0) return r.stdout.trim();
    if (r.code === 1) return null;
    throw new RouterError("E_GIT", `git rev-parse failed in ${this.opts.cwd}: ${r.stderr.trim()}`, { stderr: r.stderr });
  }

  private async blobText(commit: string, path: string): Promise<string | null> {
    const r = await runGit(this.opts.cwd, ["cat-file", "blob", `${commit}:${path}`]);
    if (r.code === 0) return r.stdout;
    if (/does not exist|not a valid object|Not a valid object|exists on disk, but not in/.test(r.stderr)) return null;
    throw new RouterError("E_GIT", `git cat-file failed: ${r.stderr.trim()}`, { stderr: r.stderr });
  }

  /** Decodes the ledger at `commit`; null when that commit has no ledger file. */
  async decodeAt(commit: string): Promise<DecodedLedger | null> {
    const text = await this.blobText(commit, this.opts.path);
    if (text === null) return null;
    try {
      return decodeLedger(text, this.opts.path, `${this.location} (commit ${commit.slice(0, 12)})`);
    } catch (err) {
      if (isRouterError(err, "E_LEDGER_INVALID")) throw await this.withRestoreHint(err, commit);
      throw err;
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.gitDir ??= await git(this.opts.cwd, ["rev-parse", "--absolute-git-dir"]);
    return withLockFile(join(this.gitDir, `agent-router-${this.opts.branch.replace(/[^\w.-]+/g, "_")}.lock`), fn);
  }

  async read(): Promise<LedgerSnapshot> {
    const head = await this.head();
    if (head === null) return { ledger: emptyLedger(), head: null };
    if (this.last?.head === head) return { ledger: this.last.decoded.ledger, head };
    const decoded = await this.decodeAt(head);
    if (decoded === null) return { ledger: emptyLedger(), head };
    this.last = { head, decoded };
    return { ledger: decoded.ledger, head };
  }

  async write(change: LedgerWrite, expectedHead: string | null): Promise<WriteOutcome> {
    await this.refuseCheckedOutBranch();
    const prev = this.last?.head === expectedHead ? this.last.decoded : undefined;
    const encoded = encodeLedger(change.ledger, this.opts.path, this.location, prev);
    const updates = new Map<string, string>([[this.opts.path, await git(this.opts.cwd, ["hash-object", "-w", "--stdin"], encoded.text)]]);
    for (const batch of change.archive ?? []) {
      const path = this.archivePath(batch.month);
      const existing = expectedHead ? await this.blobText(expectedHead, path) : null;
      updates.set(path, await git(this.opts.cwd, ["hash-object", "-w", "--stdin"], appendArchive(existing, batch.month, batch.tasks)));
    }
    const tree = await writeTree(this.opts.cwd, expectedHead, updates);
    const commit = await git(this.opts.cwd, ["commit-tree", tree, ...(expectedHead ? ["-p", expectedHead] : []), "-F", "-"], change.message);
    const moved = await this.compareAndSwap(commit, expectedHead, change.message);
    if (!moved) return { ok: false, conflict: true, actualHead: await this.head() };
    // What we wrote is what the next read at this head would decode: keep it, skip the re-read.
    this.last = { head: commit, decoded: encoded.decoded };
    return { ok: true, head: commit };
  }

  /** `update-ref NEW OLD`: true when the branch moved, false when another writer got there first. */
  async compareAndSwap(next: string, expected: string | null, message: string): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await runGit(this.opts.cwd, ["update-ref", "-m", `agent-router: ${message.split("\n")[0] ?? ""}`, this.ref, next, expected ?? ZERO]);
      if (r.code === 0) return true;
      if (/Unable to create '.*\.lock': File exists/.test(r.stderr)) {
        if (attempt === 0 && (await this.removeStaleLock(r.stderr))) continue;
        return false;
      }
      if (lostRefRace(r.stderr)) return false;
      // Not a race (e.g. a branch named like a folder of ours): retrying cannot help, fail at once.
      throw updateRefError(this.ref, r.stderr, { exitCode: r.code }, "set ledger.branch in .github/agent-router.yml to another name");
    }
    return false;
  }

  /** A ref lock left by a git process that was killed is removed once it is older than staleLockMs. */
  private async removeStaleLock(stderr: string): Promise<boolean> {
    const path = /Unable to create '(.*\.lock)'/.exec(stderr)?.[1];
    if (!path) return false;
    const full = isAbsolute(path) ? path : join(this.opts.cwd, path);
    try {
      const info = await stat(full);
      if (Date.now() - info.mtimeMs < (this.opts.staleLockMs ?? 30_000)) return false;
      await unlink(full);
      return true;
    } catch {
      return true; // gone already: try again
    }
  }

  private async refuseCheckedOutBranch(): Promise<void> {
    if (this.checkedOut === undefined) {
      const r = await runGit(this.opts.cwd, ["symbolic-ref", "-q", "HEAD"]);
      this.checkedOut = r.code === 0 && r.stdout.trim() === this.ref;
    }
    if (this.checkedOut) {
      throw new RouterError("E_GIT", `the ledger branch ${this.opts.branch} is checked out here; writing it would change your working tree`, { branch: this.opts.branch }, {
        fix: `Check out another branch, or set ledger.branch in .github/agent-router.yml to a branch nobody works on (default agent-router/ledger).`,
      });
    }
  }

  get path(): string {
    return this.opts.path;
  }

  /** `archive/` beside the ledger file, with a trailing slash. */
  get archiveDir(): string {
    const dir = this.opts.path.includes("/") ? this.opts.path.slice(0, this.opts.path.lastIndexOf("/") + 1) : "";
    return `${dir}archive/`;
  }

  archivePath(month: string): string {
    return `${this.archiveDir}${month}.yml`;
  }

  async readArchive(month: string): Promise<Task[]> {
    const head = await this.head();
    if (!head) return [];
    const path = this.archivePath(month);
    const text = await this.blobText(head, path);
    return text === null ? [] : decodeArchive(text, path, `${path} on branch ${this.opts.branch}`);
  }

  /** The newest commit of the branch whose ledger is valid, searching at most `limit` commits back. */
  async lastGoodCommit(from: string, limit = 50): Promise<string | null> {
    const list = await git(this.opts.cwd, ["rev-list", `--max-count=${limit}`, from]);
    for (const sha of list.split("\n").filter(Boolean)) {
      const text = await this.blobText(sha, this.opts.path);
      if (text === null) continue;
      try {
        decodeLedger(text, this.opts.path, this.location);
        return sha;
      } catch {
        // keep looking further back
      }
    }
    return null;
  }

  private async withRestoreHint(err: RouterError, bad: string): Promise<RouterError> {
    const good = await this.lastGoodCommit(bad).catch(() => null);
    const fix = good
      ? `Fix ${this.opts.path} on ${this.opts.branch} by hand, or restore the last good commit ${good.slice(0, 12)}:\n    git update-ref ${this.ref} ${good} ${bad}`
      : `Fix ${this.opts.path} on ${this.opts.branch} by hand; no earlier valid commit was found in the last 50.`;
    return new RouterError("E_LEDGER_INVALID", err.message, { ...err.details, commit: bad, lastGood: good }, { fix });
  }
}
