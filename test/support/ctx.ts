import type { TransitionContext } from "../../src/core/ledger/events.ts";

/** A fixed context for unit tests: time advances only when a test says so. */
export function ctxAt(minute = 0, by = "cli:tester"): TransitionContext {
  const now = new Date(Date.UTC(2026, 10, 1, 9, 0, 0) + minute * 60_000).toISOString();
  return { now, by, traceId: `00-${"a".repeat(31)}${(minute % 10).toString()}-${"b".repeat(16)}-01` };
}
