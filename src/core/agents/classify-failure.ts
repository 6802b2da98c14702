/** Why an agent run failed. The first four fail over to the next agent; see `FAILOVER_CLASSES`. */
export const FAILURE_CLASSES = ["rate_limit", "usage_limit", "auth", "outage", "timeout", "tooling_missing", "invalid_output", "agent_error"] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export const FAILOVER_CLASSES: readonly FailureClass[] = ["rate_limit", "usage_limit", "auth", "outage"];

/**
 * What a run left behind for classification. `apiStatus` and `apiError` are structured fields
 * from the CLI's own output; `errorText` is the CLI's error channel only (stderr, error events, the
 * result text when the CLI flags an error), never the agent's transcript, where "401" or "rate
 * limit" can appear legitimately in tool output.
 */
export interface FailureSignals {
  timedOut: boolean;
  /** The executable could not be started (ENOENT) or a tool it needs is missing. */
  spawnError?: string;
  apiStatus?: number;
  /** A structured error kind, e.g. claude's api_retry `error` ("rate_limit", "authentication_failed"). */
  apiError?: string;
  errorText: string;
}

const USAGE = /usage limit|quota|hit (?:your|the) limit|(?<!rate )limit (?:reached|exceeded|hit)|insufficient[_ ]quota/i; // "Rate limit reached" (OpenAI 429) is a rate limit
const RATE = /\b429\b|too many requests|rate[ _-]?limit|overloaded/i;
const AUTH =
  /unauthori[sz]ed|invalid[ _-]?(?:api[ _-]?key|x-api-key|key|token|bearer|credentials)|(?:api[ _-]?key|token|credentials).{0,30}(?:invalid|expired|revoked)|auth(?:entication)?.{0,12}fail|\bno\b.{0,12}(?:api key|token)|expired.{0,12}(?:key|token|plan)|billing (?:error|issue|problem)|insufficient.{0,12}credit|payment.{0,12}required|credit balance.{0,20}too low|\b40[13]\b.{0,40}(?:unauthori|forbidden|api key)/i;
const OUTAGE = /service unavailable|bad gateway|internal server error|high demand|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|\b5\d\d\b.{0,30}(?:error|unavailable|gateway)/i;
const MISSING_TOOL = /command not found|spawn \S+ ENOENT|^\S*sh: (?:(?:line )?\d+: )?\S+: not found$|No such file or directory.{0,40}(?:bin|exec)/im;

/**
 * Classifies a failed run, structured signals first, then text patterns on the error channel.
 * Order matters: a missing tool is never retried; a timeout only counts as such when nothing more
 * specific is known; in text, usage limits come before auth (quota messages mention billing) and
 * auth before rate.
 */
export function classifyFailure(s: FailureSignals): FailureClass {
  if (s.spawnError !== undefined) return "tooling_missing";
  const status = s.apiStatus;
  if (status === 401 || status === 403 || s.apiError === "authentication_failed" || s.apiError === "billing_error") return "auth";
  if (status === 429 || s.apiError === "rate_limit") return USAGE.test(s.errorText) ? "usage_limit" : "rate_limit";
  if (status === 529 || (status !== undefined && status >= 500) || s.apiError === "overloaded" || s.apiError === "server_error") return "outage";
  const text = s.errorText;
  if (MISSING_TOOL.test(text)) return "tooling_missing";
  if (USAGE.test(text)) return "usage_limit"; // "quota exceeded, check your plan and billing" is a limit, not bad credentials
  if (AUTH.test(text)) return "auth";
  if (RATE.test(text)) return "rate_limit";
  if (OUTAGE.test(text)) return "outage";
  if (s.timedOut) return "timeout";
  return "agent_error";
}

/** Whether a class moves the task to the next agent in the failover chain. */
export function failsOver(c: FailureClass): boolean {
  return FAILOVER_CLASSES.includes(c);
}
