import type { Job } from "../core/config/job.ts";
import type { MainConfig } from "../core/config/main-config.ts";
import type { Profile } from "../core/config/profile.ts";
import type { GitHub } from "../core/github-port.ts";
import type { TransitionContext } from "../core/ledger/events.ts";
import type { AgentRunner, Backoff, Classifier, Clock, LedgerStore, Log, RepoFiles, RunFolders, Timer, Workspaces } from "../core/ports.ts";
import type { RoutingSetup } from "../core/routing/decide-route.ts";
import type { Redact } from "../core/secrets/redact.ts";
import { redactTokens } from "../core/secrets/redact.ts";
import type { MutateOptions } from "./mutate-ledger.ts";

/** Everything a command needs from the outside, built by an entrypoint. */
export interface AppDeps {
  store: LedgerStore;
  clock: Clock;
  backoff: Backoff;
  config: MainConfig;
  /** W3C traceparent of this run; goes into every history entry and the commit message. */
  traceId: string;
  /** Who is acting: `cli:<user>`, `github:<login>`, `router`. */
  actor: string;
  /** First backoff step after a ledger conflict (a local git write takes milliseconds, an API call more). */
  conflictBaseDelayMs?: number;
  /** Structured logs; silent when absent. */
  log?: Log;
  /**
   * Removes secrets (token shapes and the values of the secrets in the router's environment) from
   * text an agent wrote, before it is recorded; token shapes only when absent.
   */
  redact?: Redact;
}

/** GitHub, where the router runs against it (the Action, the app); absent for the local CLI. */
export interface GitHubIo {
  api: GitHub;
  /** "https://github.com", or the Enterprise Server's, for links in comments. */
  serverUrl: string;
  /** This run's URL (an Actions run), linked from tracking comments. */
  runUrl?: string;
  /** How long the permission API may take before a command is refused (fail closed). */
  permissionTimeoutMs?: number;
  /**
   * The router's own account id (the Action's `github-actions[bot]`, the app's bot user): a comment
   * with a router marker by anyone else is ignored, never taken for the router's. When absent, the
   * first sync that reads comments asks GitHub (`api.viewer()`, once per client; `accountOf`) and
   * fails rather than sync without it.
   */
  accountId?: number;
}

/** What reconcile needs beyond AppDeps: how to route, and the attempt key formula. */
export interface ReconcileDeps extends AppDeps {
  github?: GitHubIo;
  routing: RoutingSetup;
  /** The LLM classifier, or null: rules and the fallback decide. */
  classifier: Classifier | null;
  /** The attempt's idempotency key: sha256(taskId|attempt). */
  keyFor: (taskId: number, attempt: number) => string;
  random: () => number;
  /** The enabled scheduled jobs (built-in and the repository's); none when absent. */
  jobs?: readonly Job[];
}

/** What performing an attempt or a review needs: the agents, the worktrees, the repository's files. */
export interface WorkerIo {
  runner: AgentRunner;
  workspaces: Workspaces;
  /**
   * The repository's files for a task's bundle, read at a trusted commit (the merge base of the
   * task's branch with the base branch): what the task's attempts wrote is never read as instructions.
   */
  repoFor: (taskId: number) => RepoFiles;
  /** The repository's own working tree (for dry runs, which create no worktree). */
  root: string;
  profiles: ReadonlyMap<string, Profile>;
  /** A fresh untrusted-block boundary. */
  newBoundary: () => string;
  /** Drives heartbeats; tests fire it by hand. */
  timer: Timer;
  /** Old run folders are pruned after each attempt, when given. */
  runFolders?: RunFolders;
  /**
   * A worker whose token cannot write the ledger (the Action's worker job, which runs the agent with
   * a read-only token): it sends no heartbeats, and its claim's lease is made to cover the whole run.
   */
  readOnly?: boolean;
}

export function contextOf(deps: AppDeps): TransitionContext {
  return { now: deps.clock.now().toISOString(), traceId: deps.traceId, by: deps.actor };
}

export function mutateOptionsOf(deps: AppDeps): MutateOptions {
  return {
    backoff: deps.backoff,
    traceId: deps.traceId,
    now: deps.clock.now().toISOString(),
    archiveAfterDays: deps.config.ledger.archiveAfterDays,
    ...(deps.conflictBaseDelayMs === undefined ? {} : { baseDelayMs: deps.conflictBaseDelayMs }),
  };
}

const quiet = (): void => undefined;
/** A Log that drops everything. */
export const silentLog: Log = { debug: quiet, info: quiet, warn: quiet, error: quiet, child: () => silentLog };

export function redactOf(deps: AppDeps): Redact {
  return deps.redact ?? redactTokens;
}

export function logOf(deps: AppDeps): Log {
  return deps.log ?? silentLog;
}
