import * as z from "zod";

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] },
  { name: "day of week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
] as const;

function valueOf(text: string, field: (typeof FIELDS)[number]): number | undefined {
  const names = "names" in field ? (field.names as readonly string[]) : [];
  const named = names.indexOf(text.toUpperCase());
  if (named >= 0) return named + field.min;
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= field.min && n <= field.max ? n : undefined;
}

/** Problems with a 5-field cron expression (GitHub Actions syntax, UTC), or [] when valid. */
export function cronProblems(expression: string): string[] {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) return [`a schedule has 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`];
  const problems: string[] = [];
  parts.forEach((part, i) => {
    const field = FIELDS[i]!;
    for (const item of part.split(",")) {
      const m = /^(\*|[^-/]+(?:-[^-/]+)?)(?:\/(\d+))?$/.exec(item);
      const range = m?.[1]?.split("-") ?? [];
      const ok = m && (m[2] === undefined || Number(m[2]) > 0) && (range[0] === "*" || range.every((v) => valueOf(v, field) !== undefined));
      if (!ok) problems.push(`"${item}" is not a valid ${field.name} (${field.min}–${field.max}${"names" in field ? " or a name" : ""}, *, ranges a-b, steps /n, lists a,b)`);
    }
  });
  return problems;
}

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, "lower-case letters, digits and dashes");

/** A scheduled job: on each cron slot it creates one task (once per slot, however often it is checked). */
export const Job = z
  .object({
    name: name.describe("The job's name; a file jobs/<name>.yml must carry the same name"),
    description: z.string().min(1).optional(),
    schedule: z
      .string()
      .superRefine((s, ctx) => {
        for (const message of cronProblems(s)) ctx.addIssue({ code: "custom", message });
      })
      .describe("Cron in UTC, 5 fields; day-of-month and day-of-week match with OR, as in POSIX cron"),
    enabled: z.boolean().default(false).describe("Built-in jobs are examples and start disabled"),
    task: z
      .object({
        title: z.string().min(1),
        body: z.string().default(""),
        labels: z.array(z.string().min(1)).default([]),
        profile: name.optional().describe("Route hint: the profile to use"),
        agent: name.optional().describe("Route hint: the agent to use"),
      })
      .strict(),
    catchUp: z.number().int().min(0).max(10).default(1).describe("Missed slots to create late (newest first) after downtime"),
  })
  .strict();
export type Job = z.infer<typeof Job>;
