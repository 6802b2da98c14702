/** Numbers as the tracking comment and pull request body show them: durations, tokens, dollars. */
import type { Attempt } from "../ledger/task.ts";

export const NONE = "—";

/** `45s`, `12m 3s`, `2h 5m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** `1,234,567`: grouped by hand so the output does not depend on the host's locale data. */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * US dollars with 2 to 4 decimals: `$12.40`, `$0.0686`, `$0.05`; a cost too small for 4 decimals is
 * `<$0.0001`, so a priced run never reads as free.
 */
export function formatCost(usd: number): string {
  if (usd === 0) return "$0.00";
  if (usd < 0.00005) return "<$0.0001";
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  return `$${usd.toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1")}`;
}

export function attemptDurationMs(a: Attempt): number | undefined {
  if (a.endedAt === undefined) return undefined;
  const ms = Date.parse(a.endedAt) - Date.parse(a.startedAt);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

export interface AttemptTotals {
  /** Ended attempts only. */
  durationMs: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Attempts with usage but no price: their cost is not in `costUsd`. */
  unpriced: number;
  /** Attempts that reported usage at all. */
  withUsage: number;
}

export function attemptTotals(attempts: readonly Attempt[]): AttemptTotals {
  const t: AttemptTotals = { durationMs: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, unpriced: 0, withUsage: 0 };
  for (const a of attempts) {
    t.durationMs += attemptDurationMs(a) ?? 0;
    if (!a.usage) continue;
    t.withUsage++;
    t.inputTokens += a.usage.inputTokens;
    t.outputTokens += a.usage.outputTokens;
    if (a.usage.costUsd === undefined) t.unpriced++;
    else t.costUsd += a.usage.costUsd;
  }
  return t;
}

/** The totals' cost cell: the sum of what is priced, saying how many attempts had no price. */
export function formatTotalCost(t: AttemptTotals): string {
  if (t.withUsage === 0) return NONE;
  if (t.unpriced === t.withUsage) return "unpriced";
  const sum = formatCost(t.costUsd);
  return t.unpriced === 0 ? sum : `${sum} + ${t.unpriced} unpriced`;
}
