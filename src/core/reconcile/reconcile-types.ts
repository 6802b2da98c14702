import type { CommenterCheck } from "../commands/authorize.ts";
import type { Job } from "../config/job.ts";
import type { MainConfig } from "../config/main-config.ts";
import type { Profile } from "../config/profile.ts";
import type { Effect, TaskEvent, TransitionContext } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Route, Task, TaskStatus } from "../ledger/task.ts";
import type { AttemptResult, RunOutcome } from "./attempt-result.ts";
import type { ReviewResult } from "./review-result.ts";
import type { Trigger } from "./trigger.ts";

/** A claimed attempt: what a worker (local, or a dispatched Actions run) is told to perform. */
export interface Claim {
  taskId: number;
  attempt: number;
  key: string;
  agent: string;
  model?: string;
}

export interface ReconcileInput {
  ledger: Ledger;
  trigger: Trigger;
  ctx: TransitionContext;
  config: MainConfig;
  profiles: ReadonlyMap<string, Profile>;
  /** The scheduled jobs in force (enabled ones; others are ignored): every reconcile creates their due tasks. */
  jobs: readonly Job[];
  /** Routes decided before the commit (rules, classifier, fallback), by task id. */
  routes: ReadonlyMap<number, Route>;
  /** Finished attempts to record in this commit. */
  results: readonly AttemptResult[];
  /** Finished reviews to record in this commit (a dispatched reviewer's), each fenced by its claim's key. */
  reviewResults?: readonly ReviewResult[];
  /** Attempts whose owning worker is known to be dead (its agents were stopped on this machine). */
  orphans: readonly { taskId: number; key: string }[];
  /** How many attempts this reconcile may claim, and which tasks this worker already runs. */
  claim: { limit: number; busy: ReadonlySet<number> };
  /** How many reviews may be claimed (their effects go to the executor), and tasks this worker already reviews. */
  reviews: { limit: number; busy: ReadonlySet<number> };
  /** The attempt's idempotency key: one formula, sha256(taskId|attempt) in production. */
  keyFor: (taskId: number, attempt: number) => string;
  random: () => number;
  /**
   * The permission of whoever the trigger's change needs authorised, as GitHub answered: the commenter
   * of a command, the sender of an issue event that would make a task (absent: not checked, which refuses).
   */
  commenter?: CommenterCheck;
}

/** What the trigger itself asked for, and what came of it. */
export type TriggerOutcome =
  | { kind: "none" }
  | { kind: "duplicate"; deliveryId: string }
  | { kind: "ignored"; why: string }
  /** A command (or answer) that was not obeyed: not allowed, malformed, or not applicable now. */
  | { kind: "refused"; why: string }
  | { kind: "created"; task: Task }
  | { kind: "moved"; taskId: number; event: TaskEvent["type"]; from: TaskStatus; to: TaskStatus }
  | { kind: "routed"; taskId: number; route: Route; previous?: Route }
  | { kind: "claimed"; claim: Claim }
  | { kind: "not_runnable"; taskId: number; why: string }
  | { kind: "awaiting_approval"; taskId: number };

/** A review this reconcile claimed: the worker that runs it holds `key` (fenced like an attempt's). */
export interface ReviewStart {
  taskId: number;
  key: string;
  /** The agent that will review (`chooseReviewer`), when there is one: a dispatched worker gets only its key. */
  agent?: string;
}

export interface ReconcilePlan {
  ledger: Ledger;
  /** The intents this commit records, performed after it lands (or printed by a dry run). */
  effects: Effect[];
  claims: Claim[];
  reviews: ReviewStart[];
  recorded: RunOutcome[];
  outcome: TriggerOutcome;
  /** One line per change, for the commit message and the dry-run plan. Empty: nothing to write. */
  lines: string[];
}
