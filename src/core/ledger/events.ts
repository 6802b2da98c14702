import type { Route, Usage } from "./task.ts";

/**
 * Everything that can happen to a task. `transition()` accepts or refuses each one; accepted events
 * are stored in the task's history with their payload, so the history replays to the same task.
 */
export type TaskEvent =
  | { type: "route"; route: Route }
  | { type: "require_approval"; reason: string }
  | { type: "approve" }
  | { type: "reject"; reason?: string }
  | { type: "start"; key: string; agent: string; model?: string; leaseUntil: string; runUrl?: string }
  | { type: "heartbeat"; key: string; leaseUntil: string }
  | {
      type: "finish";
      key: string;
      outcome: "done" | "needs_help" | "delegate" | "review";
      summary?: string;
      usage?: Usage;
      sessionId?: string;
      children?: number[];
      question?: string;
    }
  | { type: "fail"; key: string; errorClass: string; error: string; retryable: boolean; retryAt?: string; usage?: Usage; needsHelp?: boolean; summary?: string }
  /** The worker stops without a result (Ctrl-C, shutdown): the claim is given back and the attempt does not count. */
  | { type: "release"; key: string; reason: string }
  | { type: "lease_expired"; key: string; retryAt?: string }
  | { type: "children_settled" }
  /** A reviewer's decision. `needsHelp` (review rounds spent, or no valid decision) asks a person instead of sending the author back. */
  | { type: "review"; decision: "approve" | "request_changes"; notes?: string; reviewer?: string; usage?: Usage; needsHelp?: boolean }
  | { type: "answer"; text: string }
  /** Something only a person can fix stops the task before any attempt (a profile that no longer exists, a review that cannot be prepared). */
  | { type: "escalate"; reason: string }
  | { type: "cancel"; reason?: string }
  | { type: "retry"; agent?: string }
  /**
   * A person with write access changed the issue behind a live task. Only what changed is present;
   * `agent: null` drops the agent hint (the `agent:<name>` label was removed). A task nobody works
   * on whose hint changed goes back to `new` to be routed again. The history keeps which of title
   * and body changed, not their text (that is the task's content, like at creation).
   */
  | {
      type: "edit";
      title?: string;
      body?: string;
      labels?: string[];
      agent?: string | null;
      /** Stored in the history in place of the new title and body (set by `transition`, read on replay). */
      edited?: ("title" | "body")[];
    }
  | { type: "stale_result"; key: string; note: string };

export type TaskEventType = TaskEvent["type"];

/** The time, trace and actor of one transition: supplied by the shell, never read by the core. */
export interface TransitionContext {
  /** ISO-8601 time of the transition. */
  now: string;
  /** W3C traceparent of the run that caused it. */
  traceId: string;
  /** Who caused it: `cli:<user>`, `github:<login>`, `router`. */
  by: string;
}

/** The side-effect class decides what `--dry-run` suppresses; it is checked in one place, the app. */
export type SideEffectClass = "none" | "github" | "git" | "agent" | "dispatch";

export type Effect =
  | { kind: "sync_task"; class: "github"; taskId: number }
  | { kind: "run_attempt"; class: "agent"; taskId: number; attempt: number; key: string }
  | { kind: "cancel_attempt"; class: "agent"; taskId: number; key: string }
  | { kind: "reopen_issue"; class: "github"; taskId: number }
  /** A task in review needs a reviewer run (the local executor runs it; nothing is claimed yet). */
  | { kind: "run_review"; class: "agent"; taskId: number; key: string }
  /** An answer to a person's comment (a command's result or why not); one per comment, found by its marker. */
  | { kind: "reply"; class: "github"; taskId?: number; issue: number; commentId: number; text: string }
  /** A reaction on a person's comment: +1 done, -1 refused, confused when their permission could not be checked. */
  | { kind: "react"; class: "github"; taskId?: number; issue: number; commentId: number; content: "+1" | "-1" | "confused" | "eyes" };
