// The ledger on a branch of the repository on GitHub, through the GitHub port only. Every write is
// ONE commit (ledger file plus any archive files) made with the branch head as precondition
// (createCommitOnBranch's expectedHeadOid), so nothing is ever overwritten; the codec is the git
// store's, so both stores write byte-identical files for the same ledger.
import { isRouterError, RouterError } from "../../core/errors.ts";
import type { FileChange, GitHub } from "../../core/github-port.ts";
import { emptyLedger } from "../../core/ledger/ledger.ts";
import type { Task } from "../../core/ledger/task.ts";
import type { ArchiveBatch, LedgerSnapshot, LedgerStore, LedgerWrite, Log, WriteOutcome } from "../../core/ports.ts";
import type { DecodedLedger, EncodedLedger } from "../ledger-codec/ledger-file.ts";
import { appendArchive, decodeArchive, decodeLedger, encodeLedger } from "../ledger-codec/ledger-file.ts";

export interface GitHubLedgerOptions {
  branch: string;
  /** Path of the ledger file inside the branch. */
  path: string;
  /** Folder of the `YYYY-MM.yml` archive files; default `archive` beside the ledger file (as the git store). */
  archiveDir?: string;
  /** Branches whose existence proves the ledger branch once existed; default `agent-router/task-`. */
  taskBranchPrefix?: string;
  log?: Log;
}

/**
 * Statuses an adapter reports when GitHub refused a write because the branch or file moved (REST
 * contents 409, refs 422 "not a fast forward") or a GraphQL STALE_DATA: the same as a stale head.
 */
export function refusedAsStale(err: unknown): boolean {
  if (!isRouterError(err)) return false;
  const { status, errorTypes } = err.details;
  return status === 409 || status === 422 || (Array.isArray(errorTypes) && errorTypes.includes("STALE_DATA"));
}

type Conflict = Extract<WriteOutcome, { ok: false }>;
const conflict = (actualHead: string | null): Conflict => ({ ok: false, conflict: true, actualHead });

export class GitHubLedgerStore implements LedgerStore {
  readonly location: string;
  readonly archiveDir: string;
  private readonly taskPrefix: string;
  /** The ledger decoded at recent heads: reads skip decoding, writes keep the text they did not change. */
  private readonly decodedAt = new Map<string, DecodedLedger>();

  constructor(
    private readonly github: GitHub,
    private readonly opts: GitHubLedgerOptions,
  ) {
    this.location = `${opts.path} on branch ${opts.branch} of ${github.repository} (GitHub)`;
    const dir = opts.path.includes("/") ? opts.path.slice(0, opts.path.lastIndexOf("/") + 1) : "";
    this.archiveDir = (opts.archiveDir ?? `${dir}archive`).replace(/\/+$/, "");
    this.taskPrefix = opts.taskBranchPrefix ?? "agent-router/task-";
  }

  archivePath(month: string): string {
    return `${this.archiveDir}/${month}.yml`;
  }

  /** No local lock: correctness comes from the compare-and-swap on the branch head alone. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async read(): Promise<LedgerSnapshot> {
    const file = await this.github.readFile(this.opts.branch, this.opts.path);
    if (file === null) {
      await this.refuseIfGone();
      return { ledger: emptyLedger(), head: null };
    }
    if (file.text === null) return { ledger: emptyLedger(), head: file.head };
    const decoded = this.decodedAt.get(file.head) ?? this.decode(file.text, file.head);
    this.remember(file.head, decoded);
    return { ledger: decoded.ledger, head: file.head };
  }

  async readArchive(month: string): Promise<Task[]> {
    const path = this.archivePath(month);
    const file = await this.github.readFile(this.opts.branch, path);
    if (file?.text == null) return [];
    return decodeArchive(file.text, path, `${path} on branch ${this.opts.branch} of ${this.github.repository}`);
  }

  async write(change: LedgerWrite, expectedHead: string | null): Promise<WriteOutcome> {
    const prev = expectedHead === null ? undefined : this.decodedAt.get(expectedHead);
    const encoded = encodeLedger(change.ledger, this.opts.path, this.location, prev);
    try {
      const base = expectedHead ?? (await this.createBranch());
      if (typeof base !== "string") return base;
      const changes = await this.changesAt(base, encoded.text, change.archive ?? []);
      if (!Array.isArray(changes)) return changes;
      return await this.commit(change.message, base, changes, encoded);
    } catch (err) {
      if (!refusedAsStale(err)) throw err;
      const actual = await this.github.branchHead(this.opts.branch);
      this.opts.log?.debug("ledger write refused as stale", { branch: this.opts.branch, status: (err as RouterError).details.status, expectedHead, actualHead: actual });
      return conflict(actual);
    }
  }

  /** Creates the ledger branch at the default branch's head and returns that commit; a conflict when it exists. */
  private async createBranch(): Promise<string | Conflict> {
    const { branch } = this.opts;
    const existing = await this.github.branchHead(branch);
    if (existing !== null) return conflict(existing);
    await this.refuseIfGone();
    const from = await this.github.defaultBranch();
    const base = await this.github.branchHead(from);
    if (base === null) {
      throw new RouterError("E_GITHUB", `cannot create the ledger branch ${branch}: the default branch ${from} of ${this.github.repository} has no commits`, { branch, defaultBranch: from }, {
        fix: `Push a first commit to ${from}, then run again.`,
      });
    }
    if ((await this.github.createBranch(branch, base)) === "exists") return conflict(await this.github.branchHead(branch));
    this.opts.log?.info("created the ledger branch", { branch, from, base });
    return base;
  }

