import { describe, expect, it } from "vitest";
import { cronProblems, Job } from "../../../src/core/config/job.ts";

describe("cronProblems", () => {
  it.each([
    "* * * * *",
    "0 6 * * 1",
    "*/15 * * * *",
    "0 0 1,15 * *",
    "30 5 1-7 * MON",
    "0 7 * * FRI",
    "0 0 * JAN,JUL *",
    "0 12 * * 0-7/2",
    "59 23 31 12 7",
  ])("accepts %s", (expr) => {
    expect(cronProblems(expr)).toEqual([]);
  });

  it.each([
    ["* * * *", /5 fields .* got 4/],
    ["* * * * * *", /got 6/],
    ["60 * * * *", /"60" is not a valid minute \(0–59/],
    ["* 24 * * *", /"24" is not a valid hour/],
    ["* * 0 * *", /"0" is not a valid day of month \(1–31/],
    ["* * * 13 *", /"13" is not a valid month \(1–12 or a name/],
    ["* * * * 8", /"8" is not a valid day of week/],
    ["*/0 * * * *", /"\*\/0" is not a valid minute/],
    ["* * * * FUNDAY", /"FUNDAY" is not a valid day of week/],
    ["1-2-3 * * * *", /"1-2-3" is not a valid minute/],
    ["@daily", /5 fields/],
  ])("rejects %s", (expr, message) => {
    const problems = cronProblems(expr);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).toMatch(message);
  });
});

describe("Job schema", () => {
  const job = { name: "nightly", schedule: "0 3 * * *", task: { title: "Do it" } };

  it("fills defaults: disabled, empty body and labels, one catch-up slot", () => {
    expect(Job.parse(job)).toEqual({ ...job, enabled: false, catchUp: 1, task: { title: "Do it", body: "", labels: [] } });
  });

  it("rejects a bad schedule with the cron problem as the message", () => {
    const r = Job.safeParse({ ...job, schedule: "0 25 * * *" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ["schedule"], message: expect.stringMatching(/"25" is not a valid hour/) as unknown });
  });

  it("rejects unknown keys and bad names", () => {
    expect(Job.safeParse({ ...job, cron: "x" }).success).toBe(false);
    expect(Job.safeParse({ ...job, name: "Nightly Job" }).success).toBe(false);
    expect(Job.safeParse({ ...job, task: { title: "x", prompt: "y" } }).success).toBe(false);
  });
});
