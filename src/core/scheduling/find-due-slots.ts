import { isOutsideBounds, parseSchedule } from "./cron-schedule.ts";

/** The newest due slots of a schedule. */
export interface DueSlots {
  /** At most `keep` slots in (after, now], oldest first, as UTC ISO strings (`toISOString()`). */
  slots: string[];
  /** True when due slots older than `slots[0]` exist and were left out (more than `keep` were due). */
  earlier: boolean;
}

export interface DueSlotsQuery {
  /** The newest slot already handled (exclusive lower bound); absent: the schedule's whole past counts. */
  after?: string;
  /** The current instant (inclusive upper bound), from the injected clock. */
  now: string;
  /** How many of the newest due slots to return (at least 1). */
  keep: number;
  /** IANA zone the cron fields are read in; UTC when absent. */
  timezone?: string;
}

const HOUR_MS = 3_600_000;
/** Slots read forward from `after` before the search turns to the newest slots back from now. */
const FORWARD_LIMIT = 256;
/** How far back a schedule is searched: 16 years (a "29 February" schedule fires every 4 to 8 years). */
const LOOK_BACK_MS = 16 * 366 * 24 * HOUR_MS;
/** The windowed fallback's widest window, 2^17 hours (about 15 years). */
const MAX_ROUND = 17;
/**
 * The slots are cron-parser's forward sequence (`next()`), but `next()` is not a function of its
 * start alone around a daylight-saving change: started inside the hour after a clock change it can
 * return the repeated 01:30 that a sequence started earlier skipped, or skip the shifted 03:30 that
 * it took (and `prev()` disagrees with both). A forward read whose start has a clock change less
 * than this before it starts this much earlier instead (more than the largest clock change, 2
 * hours) and counts only what comes after its start, so every run sees the slots a sequence started
 * long before would give, and two runs never disagree about which slots exist.
 */
const MARGIN_MS = 3 * HOUR_MS;

const iso = (t: number): string => new Date(t).toISOString();

/** The zone's UTC offset at an instant, as Intl names it ("GMT+01:00"); one formatter per search. */
type OffsetOf = (t: number) => string;

function offsetsOf(timezone: string | undefined): OffsetOf {
  if (timezone === undefined) return () => "GMT";
  const format = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longOffset" });
  return (t) => format.formatToParts(t).find((p) => p.type === "timeZoneName")?.value ?? "";
}

/** Reads the forward sequence, keeping the newest `keep + 1` slots in (start, end] and counting them (up to `limit` + 1). */
function scan(expression: string, timezone: string | undefined, offsetOf: OffsetOf, start: number, end: number, keep: number, limit = Number.POSITIVE_INFINITY): { found: number[]; count: number } {
  const from = offsetOf(start - MARGIN_MS) === offsetOf(start) ? start : start - MARGIN_MS;
  const slots = parseSchedule(expression, iso(from), timezone, { until: iso(end) });
  const found: number[] = [];
  let count = 0;
  while (count <= limit) {
    let t: number;
    try {
      t = slots.next().getTime();
    } catch (error) {
      if (isOutsideBounds(error)) break;
      throw error;
    }
    if (t <= start) continue;
    count++;
    found.push(t);
    if (found.length > keep + 1) found.shift();
  }
  return { found, count };
}

/** The oldest of the newest `n` slots after `floor` by cron-parser's backward search, or undefined: only an anchor for `scan`. */
function anchorBack(expression: string, timezone: string | undefined, end: number, floor: number, n: number): number | undefined {
  const since = Math.max(floor, end - LOOK_BACK_MS);
  const slots = parseSchedule(expression, iso(end + 1), timezone, { since: iso(since) });
  let oldest: number | undefined;
  for (let i = 0; i < n; i++) {
    try {
      const t = slots.prev().getTime();
      if (t <= floor) break;
      oldest = t;
    } catch (error) {
      if (isOutsideBounds(error)) break;
      throw error;
    }
  }
  return oldest;
}

/**
 * The newest `keep` slots of a 5-field cron schedule in (after, now]. Time is read only from `now`
 * and `after` (never the host's clock or TZ). Slots are read forward from `after` when there are
 * few (up to FORWARD_LIMIT); otherwise, and for a schedule never run, the newest are located
 * backwards from now and read forwards from a little before them, so the work is bounded by the
 * slots asked for, not by how long ago `after` was (a job off for a year on `* * * * *` costs about
 * what one run does). A window back from now, doubling, is the fallback should the two directions
 * disagree (daylight saving).
 */
export function findDueSlots(expression: string, q: DueSlotsQuery): DueSlots {
  const end = Date.parse(q.now);
  const floor = q.after === undefined ? Number.NEGATIVE_INFINITY : Date.parse(q.after);
  const keep = Math.max(1, q.keep);
  const done = (found: number[]): DueSlots => ({ slots: found.slice(-keep).map(iso), earlier: found.length > keep });
  if (!(end > floor)) return done([]);
  const offsetOf = offsetsOf(q.timezone);
  if (q.after !== undefined) {
    const forward = scan(expression, q.timezone, offsetOf, floor, end, keep, FORWARD_LIMIT);
    if (forward.count <= FORWARD_LIMIT) return done(forward.found);
  }
  const anchor = anchorBack(expression, q.timezone, end, floor, keep + 1);
  if (anchor !== undefined) {
    // From a little before the anchor: `prev()` may count a repeated hour's slots that `next()` does not.
    const start = Math.max(floor, anchor - MARGIN_MS);
    const { found } = scan(expression, q.timezone, offsetOf, start, end, keep);
    // Known to be the newest: more than `keep` (older ones exist), all there is, or a never-run job's `keep`.
    if (found.length > keep || start === floor || (q.after === undefined && found.length === keep)) return done(found);
  }
  let found: number[] = [];
  for (let round = 0; round <= MAX_ROUND; round++) {
    const windowStart = end - 2 ** round * HOUR_MS;
    const reached = windowStart <= floor;
    found = scan(expression, q.timezone, offsetOf, reached ? floor : windowStart, end, keep).found;
    if (found.length > keep || (q.after === undefined && found.length === keep) || reached) break;
  }
  return done(found);
}
