// An independent model of 5-field cron for checking the scheduler: expressions are built as data
// (fields of atoms), rendered to text for the code under test, and matched here with plain minute
// and day loops over UTC (or a fixed offset). No cron library. The matching rules are POSIX's, as
// cron-parser applies them: day-of-month and day-of-week match with OR when both are restricted
// (a field counts as unrestricted only when it is exactly `*`), 7 is Sunday, `a/s` runs from a to
// the field's maximum, and names stand for their numbers.

/** One comma-separated part of a field. */
export type CronAtom =
  | { kind: "value"; n: number }
  | { kind: "range"; from: number; to: number; step?: number }
  | { kind: "every"; step: number } // */s
  | { kind: "from"; from: number; step: number }; // a/s

/** A field: `*`, or a list of atoms (each rendered as a number or, where it has one, a name). */
export type CronField = { star: true } | { star: false; atoms: CronAtom[]; names: boolean };

export interface CronModel {
  minute: CronField;
  hour: CronField;
  dayOfMonth: CronField;
  month: CronField;
  dayOfWeek: CronField;
}

export const FIELD_RANGES = {
  minute: [0, 59],
  hour: [0, 23],
  dayOfMonth: [1, 31],
  month: [1, 12],
  dayOfWeek: [0, 7],
} as const satisfies Record<keyof CronModel, readonly [number, number]>;

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

function nameOf(field: keyof CronModel, n: number): string {
  if (field === "month") return MONTHS[n - 1]!;
  if (field === "dayOfWeek" && n <= 6) return DAYS[n]!;
  return String(n);
}

function renderAtom(field: keyof CronModel, a: CronAtom, names: boolean): string {
  const v = (n: number): string => (names ? nameOf(field, n) : String(n));
  switch (a.kind) {
    case "value":
      return v(a.n);
    case "range":
      return `${v(a.from)}-${v(a.to)}${a.step !== undefined ? `/${a.step}` : ""}`;
    case "every":
      return `*/${a.step}`;
    case "from":
      return `${v(a.from)}/${a.step}`;
  }
}

export function renderCron(m: CronModel): string {
  const order: (keyof CronModel)[] = ["minute", "hour", "dayOfMonth", "month", "dayOfWeek"];
  return order.map((k) => (m[k].star ? "*" : (m[k] as { atoms: CronAtom[]; names: boolean }).atoms.map((a) => renderAtom(k, a, (m[k] as { names: boolean }).names)).join(","))).join(" ");
}

function stepped(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n += step) out.push(n);
  return out;
}

/** The values a field allows (day-of-week 7 folded onto 0). */
function valuesOf(field: keyof CronModel, f: CronField): Set<number> {
  const [min, max] = FIELD_RANGES[field];
  const raw = f.star
    ? stepped(min, max, 1)
    : f.atoms.flatMap((a) => {
        switch (a.kind) {
          case "value":
            return [a.n];
          case "range":
            return stepped(a.from, a.to, a.step ?? 1);
          case "every":
            return stepped(min, max, a.step);
          case "from":
            return stepped(a.from, max, a.step);
        }
      });
  return new Set(field === "dayOfWeek" ? raw.map((n) => n % 7) : raw);
}

export interface Matcher {
  /** Whether the cron fires at this minute (epoch ms of a whole minute). */
  at(ms: number): boolean;
  /** Whether the day containing this instant can fire at all (month and day rules). */
  day(ms: number): boolean;
}

/** The model's matcher; `offsetMinutes` is the fixed offset of the zone (0: UTC). */
export function matcherOf(m: CronModel, offsetMinutes = 0): Matcher {
  const v = {
    minute: valuesOf("minute", m.minute),
    hour: valuesOf("hour", m.hour),
    dayOfMonth: valuesOf("dayOfMonth", m.dayOfMonth),
    month: valuesOf("month", m.month),
    dayOfWeek: valuesOf("dayOfWeek", m.dayOfWeek),
  };
  const bothRestricted = !m.dayOfMonth.star && !m.dayOfWeek.star;
  const day = (ms: number): boolean => {
    const d = new Date(ms + offsetMinutes * 60_000);
    if (!v.month.has(d.getUTCMonth() + 1)) return false;
    const dom = v.dayOfMonth.has(d.getUTCDate());
    const dow = v.dayOfWeek.has(d.getUTCDay());
    return bothRestricted ? dom || dow : dom && dow;
  };
  return {
    day,
    at(ms) {
      const d = new Date(ms + offsetMinutes * 60_000);
      return v.minute.has(d.getUTCMinutes()) && v.hour.has(d.getUTCHours()) && day(ms);
    },
  };
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Every firing minute in (after, now], oldest first, by a plain loop over minutes. */
export function modelSlotsBetween(match: Matcher, after: number, now: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(after / MINUTE) * MINUTE + MINUTE; t <= now; t += MINUTE) if (match.at(t)) out.push(t);
  return out;
}

/** The latest firing minute at or before `now`, searching back up to `years` (days that cannot fire are skipped whole). */
export function modelLatestSlot(match: Matcher, now: number, offsetMinutes = 0, years = 16): number | undefined {
  const stop = now - years * 366 * DAY;
  let t = Math.floor(now / MINUTE) * MINUTE;
  while (t > stop) {
    if (!match.day(t)) {
      // To the last minute of the previous local day.
      const local = t + offsetMinutes * MINUTE;
      t = Math.floor(local / DAY) * DAY - offsetMinutes * MINUTE - MINUTE;
      continue;
    }
    if (match.at(t)) return t;
    t -= MINUTE;
  }
  return undefined;
}
