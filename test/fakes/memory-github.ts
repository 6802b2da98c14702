// The ledger-branch part of the GitHub port, in memory: branch → head sha, commit → {parent, files,
// message}. `commitFiles` is an exact compare-and-swap on the head, like createCommitOnBranch with
// expectedHeadOid. Every call yields to the event loop first, so concurrent writers interleave.
// Faults are armed per call: a stale answer, a thrown status (as an adapter would wrap REST 409/422
// or a 5xx), or a commit that lands while its response is lost. `permission` and `viewer` answer
// what the test sets; other port methods throw.
import { createHash } from "node:crypto";
import { setImmediate as yieldTurn } from "node:timers/promises";
import { RouterError } from "../../src/core/errors.ts";
import type { BranchFile, CommitOutcome, FileChange, GitHub, GitHubPermission } from "../../src/core/github-port.ts";

export type LedgerMethod = "defaultBranch" | "readFile" | "commitFiles" | "createBranch" | "branchHead" | "listBranches";

export interface MemoryCommit {
  sha: string;
  parent: string | null;
  files: ReadonlyMap<string, string>;
  message: string;
}

interface Armed {
  stale: number;
  /** Event-loop turns each lost answer takes to fail (a timeout takes a while; others write meanwhile). */
  commitThenFail: number[];
  errors: { status: number; method: LedgerMethod | undefined }[];
}

function notImplemented(name: string): () => Promise<never> {
  return () => Promise.reject(new Error(`${name} is not implemented in memory-github`));
}

/** The error an adapter throws after its own retries: E_GITHUB_UNAVAILABLE with the HTTP status. */
export function githubFailure(status: number, method: string, note = "injected"): RouterError {
  return new RouterError("E_GITHUB_UNAVAILABLE", `GitHub answered ${status} to ${method} (${note})`, { status, method, injected: true });
}

export class MemoryGitHub implements GitHub {
  readonly repository: string;
  readonly commits = new Map<string, MemoryCommit>();
  readonly branches = new Map<string, string>();
  /** Calls per method, including those that failed. */
  readonly calls: Record<LedgerMethod, number> = { defaultBranch: 0, readFile: 0, commitFiles: 0, createBranch: 0, branchHead: 0, listBranches: 0 };
  /** Faults that actually fired, by kind. */
  readonly fired = { stale: 0, error: 0, commitThenFail: 0 };
  private readonly defaultName: string;
  private readonly armed: Armed = { stale: 0, commitThenFail: [], errors: [] };
  private counter = 0;

  readonly faults = {
    /** The next `n` commits that would land answer stale instead (nothing is committed). */
    stale: (n: number): void => void (this.armed.stale += n),
    /** The next `n` calls (of `method`, or of any ledger method) throw E_GITHUB_UNAVAILABLE with `status`. */
    error: (n: number, status: number, method?: LedgerMethod): void => {
      for (let i = 0; i < n; i++) this.armed.errors.push({ status, method });
    },
    /** The next `n` commits that would land do land, then (after `turns` event-loop turns) the call throws as if the response was lost. */
    commitThenFail: (n: number, turns = 0): void => {
      for (let i = 0; i < n; i++) this.armed.commitThenFail.push(turns);
    },
    /** Disarms everything not yet fired. */
    clear: (): void => {
      this.armed.stale = 0;
      this.armed.commitThenFail.length = 0;
      this.armed.errors.length = 0;
    },
  };

  constructor(opts: { repository?: string; defaultBranch?: string; files?: Record<string, string> } = {}) {
    this.repository = opts.repository ?? "octo/project";
    this.defaultName = opts.defaultBranch ?? "main";
    const root = this.makeCommit(null, new Map(Object.entries(opts.files ?? { "README.md": "# project\n" })), "initial");
    this.branches.set(this.defaultName, root);
  }

  private makeCommit(parent: string | null, files: ReadonlyMap<string, string>, message: string): string {
    const sha = createHash("sha1").update(`${this.counter++}\0${parent ?? ""}\0${message}`).digest("hex");
    this.commits.set(sha, { sha, parent, files, message });
    return sha;
  }

  /** Counts the call, yields a turn, and throws an armed error for it. */
  private async enter(method: LedgerMethod): Promise<void> {
    this.calls[method]++;
    await yieldTurn();
    const i = this.armed.errors.findIndex((e) => e.method === undefined || e.method === method);
    if (i < 0) return;
    const [fault] = this.armed.errors.splice(i, 1);
    this.fired.error++;
    throw githubFailure(fault!.status, method);
  }

  async defaultBranch(): Promise<string> {
    await this.enter("defaultBranch");
    return this.defaultName;
  }

  async readFile(branch: string, path: string): Promise<BranchFile | null> {
    await this.enter("readFile");
    const head = this.branches.get(branch);
    if (head === undefined) return null;
    return { head, text: this.commits.get(head)!.files.get(path) ?? null };
  }

