/** retryDelayMs: the one full-jitter exponential backoff (agent retries and ledger write retries). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../../src/core/scheduling/retry-delay.ts";

describe("retryDelayMs: full jitter in [0, min(cap, base·2^(n−1)))", () => {
  const low = (): number => 0;
  const high = (): number => 0.999_999_999;
  const base = 1000;
  const cap = 10_000;

  const ceilings: [number, number][] = [
    [0, 1000],
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 10_000],
    [6, 10_000],
    [40, 10_000],
    [2000, 10_000],
  ];
  for (const [n, ceiling] of ceilings) {
    it(`n=${n}: 0 with random 0, just under ${ceiling} with random → 1`, () => {
      expect(retryDelayMs(n, low, base, cap)).toBe(0);
      expect(retryDelayMs(n, high, base, cap)).toBe(ceiling - 1);
      expect(retryDelayMs(n, () => 0.5, base, cap)).toBe(ceiling / 2);
    });
  }

  it("the upper end grows with n, then stays at the cap", () => {
    const tops = [1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, high, base, cap));
    expect(tops).toEqual([999, 1999, 3999, 7999, 9999, 9999, 9999]);
  });

  it("property: an integer within [0, min(cap, base·2^(n−1))) for any n, base, cap and random in [0, 1)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.integer({ min: 1, max: 86_400_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, b, c, r) => {
          const d = retryDelayMs(n, () => r, b, c);
          const ceiling = Math.min(c, b * 2 ** Math.max(0, n - 1));
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(ceiling);
          expect(d).toBeLessThanOrEqual(c);
          // Monotone in the random draw's upper end: more failures never shrink the ceiling.
          expect(retryDelayMs(n + 1, high, b, c)).toBeGreaterThanOrEqual(retryDelayMs(n, high, b, c));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
