import type { FailureClass } from "./classify-failure.ts";

/** What a CLI's machine-readable output tells about a run; shared by the parsed output and the record. */
interface RunFacts {
  ok: boolean;
  /** The CLI's own words for how it stopped: claude `subtype`/`terminal_reason`, codex `turn.failed`, opencode `step_finish.reason`. */
  stopReason?: string;
  turns?: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  costUsd?: number;
  sessionId?: string;
  /** Tool calls the CLI refused. */
  deniedActions: string[];
  /** The agent's final message. */
  finalText: string;
  /** The CLI's error channel (error events, a flagged result, stderr), never the transcript. */
  errorText: string;
}

/**
 * The router's own measurement of one agent run, the same for every agent. Recorded on the
 * attempt even when the handoff is missing or invalid.
 */
export interface RunRecord extends RunFacts {
  exitCode: number | null;
  timedOut: boolean;
  /** Why the cost is missing, when it is. */
  costReason?: string;
  /** From git, in the agent's worktree. */
  filesChanged: string[];
  /** Set when `ok` is false. */
  failure?: FailureClass;
  durationMs: number;
  /**
   * The handoff file as the router read it, when the agent wrote one: its size in bytes, the bytes
   * read (at most the runner's cap: fewer than `bytes` means the rest was never read), and the start
   * of its raw text, so that a malformed file can be shown on the attempt.
   */
  handoffFile?: { bytes: number; readBytes: number; raw: string };
}

/** What a CLI's machine-readable output says, before the router adds git and timing facts. */
export interface ParsedRun extends RunFacts {
  /** Structured failure facts for `classifyFailure`. */
  apiStatus?: number;
  apiError?: string;
  /** Files the CLI reports changing (codex `file_change`); git is the authority. */
  filesReported?: string[];
}
