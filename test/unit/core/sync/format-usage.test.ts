import { describe, expect, it } from "vitest";
import { attemptTotals, formatCost, formatCount, formatDuration, formatTotalCost } from "../../../../src/core/sync/format-usage.ts";
import type { Attempt } from "../../../../src/core/ledger/task.ts";

const at = (minute: number, second = 0): string => new Date(Date.UTC(2026, 10, 1, 9, minute, second)).toISOString();

describe("format-usage", () => {
  it("formats costs with 2 to 4 decimals and never shows a priced run as free", () => {
    expect([0, 0.00001, 0.0686, 0.068, 0.05, 0.5, 0.99996, 1.5, 12.345].map(formatCost)).toEqual([
      "$0.00", "<$0.0001", "$0.0686", "$0.068", "$0.05", "$0.50", "$1.00", "$1.50", "$12.35",
    ]);
  });

  it("formats durations and counts without the host's locale", () => {
    expect([0, 45_000, 723_000, 7_500_000].map(formatDuration)).toEqual(["0s", "45s", "12m 3s", "2h 5m"]);
    expect([0, 999, 1_000, 1_234_567].map(formatCount)).toEqual(["0", "999", "1,000", "1,234,567"]);
  });

  it("totals ended attempts and says which had no price", () => {
    const attempts: Attempt[] = [
      { n: 1, key: "a", agent: "claude", startedAt: at(0), endedAt: at(2, 30), usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.25 } },
      { n: 2, key: "b", agent: "my-agent", startedAt: at(3), endedAt: at(4), usage: { inputTokens: 1, outputTokens: 1 } },
      { n: 3, key: "c", agent: "claude", startedAt: at(5) },
    ];
    const t = attemptTotals(attempts);
    expect(t).toEqual({ durationMs: 210_000, inputTokens: 11, outputTokens: 6, costUsd: 0.25, unpriced: 1, withUsage: 2 });
    expect(formatTotalCost(t)).toBe("$0.25 + 1 unpriced");
    expect(formatTotalCost(attemptTotals(attempts.slice(1)))).toBe("unpriced");
    expect(formatTotalCost(attemptTotals(attempts.slice(2)))).toBe("—");
  });
});
