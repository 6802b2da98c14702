import { describe, expect, it } from "vitest";
import { Job } from "../../../src/core/config/job.ts";
import { cronProblems, parseSchedule } from "../../../src/core/scheduling/cron-schedule.ts";

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
    ["", /5 fields/],
    ["60 * * * *", /minute field "60" is not valid: .*expected range 0-59/],
    ["* 24 * * *", /hour field "24" is not valid/],
    ["* * 0 * *", /day-of-month field "0" is not valid: .*1-31/],
    ["* * * 13 *", /month field "13" is not valid: .*1-12/],
    ["* * * * 8", /day-of-week field "8" is not valid/],
    ["*/0 * * * *", /minute field "\*\/0" is not valid/],
    ["* * * * FUNDAY", /day-of-week field "FUNDAY" contains "FUNDAY"; use numbers \(0-7\) or names \(SUN-SAT\)/],
    ["1-2-3 * * * *", /minute field "1-2-3" is not valid/],
    ["1,,2 * * * *", /minute field "1,,2" contains ""/],
    ["@daily", /5 fields/],
    // cron-parser extensions that GitHub's cron does not have (H is random unless seeded)
    ["H * * * *", /minute field "H" contains "H"/],
    ["* * L * *", /day-of-month field "L" contains "L"/],
    ["* * * * 1#2", /day-of-week field "1#2" contains "1#2"/],
    ["* * * * ?", /day-of-week field "\?" contains "\?"/],
    ["0 0 31 2 *", /"0 0 31 2 \*" never matches/],
  ])("rejects %s", (expr, message) => {
    const problems = cronProblems(expr);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).toMatch(message);
  });

  it.each([
    ["5-1 * * * *", 'the minute field "5-1" has the reversed range 5-1; ranges do not wrap around, write 1-5 or 5-59,0-1'],
    ["0 22-2 * * *", 'the hour field "22-2" has the reversed range 22-2; ranges do not wrap around, write 2-22 or 22-23,0-2'],
    ["0 0 * * FRI-MON", 'the day-of-week field "FRI-MON" has the reversed range 5-1; ranges do not wrap around, write 1-5 or 5-7,0-1'],
    ["0 0 1,20-10 * *", 'the day-of-month field "1,20-10" has the reversed range 20-10; ranges do not wrap around, write 10-20 or 20-31,1-10'],
  ])("rejects the reversed range in %s, naming the field", (expr, message) => {
    expect(cronProblems(expr)).toEqual([message]);
  });
});

describe("parseSchedule", () => {
  it("gives the slots in UTC, with day-of-month OR day-of-week as in POSIX cron", () => {
    const slots = parseSchedule("0 9 13 * 5", "2026-04-01T00:00:00.000Z");
    const next = Array.from({ length: 4 }, () => slots.next().toISOString());
    // Fridays in April 2026 (3rd, 10th, 17th) and the 13th, a Monday
    expect(next).toEqual(["2026-04-03T09:00:00.000Z", "2026-04-10T09:00:00.000Z", "2026-04-13T09:00:00.000Z", "2026-04-17T09:00:00.000Z"]);
  });

  it("refuses what validation refuses", () => {
    expect(() => parseSchedule("5-1 * * * *", "2026-03-01T00:00:00.000Z")).toThrow(/reversed range 5-1/);
    expect(() => parseSchedule("0 0 * * * *", "2026-03-01T00:00:00.000Z")).toThrow(/5 fields/);
  });
});

describe("Job schema", () => {
  const job = { name: "nightly", schedule: "0 3 * * *", task: { title: "Do it" } };

  it("fills defaults: disabled, empty body and labels, one catch-up slot, an issue per task", () => {
    expect(Job.parse(job)).toEqual({ ...job, enabled: false, catchUp: 1, issue: true, task: { title: "Do it", body: "", labels: [] } });
    expect(Job.parse({ ...job, issue: false }).issue).toBe(false);
    expect(Job.safeParse({ ...job, issue: "no" }).success).toBe(false);
  });

  it("rejects a bad schedule with the cron problem as the message, naming the job", () => {
    const r = Job.safeParse({ ...job, schedule: "0 25 * * *" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ["schedule"], message: expect.stringMatching(/^job "nightly": the hour field "25" is not valid/) as unknown });
  });

  it("rejects a reversed range naming the job and the field, even when another field is wrong too", () => {
    const r = Job.safeParse({ ...job, schedule: "5-1 * * * *", task: {} });
    expect(r.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["task.title", expect.any(String)],
      ["schedule", 'job "nightly": the minute field "5-1" has the reversed range 5-1; ranges do not wrap around, write 1-5 or 5-59,0-1'],
    ]);
  });

  it("takes an IANA time zone, and rejects anything else naming the job and the zone (the host's \"local\" zone and fixed offsets too)", () => {
    expect(Job.parse({ ...job, timezone: "Europe/Berlin" }).timezone).toBe("Europe/Berlin");
    expect(Job.parse(job).timezone).toBeUndefined();
    for (const zone of ["Mars/Olympus", "local", "system", "UTC+3", "+02:00", "", "Europe/Berlin "]) {
      const r = Job.safeParse({ ...job, timezone: zone });
      expect(r.error?.issues.map((i) => [i.path.join("."), i.message]), zone).toEqual([
        ["timezone", `job "nightly": timezone "${zone}" is not an IANA time zone name; use one such as UTC, Europe/Berlin or America/New_York`],
      ]);
    }
    // Reported together with the schedule's problem.
    expect(Job.safeParse({ ...job, schedule: "0 25 * * *", timezone: "Nowhere" }).error?.issues.map((i) => i.path.join("."))).toEqual(["schedule", "timezone"]);
  });

  it("rejects a title of blanks (a task needs a title)", () => {
    expect(Job.safeParse({ ...job, task: { title: "   " } }).success).toBe(false);
  });

  it("rejects unknown keys and bad names", () => {
    expect(Job.safeParse({ ...job, cron: "x" }).success).toBe(false);
    expect(Job.safeParse({ ...job, name: "Nightly Job" }).success).toBe(false);
    expect(Job.safeParse({ ...job, task: { title: "x", prompt: "y" } }).success).toBe(false);
  });
});
