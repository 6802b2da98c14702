import * as z from "zod";
import { cronProblems, timezoneProblem } from "../scheduling/cron-schedule.ts";

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, "lower-case letters, digits and dashes");

/**
 * A scheduled job: on each cron slot it creates one task (once per slot, however often it is checked),
 * never while its previous task is still live. See `planJobs` for the exact rules.
 */
export const Job = z
  .object({
    name: name.describe("The job's name; a file jobs/<name>.yml must carry the same name"),
    description: z.string().min(1).optional(),
    schedule: z
      .string()
      .describe("Cron, 5 fields, read in `timezone` (UTC when absent); day-of-month and day-of-week match with OR, as in POSIX cron"),
    timezone: z
      .string()
      .optional()
      .describe("IANA time zone the schedule is read in, e.g. Europe/Berlin; UTC when absent. On a daylight-saving night, times in the skipped hour move forward by the jump (02:30 runs at 03:30) and times in the repeated hour run once"),
    enabled: z.boolean().default(false).describe("Built-in jobs are examples and start disabled"),
    task: z
      .object({
        title: z.string().trim().min(1),
        body: z.string().default(""),
        labels: z.array(z.string().min(1)).default([]),
        profile: name.optional().describe("Route hint: the profile to use"),
        agent: name.optional().describe("Route hint: the agent to use"),
      })
      .strict(),
    issue: z
      .boolean()
      .default(true)
      .describe("Open a GitHub issue for each of the job's tasks (labelled agent-router/job), where its tracking comment and pull request appear; false: no issue, so the task does not show on GitHub"),
    catchUp: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(1)
      .describe("After downtime, how many missed slots before the latest one also get a task (the newest ones); 0: only the latest"),
  })
  .strict()
  // On the object so that the message can name the job; `when` keeps it running even if another
  // field is wrong, so every problem is reported at once.
  .superRefine(
    (job, ctx) => {
      const label = typeof job.name === "string" ? `job "${job.name}"` : "job";
      if (typeof job.schedule === "string") {
        for (const problem of cronProblems(job.schedule)) ctx.addIssue({ code: "custom", path: ["schedule"], message: `${label}: ${problem}` });
      }
      const zone = typeof job.timezone === "string" ? timezoneProblem(job.timezone) : undefined;
      if (zone !== undefined) ctx.addIssue({ code: "custom", path: ["timezone"], message: `${label}: ${zone}` });
    },
    { when: (payload) => typeof payload.value === "object" && payload.value !== null },
  );
export type Job = z.infer<typeof Job>;
