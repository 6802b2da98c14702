// The GitHub port: the named capabilities the app needs from GitHub, for one repository. No Octokit
// type crosses it. The adapter (src/adapters/github) implements it with @octokit/core and the retry,
// throttling and paginate plugins; test/fakes/fake-github serves the same REST and GraphQL shapes on
// 127.0.0.1. Every list is read through every page. Expected failures come back as values ("absent",
// "exists", a stale head); anything else is thrown once, wrapped as E_GITHUB with the status and cause.

/** A user, bot or organisation as GitHub reports it. Allow-lists key on the numeric `id`, never the login. */
export interface GitHubActor {
  login: string;
  id: number;
  /** "User", "Bot", "Organization", "Mannequin". Only "User" may command unless its id is allow-listed. */
  type: string;
}

export interface GitHubIssue {
  number: number;
  /** The database id (what `addSubIssue` takes), not the number. */
  id: number;
  /** The GraphQL node id (Projects v2). */
  nodeId: string;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: string[];
  author: GitHubActor;
  url: string;
  /** GitHub's issues API also lists pull requests; they are never tasks. */
  isPullRequest: boolean;
}

export interface GitHubComment {
  id: number;
  body: string;
  author: GitHubActor;
  createdAt: string;
  url: string;
}

export interface GitHubPull {
  number: number;
  url: string;
  state: "open" | "closed";
  draft: boolean;
  merged: boolean;
  head: string;
  base: string;
  title: string;
  body: string;
}

/** The legacy base role from the collaborator permission API (`maintain` → write, `triage` → read). */
export type GitHubPermission = "admin" | "write" | "read" | "none";

export const REACTIONS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"] as const;
export type GitHubReaction = (typeof REACTIONS)[number];

/** A file as read at a branch head. */
export interface BranchFile {
  /** The branch head's commit. */
  head: string;
  /** The file's text at that commit; null when the file does not exist there. */
  text: string | null;
}

/** One file in a commit: new text, or null to delete it. */
export interface FileChange {
  path: string;
  text: string | null;
}

export type CommitOutcome = { ok: true; head: string } | { ok: false; stale: true };

/** A Projects v2 item's status, as set: or a warning a person can act on (no token, no field, no option). */
export type ProjectStatusOutcome = { ok: true; itemId: string } | { ok: false; warning: string };

export interface GitHub {
  /** "owner/name". */
  readonly repository: string;

  /** The repository's default branch. */
  defaultBranch(): Promise<string>;

  // Issues
  /** null when the issue does not exist, was deleted or transferred (404, 410). */
  getIssue(issue: number): Promise<GitHubIssue | null>;
  createIssue(input: { title: string; body: string; labels?: string[] }): Promise<GitHubIssue>;
  /** Issues (never pull requests), open or closed, updated at or after `since` (ISO time), newest first; every page. */
  issuesSince(since: string): Promise<GitHubIssue[]>;
  /** Open issues (never pull requests) carrying `label`, oldest first; every page. */
  openIssuesLabelled(label: string): Promise<GitHubIssue[]>;
  /** Who last added `label` to the issue (its events API), or null when nobody did (or it was removed since). */
  labelledBy(issue: number, label: string): Promise<GitHubActor | null>;
  /** Closes (completed or not planned) or reopens an issue. */
  setIssueState(issue: number, state: "open" | "closed", reason?: "completed" | "not_planned"): Promise<void>;

  // Comments and reactions
  /** Every comment on the issue, oldest first (all pages). */
  listComments(issue: number): Promise<GitHubComment[]>;
  createComment(issue: number, body: string): Promise<GitHubComment>;
  updateComment(commentId: number, body: string): Promise<void>;
  /** Deletes a comment (a duplicate a racing writer made); one already gone is fine. */
  deleteComment(commentId: number): Promise<void>;
  /** Idempotent: an existing reaction of the same content is fine. */
  react(target: { issue: number } | { comment: number }, content: GitHubReaction): Promise<void>;

  // Labels
  /** Adds labels to the issue's set (the others stay). */
  addLabels(issue: number, labels: string[]): Promise<void>;
  /** Removes a label; a label not on the issue is fine. */
  removeLabel(issue: number, label: string): Promise<void>;
  /** Creates a repository label; one that exists is fine. */
  ensureLabel(label: { name: string; color: string; description: string }): Promise<void>;

  // Sub-issues
  /** The parent's sub-issues (all pages), numbers and database ids. */
  listSubIssues(parent: number): Promise<{ number: number; id: number; state: "open" | "closed" }[]>;
  /** Links a child by its database id; one already linked to this parent is fine. */
  addSubIssue(parent: number, childId: number): Promise<void>;

  // Pull requests
  /** The newest pull request (open or closed) whose head is this branch of this repository; null when none. */
  findPull(head: string): Promise<GitHubPull | null>;
  createPull(input: { head: string; base: string; title: string; body: string; draft: boolean }): Promise<GitHubPull>;
  updatePull(pull: number, change: { title?: string; body?: string }): Promise<void>;

  // Who may command
  /** The user's permission on the repository; "none" for a non-collaborator (404). Other errors throw: callers fail closed. */
  permission(username: string): Promise<GitHubPermission>;
  /**
   * The account the token acts as (the router's own: `github-actions[bot]` for GITHUB_TOKEN, the
   * app's bot for an installation token), by GraphQL `viewer`: REST `GET /user` refuses installation
   * tokens. Throws when GitHub does not say (no numeric database id).
   */
  viewer(): Promise<{ id: number; login: string }>;

  // The ledger branch (compare-and-swap on the branch head)
  /** The file at the branch head; null when the branch does not exist. */
  readFile(branch: string, path: string): Promise<BranchFile | null>;
  /** One commit on the branch, only if its head is still `expectedHead` (GraphQL createCommitOnBranch); a moved head is `stale`. */
  commitFiles(input: { branch: string; expectedHead: string; message: string; changes: FileChange[] }): Promise<CommitOutcome>;
  /** Creates the branch at `sha`; "exists" when it already does. */
  createBranch(branch: string, sha: string): Promise<"created" | "exists">;
  /** A commit's sha for a branch name; null when the branch does not exist. */
  branchHead(branch: string): Promise<string | null>;
  /** Branch names that start with `prefix` (all pages), e.g. the task branches `agent-router/task-`. */
  listBranches(prefix: string): Promise<string[]>;

  // Projects v2
  /** Adds the issue to the project (idempotent) and sets its single-select status field to `status`, resolved by name. */
  setProjectStatus(input: { owner: string; number: number; field: string; issueNodeId: string; status: string }): Promise<ProjectStatusOutcome>;

  // Actions
  /**
   * Starts a run of a `workflow_dispatch` workflow (file name or id) at `ref` with string inputs (at
   * most 25). Sent once, never re-sent: a second run would perform the same attempt twice. The run's
   * page when GitHub says (`return_run_details`), else null.
   */
  dispatchWorkflow(input: { workflow: string; ref: string; inputs: Record<string, string> }): Promise<{ runUrl: string | null }>;
}
