/**
 * Full-jitter exponential backoff: a uniform whole number of milliseconds in
 * [0, min(cap, base·2^(n−1))) after the n-th failure. The one formula for every retry (an agent
 * attempt's `retryAt`, a ledger write that lost its compare-and-swap); `random` is passed in, so
 * the core stays pure. Full jitter spreads competing writers apart instead of letting them collide
 * again in lockstep.
 */
export function retryDelayMs(failures: number, random: () => number, baseMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * ceiling);
}
