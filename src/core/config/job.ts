import * as z from "zod";
import { cronProblems } from "../scheduling/cron-schedule.ts";

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, "lower-case letters, digits and dashes");

/** A scheduled job: on each cron slot it creates one task (once per slot, however often it is checked). */
export const Job = z
  .object({
    name: name.describe("The job's name; a file jobs/<name>.yml must carry the same name"),
    description: z.string().min(1).optional(),
    schedule: z
      .string()
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
  .strict()
  // On the object so that the message can name the job; `when` keeps it running even if another
  // field is wrong, so every problem is reported at once.
  .superRefine(
    (job, ctx) => {
      const label = typeof job.name === "string" ? `job "${job.name}"` : "job";
      for (const problem of cronProblems(job.schedule)) ctx.addIssue({ code: "custom", path: ["schedule"], message: `${label}: ${problem}` });
    },
    { when: (payload) => typeof (payload.value as { schedule?: unknown } | null)?.schedule === "string" },
  );
export type Job = z.infer<typeof Job>;
