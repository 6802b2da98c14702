// Ports: the capabilities the app needs from the outside world. Interfaces only; each has an
// in-memory fake in test/fakes or src/adapters/*/memory and a contract suite in test/contract.
import type { Ledger } from "./ledger/ledger.ts";
import type { RunRecord } from "./agents/run-record.ts";
import type { Profile } from "./config/profile.ts";
import type { ClassifierCall, Task } from "./ledger/task.ts";
import type { ClassifierOutcome, RoutableTask, RoutingSetup } from "./routing/decide-route.ts";

/** The ledger as read at one commit of the ledger branch. */
export interface LedgerSnapshot {
  ledger: Ledger;
  /** The commit (or version) the ledger was read at; null when no ledger exists yet. */
  head: string | null;
}

/** Terminal tasks leaving the hot ledger for `archive/<month>.yml`. */
export interface ArchiveBatch {
  month: string;
  tasks: Task[];
}

export interface LedgerWrite {
  ledger: Ledger;
  /** Commit message: first line is the summary, the trace id follows. */
  message: string;
  archive?: ArchiveBatch[];
}

export type WriteOutcome = { ok: true; head: string } | { ok: false; conflict: true; actualHead: string | null };

/**
 * Where the ledger lives. `write` is a compare-and-swap: it succeeds only if the ledger is still at
 * `expectedHead`, and never overwrites a newer version. Reads are validated: an invalid ledger makes
 * `read` throw E_LEDGER_INVALID and nothing is ever written over it.
 */
export interface LedgerStore {
  read(): Promise<LedgerSnapshot>;
  write(change: LedgerWrite, expectedHead: string | null): Promise<WriteOutcome>;
  /** Archived tasks of one month (`YYYY-MM`), oldest first; empty when there is no archive. */
  readArchive(month: string): Promise<Task[]>;
  /**
   * Runs one read-apply-write round while holding the store's local writer lock, if it has one.
   * Correctness never depends on it (writes are compare-and-swap); it keeps writers on one machine
   * from starving each other under contention.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Where the ledger is, for messages: "ledger.yml on branch agent-router/ledger". */
  readonly location: string;
}

/** The time. Tests pass a fixed or stepping clock; nothing reads the system clock directly. */
export interface Clock {
  now(): Date;
}

/** Waiting and randomness for backoff, injectable so tests neither sleep nor flake. */
export interface Backoff {
  sleep(ms: number): Promise<void>;
  random(): number;
}

/** Files in the user's working tree (the repository's configuration), relative to its root. */
export interface ProjectFiles {
  exists(path: string): Promise<boolean>;
  /** Creates a file that must not exist yet. */
  create(path: string, text: string): Promise<void>;
}

/** What the classifier answered (already checked against the enums) and what the call cost. */
export interface Classification {
  outcome: ClassifierOutcome;
  call: ClassifierCall;
}

/**
 * The LLM classifier: one structured call, at most one repair round. It never throws for a bad
 * answer, an API error or a timeout; those come back as `outcome.ok === false` with the reason.
 */
export interface Classifier {
  classify(task: RoutableTask, setup: RoutingSetup): Promise<Classification>;
  /** "anthropic claude-haiku-4-5", for messages. */
  readonly describe: string;
}

/** Read access to the task's working tree, for the context bundle. Paths are repository-relative. */
export interface RepoFiles {
  /** Tracked files (`git ls-files`). */
  list(): Promise<string[]>;
  /** A text file's first `maxBytes` bytes; null when missing, unreadable or binary. */
  readText(path: string, maxBytes: number): Promise<{ text: string; truncated: boolean } | null>;
  /** The diff of the task's branch against its base, when the branch exists. */
  taskDiff(taskId: number): Promise<string | null>;
}

/** Where bundles go. The writer adds the checksum (SHA-256 of the bundle text) to the manifest. */
export interface BundleWriter {
  write(taskId: number, text: string, manifest: Record<string, unknown>): Promise<{ bundlePath: string; manifestPath: string; sha256: string }>;
}

/** One agent run, as the app asks for it. */
export interface AgentRunRequest {
  taskId: number;
  /** The attempt's idempotency key, for logs and the run directory. */
  key: string;
  agent: string;
  model?: string;
  profile: Profile;
  /** The context bundle's text (the prompt), given on stdin and as a file. */
  bundle: string;
  /** The task's own worktree: the agent's working directory. */
  workdir: string;
  timeoutMs: number;
  /** The handoff repair round: a short follow-up in the same session when there is one. */
  repair?: { sessionId?: string; message: string };
}

