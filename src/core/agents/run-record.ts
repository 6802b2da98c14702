import type { FailureClass } from "./classify-failure.ts";

/**
 * The router's own measurement of one agent run, the same for every agent. Recorded on the
 * attempt even when the handoff is missing or invalid.
 */
export interface RunRecord {
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** The CLI's own words for how it stopped: claude `subtype`/`terminal_reason`, codex `turn.failed`, opencode `step_finish.reason`. */
  stopReason?: string;
  turns?: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  costUsd?: number;
  /** Why the cost is missing, when it is. */
  costReason?: string;
  sessionId?: string;
  /** Tool calls the CLI refused. */
  deniedActions: string[];
  /** From git, in the agent's worktree. */
  filesChanged: string[];
  /** The agent's final message. */
  finalText: string;
  /** Set when `ok` is false. */
  failure?: FailureClass;
  /** The CLI's error channel, capped: what classification read. */
  errorText: string;
  durationMs: number;
}

/** What a CLI's machine-readable output says, before the router adds git and timing facts. */
export interface ParsedRun {
  ok: boolean;
  stopReason?: string;
  turns?: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  costUsd?: number;
  sessionId?: string;
  deniedActions: string[];
  finalText: string;
  /** Structured failure facts for `classifyFailure`. */
  apiStatus?: number;
  apiError?: string;
  /** Error text from the CLI's error events or flagged result, not from the transcript. */
  errorText: string;
  /** Files the CLI reports changing (codex `file_change`); git is the authority. */
  filesReported?: string[];
}