  /** The ledger file and the archive files with the batches appended to their text at `head`. */
  private async changesAt(head: string, text: string, batches: readonly ArchiveBatch[]): Promise<FileChange[] | Conflict> {
    const archives = new Map<string, string>();
    for (const batch of batches) {
      const path = this.archivePath(batch.month);
      let existing = archives.get(path) ?? null;
      if (!archives.has(path)) {
        const file = await this.github.readFile(this.opts.branch, path);
        // The branch moved since `head`: the commit would be refused anyway.
        if (file?.head !== head) return conflict(file?.head ?? null);
        existing = file.text;
      }
      archives.set(path, appendArchive(existing, batch.month, batch.tasks));
    }
    return [{ path: this.opts.path, text }, ...[...archives].map(([path, t]) => ({ path, text: t }))];
  }

  private async commit(message: string, expectedHead: string, changes: FileChange[], encoded: EncodedLedger): Promise<WriteOutcome> {
    const { branch } = this.opts;
    let outcome;
    try {
      outcome = await this.github.commitFiles({ branch, expectedHead, message, changes });
    } catch (err) {
      if (refusedAsStale(err)) throw err;
      return this.afterLostAnswer(err, expectedHead, encoded);
    }
    if (!outcome.ok) return conflict(await this.github.branchHead(branch));
    this.remember(outcome.head, encoded.decoded);
    return { ok: true, head: outcome.head };
  }

  /**
   * The commit call failed without a verdict (a 5xx or timeout after the adapter's retries): it may
   * have landed. Unmoved head: nothing landed, rethrow. Head at our exact text: ours landed. Head
   * elsewhere: a conflict, so the caller re-reads (and finds its change there, or re-applies it).
   */
  private async afterLostAnswer(err: unknown, expectedHead: string, encoded: EncodedLedger): Promise<WriteOutcome> {
    const file = await this.github.readFile(this.opts.branch, this.opts.path).catch(() => undefined);
    if (!file || file.head === expectedHead) throw err;
    const fields = { branch: this.opts.branch, expectedHead, actualHead: file.head, error: err instanceof Error ? err.message : String(err) };
    if (file.text === encoded.text) {
      this.opts.log?.warn("the ledger commit landed although the call failed", fields);
      this.remember(file.head, encoded.decoded);
      return { ok: true, head: file.head };
    }
    this.opts.log?.warn("the ledger commit call failed and the branch moved; re-reading", fields);
    return conflict(file.head);
  }

  /** Keeps the newest few decodes; in-process writers racing on one store share them. */
  private remember(head: string, decoded: DecodedLedger): void {
    this.decodedAt.delete(head);
    this.decodedAt.set(head, decoded);
    for (const old of this.decodedAt.keys()) {
      if (this.decodedAt.size <= 8) break;
      this.decodedAt.delete(old);
    }
  }

  private decode(text: string, head: string): DecodedLedger {
    try {
      return decodeLedger(text, this.opts.path, `${this.location} (commit ${head.slice(0, 12)})`);
    } catch (err) {
      if (!isRouterError(err, "E_LEDGER_INVALID")) throw err;
      const { path, branch } = this.opts;
      throw new RouterError("E_LEDGER_INVALID", err.message, { ...err.details, commit: head, branch, repository: this.github.repository }, {
        cause: err,
        fix:
          `Nothing was written. Fix ${path} on ${branch} by hand (the head is commit ${head.slice(0, 12)}), or restore its last good version ` +
          `(history: https://github.com/${this.github.repository}/commits/${branch}/${path}); from a clone: ` +
          `git checkout ${branch} && git checkout GOOD_SHA -- ${path} && git commit -m "restore the ledger" && git push (a plain push, never forced).`,
      });
    }
  }

  /** A missing ledger branch is new only if no task branch exists; otherwise it was deleted. */
  private async refuseIfGone(): Promise<void> {
    const { branch } = this.opts;
    const tasks = await this.github.listBranches(this.taskPrefix);
    if (tasks.length === 0) return;
    const repo = this.github.repository;
    throw new RouterError(
      "E_LEDGER_BRANCH_GONE",
      `the ledger branch ${branch} of ${repo} does not exist, but ${tasks.length} task branch(es) do (e.g. ${tasks[0]}): it existed and was deleted; nothing was written`,
      { branch, repository: repo, taskBranches: tasks.length, examples: tasks.slice(0, 5) },
      {
        fix:
          `Restore ${branch}: on GitHub use "Restore branch" on the pull request or the branches page (https://github.com/${repo}/branches), ` +
          `or from a clone that has it run git push origin SHA:refs/heads/${branch} (the branch does not exist, so nothing is overwritten). ` +
          `To start an empty ledger on purpose, create the branch from the default branch the same way: git push origin main:refs/heads/${branch}.`,
      },
    );
  }
}

/** The LedgerStore on GitHub: compare-and-swap commits on `branch` through the GitHub port. */
export function githubLedgerStore(github: GitHub, opts: GitHubLedgerOptions): GitHubLedgerStore {
  return new GitHubLedgerStore(github, opts);
}