export interface AgentRun {
  record: RunRecord;
  /** The handoff file's text, null when the agent did not write it. */
  handoffText: string | null;
}

/** What `--dry-run` prints instead of running: the exact command, the environment's names, the bundle's path. */
export interface AgentRunPlan {
  argv: string[];
  envNames: string[];
  bundlePath: string;
  cwd: string;
}

/** Runs coding agents (claude, codex, opencode, command agents) behind one contract. Never throws for a failed run. */
export interface AgentRunner {
  run(req: AgentRunRequest, signal?: AbortSignal): Promise<AgentRun>;
  plan(req: AgentRunRequest): AgentRunPlan;
}

/**
 * Git worktrees for agent work. Every attempt (and every review) gets a worktree of its own, detached
 * at the head of the task branch `agent-router/task-ID` (or at the base commit before the branch
 * exists), so a stale or released attempt can never wipe or commit another attempt's work.
 */
export interface Workspaces {
  /** A fresh worktree for this attempt or review (`key`), at the task branch's head. */
  prepare(taskId: number, key: string): Promise<{ path: string; branch: string }>;
  /**
   * Commits everything that changed in the attempt's worktree as the router and moves the task
   * branch to that commit with a compare-and-swap from the head the worktree started at. `null`
   * when nothing changed; `conflict` when the branch moved meanwhile (another attempt landed).
   */
  commit(taskId: number, key: string, message: string): Promise<{ commit: string } | { conflict: true } | null>;
  /** Removes the attempt's worktree and anything uncommitted in it. Safe to call twice. */
  remove(taskId: number, key: string): Promise<void>;
  /**
   * Pushes the task branch to the remote GitHub reads (the router pushes, never the agent), never
   * with force: `conflict` when the remote branch holds work this one does not (another worker's
   * attempt landed there first). Absent where there is no remote to push to (the local CLI).
   */
  publish?(taskId: number): Promise<{ pushed: string } | { conflict: true }>;
  /**
   * Writes the task branch's commits that the remote lacks into a git bundle at `file` (a read-only
   * worker hands its work on this way); the branch head, or null (no file written) when the task
   * has no branch or the remote already has all of it (the attempt committed nothing).
   */
  exportBranch?(taskId: number, file: string): Promise<string | null>;
  /**
   * Makes the local task branch `head`, read from a bundle `exportBranch` wrote: created, or moved
   * forward from what it was (never backward or sideways). `conflict` when it cannot be.
   */
  importBranch?(taskId: number, file: string, head: string): Promise<{ imported: string } | { conflict: true }>;
}

/** Per-run folders (HOME, bundle, handoff file) under `.git/agent-router/runs`. */
export interface RunFolders {
  /** Removes a task's run folders except the newest `keep` (by modification time). */
  prune(taskId: number, keep: number): Promise<void>;
}

/** An agent process group whose owning worker died, stopped by `reapOrphans`. */
export interface ReapedRun {
  taskId: number;
  key: string;
  pgid: number;
}

/**
 * The agent process groups this machine's workers started, recorded under
 * `.git/agent-router/procs` with their start times (a reused pid is never mistaken for them).
 */
export interface AgentProcesses {
  /** Stops (SIGTERM, then SIGKILL) every recorded group whose owning worker is dead; forgets stale records. */
  reapOrphans(): Promise<ReapedRun[]>;
  /** Synchronously SIGKILLs every group this process started (the exit path and a second signal). */
  killOwn(): void;
}

/** Structured logs. Every line carries the run's trace id (bound by the adapter). */
export interface Log {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines also carry these fields (task id, attempt key, delivery id). */
  child(fields: Record<string, unknown>): Log;
}

/** Periodic callbacks (heartbeats), injectable so tests fire them by hand instead of waiting. */
export interface Timer {
  every(ms: number, fn: () => void): { stop(): void };
}

/**
 * Where configuration is read from: the working tree (local CLI) or one commit, normally of the
 * default branch (Action, app), because command agents and `agents.*.env` run code and pass secrets
 * and must not come from a branch under review. Paths are repository-relative with `/`.
 */
export interface ConfigSource {
  /** "working tree at /repo" or "commit 1a2b3c4d (main)", for messages. */
  readonly describe: string;
  /** A file's text; null when it does not exist. */
  read(path: string): Promise<string | null>;
  /** Names of the files directly inside `dir`, sorted; empty when `dir` does not exist. */
  list(dir: string): Promise<string[]>;
}
