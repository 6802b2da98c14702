import { CronExpressionParser, type CronExpression } from "cron-parser";

/**
 * The one cron grammar: cron-parser, in UTC (or a job's IANA time zone), narrowed to what GitHub
 * Actions accepts (five fields; numbers, names, `*`, ranges, steps and lists). Validation and due
 * slots both go through `parseSchedule`, so a schedule that validates is exactly one that can be run. cron-parser applies
 * POSIX day-of-month OR day-of-week; its `strict` option would forbid that, so it stays off.
 */
const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: "JAN-DEC" },
  { name: "day-of-week", min: 0, max: 7, names: "SUN-SAT" },
] as const;

/**
 * One value inside a field. cron-parser also reads six fields (seconds first), `@daily`, and the
 * H, L, W, # and ? extensions; GitHub does not, and H is random unless seeded, so they are refused
 * before the library sees them.
 */
const ATOM = /^(?:\*|\d+|[a-z]{3})$/i;

/** Validation needs some current date; the core reads no clock, so any fixed instant will do. */
const ANY_INSTANT = "2000-01-01T00:00:00.000Z";

/**
 * The schedule as cron-parser's iterator, starting after `from` (an ISO instant). The fields are read
 * as wall-clock time in `timezone` (an IANA name, checked by `timezoneProblem`), UTC when absent; the
 * dates it returns are instants, whatever the host's TZ. With `until` (`since`), `next()` (`prev()`)
 * throws (`isOutsideBounds`) rather than search beyond it, so a sparse schedule costs nothing past a window.
 */
export function parseSchedule(expression: string, from: string, timezone = "UTC", bounds: { until?: string; since?: string } = {}): CronExpression {
  const problems = cronProblems(expression);
  const zone = timezoneProblem(timezone);
  if (zone !== undefined) problems.push(zone);
  if (problems.length > 0) throw new Error(problems.join("; "));
  const span = { ...(bounds.until !== undefined ? { endDate: bounds.until } : {}), ...(bounds.since !== undefined ? { startDate: bounds.since } : {}) };
  return CronExpressionParser.parse(expression.trim(), { tz: timezone, currentDate: from, ...span });
}

/** Whether cron-parser's `next()` (`prev()`) threw because the slot lies after `until` (before `since`). */
export function isOutsideBounds(error: unknown): boolean {
  return error instanceof Error && error.message === "Out of the time span range";
}

/**
 * A problem with a time zone name, or undefined when it is an IANA zone. Intl decides what a zone is:
 * cron-parser (through luxon) would also take "local" and "system" (the host's zone, which differs
 * between a laptop and a runner) and offsets such as "UTC+3" (no daylight saving), and Intl refuses
 * all three.
 */
export function timezoneProblem(zone: string): string | undefined {
  const problem = `timezone "${zone}" is not an IANA time zone name; use one such as UTC, Europe/Berlin or America/New_York`;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    CronExpressionParser.parse("* * * * *", { tz: zone, currentDate: ANY_INSTANT }).next();
    return undefined;
  } catch {
    return problem;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function fieldProblem(part: string, index: number): string | undefined {
  const field = FIELDS[index]!;
  const bad = part.split(/[,/-]/).find((atom) => !ATOM.test(atom));
  if (bad !== undefined) {
    const names = "names" in field ? ` or names (${field.names})` : "";
    return `the ${field.name} field "${part}" contains "${bad}"; use numbers (${field.min}-${field.max})${names}, *, ranges a-b, steps /n and lists a,b`;
  }
  // The field alone, every other field `*`: the library's error then belongs to this field.
  const alone = FIELDS.map((_, i) => (i === index ? part : "*")).join(" ");
  try {
    CronExpressionParser.parse(alone, { tz: "UTC", currentDate: ANY_INSTANT });
    return undefined;
  } catch (error) {
    const reversed = /min\((\d+)\) > max\((\d+)\)/.exec(messageOf(error));
    if (reversed) {
      const [, from, to] = reversed;
      return `the ${field.name} field "${part}" has the reversed range ${from}-${to}; ranges do not wrap around, write ${to}-${from} or ${from}-${field.max},${field.min}-${to}`;
    }
    return `the ${field.name} field "${part}" is not valid: ${messageOf(error)}`;
  }
}

/** Problems with a 5-field cron expression (GitHub Actions syntax, UTC), or [] when valid. */
export function cronProblems(expression: string): string[] {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) return [`a schedule has 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`];
  const problems = parts.map(fieldProblem).filter((p) => p !== undefined);
  if (problems.length > 0) return problems;
  try {
    CronExpressionParser.parse(expression.trim(), { tz: "UTC", currentDate: ANY_INSTANT });
    return [];
  } catch (error) {
    // Fields valid on their own but not together, e.g. "0 0 31 2 *" (February has no 31st).
    return [`"${expression.trim()}" never matches: ${messageOf(error)}`];
  }
}
