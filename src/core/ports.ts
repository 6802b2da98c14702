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

/** Each task's own git worktree on branch `agent-router/task-ID`, where its agent works. */
export interface Workspaces {
  /** The worktree, created from the base commit the first time and reused by later attempts. */
  prepare(taskId: number): Promise<{ path: string; branch: string }>;
  /** Commits everything that changed in the worktree as the router; null when nothing changed. */
  commit(taskId: number, message: string): Promise<string | null>;
  /** Throws away uncommitted changes (a reviewer must not change the work it reviews). */
  discard(taskId: number): Promise<void>;
}