  async commitFiles(input: { branch: string; expectedHead: string; message: string; changes: FileChange[] }): Promise<CommitOutcome> {
    await this.enter("commitFiles");
    const head = this.branches.get(input.branch);
    if (head === undefined) {
      throw new RouterError("E_GITHUB", `GitHub's GraphQL API refused createCommitOnBranch: branch ${input.branch} not found`, { status: 200, errorTypes: ["NOT_FOUND"] });
    }
    if (head !== input.expectedHead) return { ok: false, stale: true };
    if (this.armed.stale > 0) {
      this.armed.stale--;
      this.fired.stale++;
      return { ok: false, stale: true };
    }
    const files = new Map(this.commits.get(head)!.files);
    for (const c of input.changes) {
      if (c.text === null) files.delete(c.path);
      else files.set(c.path, c.text);
    }
    const sha = this.makeCommit(head, files, input.message);
    this.branches.set(input.branch, sha);
    const turns = this.armed.commitThenFail.shift();
    if (turns !== undefined) {
      this.fired.commitThenFail++;
      for (let i = 0; i < turns; i++) await yieldTurn();
      throw githubFailure(502, "commitFiles", "the commit landed, the response was lost");
    }
    return { ok: true, head: sha };
  }

  async createBranch(branch: string, sha: string): Promise<"created" | "exists"> {
    await this.enter("createBranch");
    if (this.branches.has(branch)) return "exists";
    if (!this.commits.has(sha)) throw new RouterError("E_GITHUB", `GitHub answered 422 to createRef: Object does not exist`, { status: 422 });
    this.branches.set(branch, sha);
    return "created";
  }

  async branchHead(branch: string): Promise<string | null> {
    await this.enter("branchHead");
    return this.branches.get(branch) ?? null;
  }

  async listBranches(prefix: string): Promise<string[]> {
    await this.enter("listBranches");
    return [...this.branches.keys()].filter((b) => b.startsWith(prefix)).sort();
  }

  // Test helpers (synchronous, no faults, not counted).

  /** A file's text at a branch head; null when the branch or file does not exist. */
  fileAt(branch: string, path: string): string | null {
    const head = this.branches.get(branch);
    return head === undefined ? null : (this.commits.get(head)!.files.get(path) ?? null);
  }

  /** Commits `files` on `branch` as a person would (creating the branch at the default head if needed). */
  plant(branch: string, files: Record<string, string>, message = "hand edit"): string {
    const head = this.branches.get(branch) ?? this.branches.get(this.defaultName)!;
    const next = new Map(this.commits.get(head)!.files);
    for (const [path, text] of Object.entries(files)) next.set(path, text);
    const sha = this.makeCommit(head, next, message);
    this.branches.set(branch, sha);
    return sha;
  }

  deleteBranch(branch: string): void {
    this.branches.delete(branch);
  }

  /** The branch's commits, newest first. */
  history(branch: string): MemoryCommit[] {
    const out: MemoryCommit[] = [];
    for (let sha = this.branches.get(branch) ?? null; sha !== null; ) {
      const c = this.commits.get(sha)!;
      out.push(c);
      sha = c.parent;
    }
    return out;
  }

  getIssue = notImplemented("getIssue");
  createIssue = notImplemented("createIssue");
  issuesSince = notImplemented("issuesSince");
  openIssuesLabelled = notImplemented("openIssuesLabelled");
  labelledBy = notImplemented("labelledBy");
  dispatchWorkflow = notImplemented("dispatchWorkflow");
  setIssueState = notImplemented("setIssueState");
  listComments = notImplemented("listComments");
  createComment = notImplemented("createComment");
  updateComment = notImplemented("updateComment");
  deleteComment = notImplemented("deleteComment");
  react = notImplemented("react");
  addLabels = notImplemented("addLabels");
  removeLabel = notImplemented("removeLabel");
  ensureLabel = notImplemented("ensureLabel");
  listSubIssues = notImplemented("listSubIssues");
  addSubIssue = notImplemented("addSubIssue");
  findPull = notImplemented("findPull");
  createPull = notImplemented("createPull");
  updatePull = notImplemented("updatePull");
  /** Collaborator permissions by login (anyone else has none). */
  readonly permissions = new Map<string, GitHubPermission>();
  permission = async (login: string): Promise<GitHubPermission> => this.permissions.get(login) ?? "none";
  /** The account `viewer()` answers (the router's own), or a function that answers or throws instead. */
  account: { id: number; login: string } | (() => Promise<{ id: number; login: string }>) = { id: 41898282, login: "github-actions[bot]" };
  /** How often `viewer()` was asked. */
  viewerCalls = 0;
  viewer = async (): Promise<{ id: number; login: string }> => {
    this.viewerCalls++;
    await yieldTurn();
    return typeof this.account === "function" ? this.account() : this.account;
  };
  setProjectStatus = notImplemented("setProjectStatus");
}

export function memoryGitHub(opts?: { repository?: string; defaultBranch?: string; files?: Record<string, string> }): MemoryGitHub {
  return new MemoryGitHub(opts);
}
