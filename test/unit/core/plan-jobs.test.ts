/**
 * Scheduled jobs (DESIGN.md "Task and state machine", reliability targets R15 and the "dual scheduler",
 * "cron DOM/DOW" and "local vs UTC" lessons): a due slot becomes one task, once per `jobId|slot`,
 * never while the job's previous task is live, with bounded catch-up and no back-fill for a new
 * job; slots are checked against an independent cron model, and across daylight-saving nights.
 */
import { CronExpressionParser } from "cron-parser";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { Job } from "../../../src/core/config/job.ts";
import type { TransitionContext } from "../../../src/core/ledger/events.ts";
import type { Ledger } from "../../../src/core/ledger/ledger.ts";
import { emptyLedger, findTask, replaceTask } from "../../../src/core/ledger/ledger.ts";
import { transition } from "../../../src/core/ledger/transition.ts";
import { cronProblems } from "../../../src/core/scheduling/cron-schedule.ts";
import { planJobs } from "../../../src/core/scheduling/plan-jobs.ts";
import type { CronAtom, CronField, CronModel } from "../../support/cron-model.ts";
import { FIELD_RANGES, matcherOf, modelLatestSlot, modelSlotsBetween, renderCron } from "../../support/cron-model.ts";

const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const ctx = (now: string): TransitionContext => ({ now, by: "router", traceId: "00-trace-jobs" });

function job(over: Record<string, unknown> = {}): Job {
  return Job.parse({
    name: "flaky-tests",
    schedule: "30 5 * * *",
    enabled: true,
    task: { title: "Fix the flakiest test", body: "Find it and fix it.", labels: ["tests"], profile: "tests", agent: "codex" },
    catchUp: 1,
    ...over,
  });
}

function plan(ledger: Ledger, jobs: Job[], now: string) {
  return planJobs(ledger, jobs, ctx(now), { maxAttempts: 3 });
}

/** The ledger with task `id` cancelled (terminal), as a finished run would leave it. */
function end(ledger: Ledger, id: number, at: string): Ledger {
  return replaceTask(ledger, transition(findTask(ledger, id)!, { type: "cancel", reason: "finished" }, ctx(at)).task);
}

function withState(state: { lastSlot?: string; activeTaskId?: number }, name = "flaky-tests"): Ledger {
  return { ...emptyLedger(), jobs: { [name]: state } };
}

/** Reconciles at each instant in turn; each created task ends before the next reconcile. Returns every slot that got a task. */
function simulate(start: Ledger, jobs: Job[], instants: readonly number[]): { slots: string[]; ledger: Ledger } {
  let ledger = start;
  const slots: string[] = [];
  for (const t of instants) {
    const p = plan(ledger, jobs, iso(t));
    ledger = p.ledger;
    for (const task of p.created) {
      slots.push(task.source.kind === "job" ? task.source.slot : "?");
      ledger = end(ledger, task.id, iso(t));
    }
  }
  return { slots, ledger };
}

describe("planJobs", () => {
  it("a due slot becomes one task with the job's source, content and route hint, and the job's state records it", () => {
    const p = plan(withState({ lastSlot: "2026-11-30T05:30:00.000Z" }), [job()], "2026-12-01T05:31:10.000Z");
    expect(p.created).toHaveLength(1);
    expect(p.created[0]).toMatchObject({
      id: 1,
      source: { kind: "job", jobId: "flaky-tests", slot: "2026-12-01T05:30:00.000Z" },
      title: "Fix the flakiest test",
      body: "Find it and fix it.",
      labels: ["tests"],
      status: "new",
      maxAttempts: 3,
      hint: { profile: "tests", agent: "codex" },
      history: [{ type: "created", at: "2026-12-01T05:31:10.000Z", by: "router" }],
    });
    expect(p.ledger.jobs).toEqual({ "flaky-tests": { lastSlot: "2026-12-01T05:30:00.000Z", activeTaskId: 1 } });
    expect(p.ledger.nextId).toBe(2);
    expect(p.lines).toEqual(["job flaky-tests: task 1 for slot 2026-12-01T05:30:00.000Z"]);
  });

  it("a job without profile or agent gives no hint; a disabled job and one with nothing due change nothing", () => {
    const plain = job({ task: { title: "Tidy" } });
    expect(plan(withState({ lastSlot: "2026-11-30T05:30:00.000Z" }), [plain], "2026-12-01T06:00:00.000Z").created[0]!.hint).toBeUndefined();
    const idle = withState({ lastSlot: "2026-12-01T05:30:00.000Z" });
    for (const p of [plan(idle, [job({ enabled: false })], "2026-12-09T00:00:00.000Z"), plan(idle, [job()], "2026-12-02T05:29:59.999Z")]) {
      expect(p.lines).toEqual([]);
      expect(p.ledger).toBe(idle); // the very object: no commit
    }
  });

  it("R15: two runs that see the same slot (the same now, or later in the slot) create one task", () => {
    const start = withState({ lastSlot: "2026-11-30T05:30:00.000Z" });
    const first = plan(start, [job()], "2026-12-01T05:30:00.000Z");
    expect(first.created).toHaveLength(1);
    for (const now of ["2026-12-01T05:30:00.000Z", "2026-12-01T09:00:00.000Z", "2026-12-02T05:29:00.000Z"]) {
      const again = plan(first.ledger, [job()], now);
      expect(again.created).toEqual([]);
      expect(again.ledger).toBe(first.ledger);
    }
  });

  it("R15: a slot that already has a task in the ledger (its state lost) gets no second one, even once that task ended", () => {
    const first = plan(withState({ lastSlot: "2026-11-30T05:30:00.000Z" }), [job()], "2026-12-01T06:00:00.000Z");
    const ended = end(first.ledger, 1, "2026-12-01T07:00:00.000Z");
    const lost = { ...ended, jobs: {} };
    const p = plan(lost, [job()], "2026-12-01T08:00:00.000Z");
    expect(p.created).toEqual([]);
    expect(p.lines).toEqual(["job flaky-tests: slot 2026-12-01T05:30:00.000Z already has task 1"]);
    expect(p.ledger.jobs["flaky-tests"]).toEqual({ lastSlot: "2026-12-01T05:30:00.000Z" });
  });

  it("one at a time: no task while the previous one is live; the slots that pass meanwhile are skipped for good (no pile-up)", () => {
    const hourly = job({ schedule: "0 * * * *", catchUp: 2 });
    const t0 = plan(withState({ lastSlot: "2026-12-01T04:00:00.000Z" }), [hourly], "2026-12-01T05:05:00.000Z");
    expect(t0.created.map((t) => t.id)).toEqual([1]);
    const busy = plan(t0.ledger, [hourly], "2026-12-01T07:10:00.000Z");
    expect(busy.created).toEqual([]);
    expect(busy.lines).toEqual(["job flaky-tests: slot 2026-12-01T07:00:00.000Z and earlier ones skipped: task 1 is still new"]);
    expect(busy.ledger.jobs["flaky-tests"]).toEqual({ lastSlot: "2026-12-01T07:00:00.000Z", activeTaskId: 1 });

    // The task ends: the reconcile that sees it frees the job; the next slot, and only it, gets a task.
    const freed = plan(end(busy.ledger, 1, "2026-12-01T07:20:00.000Z"), [hourly], "2026-12-01T07:30:00.000Z");
    expect(freed.created).toEqual([]);
    expect(freed.lines).toEqual(["job flaky-tests: task 1 ended cancelled"]);
    expect(freed.ledger.jobs["flaky-tests"]).toEqual({ lastSlot: "2026-12-01T07:00:00.000Z" });
    const next = plan(freed.ledger, [hourly], "2026-12-01T08:01:00.000Z");
    expect(next.created.map((t) => (t.source.kind === "job" ? t.source.slot : ""))).toEqual(["2026-12-01T08:00:00.000Z"]);
  });

  it("a live task of the job counts even when activeTaskId does not name it", () => {
    const first = plan(withState({ lastSlot: "2026-11-30T05:30:00.000Z" }), [job()], "2026-12-01T06:00:00.000Z");
    const forgotten = { ...first.ledger, jobs: { "flaky-tests": { lastSlot: "2026-12-01T05:30:00.000Z" } } };
    const p = plan(forgotten, [job()], "2026-12-02T06:00:00.000Z");
    expect(p.created).toEqual([]);
    expect(p.lines).toEqual(["job flaky-tests: slot 2026-12-02T05:30:00.000Z skipped: task 1 is still new"]);
  });

  it("activeTaskId is dropped once its task ended, also for a job no longer enabled", () => {
    const first = plan(withState({ lastSlot: "2026-11-30T05:30:00.000Z" }), [job()], "2026-12-01T06:00:00.000Z");
    const p = plan(end(first.ledger, 1, "2026-12-01T06:30:00.000Z"), [], "2026-12-01T07:00:00.000Z");
    expect(p.ledger.jobs).toEqual({ "flaky-tests": { lastSlot: "2026-12-01T05:30:00.000Z" } });
  });

  it("R15 catch-up is bounded: after 3 days down, an hourly job with catchUp 2 gets the latest slot and the 2 before it, oldest first", () => {
    const hourly = job({ schedule: "0 * * * *", catchUp: 2 });
    const p = plan(withState({ lastSlot: "2026-12-01T05:00:00.000Z" }), [hourly], "2026-12-04T05:20:00.000Z");
    expect(p.created.map((t) => [t.id, t.source.kind === "job" ? t.source.slot : ""])).toEqual([
      [1, "2026-12-04T03:00:00.000Z"],
      [2, "2026-12-04T04:00:00.000Z"],
      [3, "2026-12-04T05:00:00.000Z"],
    ]);
    expect(p.ledger.jobs["flaky-tests"]).toEqual({ lastSlot: "2026-12-04T05:00:00.000Z", activeTaskId: 3 });
    expect(p.lines.at(-1)).toBe("job flaky-tests: missed slots before 2026-12-04T03:00:00.000Z dropped (catchUp 2)");
    // catchUp 0: the latest slot only, however late the run.
    const none = plan(withState({ lastSlot: "2026-12-01T05:00:00.000Z" }), [job({ schedule: "0 * * * *", catchUp: 0 })], "2026-12-04T05:20:00.000Z");
    expect(none.created.map((t) => (t.source.kind === "job" ? t.source.slot : ""))).toEqual(["2026-12-04T05:00:00.000Z"]);
    // Fewer missed slots than catchUp: all of them, nothing dropped.
    const few = plan(withState({ lastSlot: "2026-12-04T03:00:00.000Z" }), [job({ schedule: "0 * * * *", catchUp: 5 })], "2026-12-04T05:20:00.000Z");
    expect(few.created).toHaveLength(2);
    expect(few.lines.some((l) => l.includes("dropped"))).toBe(false);
  });

  it("a new job does not back-fill: it gets the most recent slot at or before now, whatever catchUp says", () => {
    const p = plan(emptyLedger(), [job({ schedule: "0 * * * *", catchUp: 10 })], "2026-12-04T05:20:00.000Z");
    expect(p.created.map((t) => (t.source.kind === "job" ? t.source.slot : ""))).toEqual(["2026-12-04T05:00:00.000Z"]);
    expect(p.lines).toEqual(["job flaky-tests: task 1 for slot 2026-12-04T05:00:00.000Z"]);
    // Weekly on Mondays, first seen on a Wednesday: Monday's slot, once.
    const weekly = plan(emptyLedger(), [job({ schedule: "0 6 * * MON" })], "2026-12-02T12:00:00.000Z");
    expect(weekly.created.map((t) => (t.source.kind === "job" ? t.source.slot : ""))).toEqual(["2026-11-30T06:00:00.000Z"]);
    // Leap day only: found years back.
    const leap = plan(emptyLedger(), [job({ schedule: "0 0 29 2 *" })], "2026-12-02T12:00:00.000Z");
    expect(leap.created.map((t) => (t.source.kind === "job" ? t.source.slot : ""))).toEqual(["2024-02-29T00:00:00.000Z"]);
  });

  it("jobs are planned by name, each once per slot", () => {
    const a = job({ name: "b-job", schedule: "0 * * * *" });
    const b = job({ name: "a-job", schedule: "0 * * * *" });
    const p = plan(emptyLedger(), [a, b], "2026-12-04T05:20:00.000Z");
    expect(p.created.map((t) => [t.id, t.source.kind === "job" ? t.source.jobId : ""])).toEqual([
      [1, "a-job"],
      [2, "b-job"],
    ]);
  });

  it("cron DOM/DOW: `0 9 13 * 5` fires on every Friday AND on every 13th through 2026 (OR), as a plain day loop says", () => {
    const instants = Array.from({ length: 365 }, (_, d) => Date.UTC(2026, 0, 1, 12) + d * 24 * HOUR);
    const { slots } = simulate(withState({ lastSlot: "2025-12-31T12:00:00.000Z" }), [job({ schedule: "0 9 13 * 5", catchUp: 0 })], instants);
    const expected: string[] = [];
    for (let d = new Date(Date.UTC(2026, 0, 1, 9)); d.getUTCFullYear() === 2026; d = new Date(d.getTime() + 24 * HOUR)) {
      if (d.getUTCDate() === 13 || d.getUTCDay() === 5) expected.push(d.toISOString());
    }
    expect(slots).toEqual(expected);
    expect(slots).toHaveLength(61); // 52 Fridays + 12 thirteenths - 3 Friday-the-13ths
    expect(slots).toContain("2026-04-13T09:00:00.000Z"); // a Monday
    expect(slots).toContain("2026-04-17T09:00:00.000Z"); // a Friday
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random expressions from a grammar, random now, random last slot, random catchUp.

const ZONES = [
  { name: undefined, offset: 0 },
  { name: "UTC", offset: 0 },
  { name: "Asia/Kolkata", offset: 330 }, // no daylight saving since 1945
  { name: "Asia/Tokyo", offset: 540 },
  { name: "Etc/GMT+5", offset: -300 }, // POSIX sign: five hours behind UTC
] as const;

function fieldArb(field: keyof CronModel): fc.Arbitrary<CronField> {
  const [min, max] = FIELD_RANGES[field];
  const n = fc.integer({ min, max });
  const step = fc.integer({ min: 1, max: max - min });
  const atom: fc.Arbitrary<CronAtom> = fc.oneof(
    { weight: 4, arbitrary: n.map((v) => ({ kind: "value" as const, n: v })) },
    { weight: 3, arbitrary: fc.tuple(n, n, fc.option(step, { nil: undefined })).map(([a, b, s]) => ({ kind: "range" as const, from: Math.min(a, b), to: Math.max(a, b), ...(s !== undefined ? { step: s } : {}) })) },
    { weight: 2, arbitrary: step.map((s) => ({ kind: "every" as const, step: s })) },
    { weight: 1, arbitrary: fc.tuple(n, step).map(([a, s]) => ({ kind: "from" as const, from: a, step: s })) },
  );
  // Names (JAN, MON) for values and range ends; day 7 has none (SUN is 0).
  const nameable = (a: CronAtom): boolean => (a.kind === "value" ? a.n <= 6 || field === "month" : a.kind === "range" ? a.to <= 6 || field === "month" : false);
  const named = field === "month" || field === "dayOfWeek";
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant({ star: true as const }) },
    {
      weight: 3,
      arbitrary: fc
        .record({ atoms: fc.array(atom, { minLength: 1, maxLength: 3 }), names: fc.boolean() })
        .map(({ atoms, names }) => ({ star: false as const, atoms, names: named && names && atoms.every(nameable) })),
    },
  );
}

const cronArb: fc.Arbitrary<CronModel> = fc.record({
  minute: fieldArb("minute"),
  hour: fieldArb("hour"),
  dayOfMonth: fieldArb("dayOfMonth"),
  month: fieldArb("month"),
  dayOfWeek: fieldArb("dayOfWeek"),
});

describe("due slots against an independent cron model", () => {
  it("for random expressions the Job schema accepts, zones with a fixed offset, nows, last slots and catchUps, the created slots are the model's newest due minutes", () => {
    fc.assert(
      fc.property(
        cronArb.map((m) => ({ m, text: renderCron(m) })).filter(({ text }) => cronProblems(text).length === 0),
        fc.constantFrom(...ZONES),
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 11, 31) }),
        fc.option(fc.integer({ min: 0, max: 72 * 60 * 60 }), { nil: undefined }),
        fc.integer({ min: 0, max: 10 }),
        ({ m, text }, zone, nowMs, gapSeconds, catchUp) => {
          const j = job({ schedule: text, catchUp, ...(zone.name ? { timezone: zone.name } : {}) });
          const match = matcherOf(m, zone.offset);
          const after = gapSeconds === undefined ? undefined : nowMs - gapSeconds * 1000;
          const p = plan(after === undefined ? emptyLedger() : withState({ lastSlot: iso(after) }), [j], iso(nowMs));
          const got = p.created.map((t) => (t.source.kind === "job" ? t.source.slot : ""));
          if (after === undefined) {
            const latest = modelLatestSlot(match, nowMs, zone.offset);
            expect(got, text).toEqual(latest === undefined ? [] : [iso(latest)]);
          } else {
            const due = modelSlotsBetween(match, after, nowMs);
            expect(got, text).toEqual(due.slice(-(1 + catchUp)).map(iso));
            expect(p.lines.some((l) => l.includes("dropped")), text).toBe(due.length > 1 + catchUp);
            expect(p.ledger.jobs["flaky-tests"]?.lastSlot, text).toBe(due.length === 0 ? iso(after) : iso(due.at(-1)!));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Time zones and daylight saving, and independence from the host's TZ.

const local = (slot: string, zone: string): string =>
  new Intl.DateTimeFormat("sv-SE", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).format(new Date(slot));

function every(fromIso: string, toIso: string, minutes: number): number[] {
  const out: number[] = [];
  for (let t = Date.parse(fromIso); t <= Date.parse(toIso); t += minutes * 60_000) out.push(t);
  return out;
}

describe("time zones", () => {
  const berlin = job({ schedule: "30 2 * * *", timezone: "Europe/Berlin", catchUp: 0 });
  const newYork = job({ schedule: "30 1 * * *", timezone: "America/New_York", catchUp: 0 });

  it("Europe/Berlin, spring forward (29 March 2026, 02:00 → 03:00): the 02:30 slot that night is shifted to 03:30, not skipped, and runs once", () => {
    const { slots } = simulate(withState({ lastSlot: "2026-03-26T12:00:00.000Z" }), [berlin], every("2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z", 10));
    expect(slots).toEqual(["2026-03-27T01:30:00.000Z", "2026-03-28T01:30:00.000Z", "2026-03-29T01:30:00.000Z", "2026-03-30T00:30:00.000Z"]);
    expect(slots.map((s) => local(s, "Europe/Berlin"))).toEqual(["2026-03-27 02:30", "2026-03-28 02:30", "2026-03-29 03:30", "2026-03-30 02:30"]);
  });

  it("America/New_York, fall back (1 November 2026, 02:00 EDT → 01:00 EST): 01:30 happens twice on the clock and gets one task", () => {
    const { slots } = simulate(withState({ lastSlot: "2026-10-30T12:00:00.000Z" }), [newYork], every("2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z", 5));
    expect(slots).toEqual(["2026-10-31T05:30:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"]);
    const dense = job({ schedule: "*/20 1 * * *", timezone: "America/New_York", catchUp: 0 });
    const night = simulate(withState({ lastSlot: "2026-11-01T00:00:00.000Z" }), [dense], every("2026-11-01T04:00:00Z", "2026-11-01T09:00:00Z", 5)).slots;
    expect(night.map((s) => local(s, "America/New_York"))).toEqual(["2026-11-01 01:00", "2026-11-01 01:20", "2026-11-01 01:40"]);
    // An hour field that matches every hour fires in both 01:00 hours: they are different hours.
    const hourly = job({ schedule: "0 * * * *", timezone: "America/New_York", catchUp: 0 });
    const hours = simulate(withState({ lastSlot: "2026-11-01T03:00:00.000Z" }), [hourly], every("2026-11-01T03:30:00Z", "2026-11-01T08:30:00Z", 5)).slots;
    expect(hours).toEqual(["2026-11-01T04:00:00.000Z", "2026-11-01T05:00:00.000Z", "2026-11-01T06:00:00.000Z", "2026-11-01T07:00:00.000Z", "2026-11-01T08:00:00.000Z"]);
  });

  it("runs at any time of the repeated hour agree: a run that starts looking inside it finds no second 01:40", () => {
    const dense = job({ schedule: "*/20 1 * * *", timezone: "America/New_York", catchUp: 10 });
    // The first 01:40 (EDT) had its task; this run comes at 02:05 EST, with the 01:xx EST hour behind it.
    const p = plan(withState({ lastSlot: "2026-11-01T05:40:00.000Z" }), [dense], "2026-11-01T07:05:00.000Z");
    expect(p.created).toEqual([]);
    // Catching up across the night from before it: the same three slots, whatever the run's time.
    for (const now of ["2026-11-01T09:00:00.000Z", "2026-11-01T06:45:00.000Z"]) {
      const q = plan(withState({ lastSlot: "2026-10-31T12:00:00.000Z" }), [dense], now);
      expect(q.created.map((t) => (t.source.kind === "job" ? local(t.source.slot, "America/New_York") : ""))).toEqual(["2026-11-01 01:00", "2026-11-01 01:20", "2026-11-01 01:40"]);
    }
  });

  it("a new job in a zone gets its most recent local slot", () => {
    const p = plan(emptyLedger(), [job({ schedule: "0 9 * * *", timezone: "Asia/Kolkata" })], "2026-12-01T03:00:00.000Z");
    expect(p.created.map((t) => (t.source.kind === "job" ? t.source.slot : ""))).toEqual(["2026-11-30T03:30:00.000Z"]);
  });
});

describe("daylight-saving nights, whatever the run's timing", () => {
  const TRANSITIONS = [
    { zone: "Europe/Berlin", at: Date.parse("2026-03-29T01:00:00Z") }, // 02:00 → 03:00
    { zone: "Europe/Berlin", at: Date.parse("2026-10-25T01:00:00Z") }, // 03:00 → 02:00
    { zone: "America/New_York", at: Date.parse("2026-03-08T07:00:00Z") }, // 02:00 → 03:00
    { zone: "America/New_York", at: Date.parse("2026-11-01T06:00:00Z") }, // 02:00 → 01:00
  ];
  // Hours around the change, so that most expressions have slots in the night.
  const nightHours: fc.Arbitrary<CronField> = fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
    .map(([a, b]) => ({ star: false as const, atoms: [{ kind: "range" as const, from: Math.min(a, b), to: Math.max(a, b) }], names: false }));
  const nightCron = fc.record({ minute: fieldArb("minute"), hour: fc.oneof(fieldArb("hour"), nightHours), dayOfMonth: fc.constant({ star: true as const }), month: fc.constant({ star: true as const }), dayOfWeek: fc.constant({ star: true as const }) });

  it("the slots are those of one forward sequence started well before the night: a run at any time, after any earlier slot, with any catchUp, agrees", () => {
    fc.assert(
      fc.property(nightCron.map(renderCron).filter((text) => cronProblems(text).length === 0), fc.constantFrom(...TRANSITIONS), fc.integer({ min: -HOUR, max: 5 * HOUR }), fc.option(fc.nat(), { nil: undefined }), fc.integer({ min: 0, max: 10 }), (text, { zone, at }, offset, pick, catchUp) => {
        const now = at + offset;
        const from = at - 5 * HOUR; // no clock change within hours of it
        const sequence = CronExpressionParser.parse(text, { tz: zone, currentDate: iso(from), endDate: iso(now) });
        const reference: number[] = [];
        while (sequence.hasNext()) reference.push(sequence.next().getTime());
        const j = job({ schedule: text, timezone: zone, catchUp });
        if (pick === undefined) {
          const got = plan(emptyLedger(), [j], iso(now)).created.map((t) => (t.source.kind === "job" ? Date.parse(t.source.slot) : 0));
          if (reference.length > 0) expect(got, text).toEqual([reference.at(-1)]);
          else expect(got.every((t) => t <= from), text).toBe(true);
        } else {
          // After a slot of the sequence (as an earlier run leaves it), or after its start.
          const after = reference.length === 0 ? from : reference[pick % reference.length]!;
          const got = plan(withState({ lastSlot: iso(after) }), [j], iso(now)).created.map((t) => (t.source.kind === "job" ? Date.parse(t.source.slot) : 0));
          expect(got, text).toEqual(reference.filter((t) => t > after).slice(-(1 + catchUp)));
        }
      }),
      { numRuns: 60 },
    );
  });

  it("a long-off job on a dense schedule finds its newest slots backwards and still counts the repeated hour once", () => {
    const everyMinute = job({ schedule: "* 1 * * *", timezone: "America/New_York", catchUp: 10 });
    // Off for a week (more than 256 due slots), back at 02:05 EST on the fall-back night.
    const p = plan(withState({ lastSlot: "2026-10-25T05:59:00.000Z" }), [everyMinute], "2026-11-01T07:05:00.000Z");
    expect(p.created.map((t) => (t.source.kind === "job" ? t.source.slot : ""))).toEqual(Array.from({ length: 11 }, (_, i) => iso(Date.parse("2026-11-01T05:49:00Z") + i * 60_000)));
    // New at 01:30 EST (the repeated hour): the newest slot is 01:59 EDT, before the clocks went back.
    const fresh = plan(emptyLedger(), [everyMinute], "2026-11-01T06:30:00.000Z");
    expect(fresh.created.map((t) => (t.source.kind === "job" ? t.source.slot : ""))).toEqual(["2026-11-01T05:59:00.000Z"]);
  });
});

describe("the host's TZ", () => {
  const saved = process.env["TZ"];
  afterEach(() => {
    if (saved === undefined) delete process.env["TZ"];
    else process.env["TZ"] = saved;
  });

  it("changes nothing: the same plans under UTC, Pacific/Chatham (+13:45) and America/St_Johns (-02:30)", () => {
    const scenario = (): unknown => {
      const utc = plan(withState({ lastSlot: "2026-12-01T05:00:00.000Z" }), [job({ schedule: "0 * * * *", catchUp: 2 })], "2026-12-04T05:20:00.000Z");
      const fresh = plan(emptyLedger(), [job({ schedule: "0 9 13 * 5" })], "2026-11-14T00:00:00.000Z");
      const dst = simulate(withState({ lastSlot: "2026-03-26T12:00:00.000Z" }), [job({ schedule: "30 2 * * *", timezone: "Europe/Berlin", catchUp: 0 })], every("2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z", 60));
      return { utc: utc.ledger, fresh: fresh.ledger, dst: dst.slots };
    };
    const offsets: number[] = [];
    const results: unknown[] = [];
    for (const tz of ["UTC", "Pacific/Chatham", "America/St_Johns"]) {
      process.env["TZ"] = tz; // Node applies a new TZ at once
      offsets.push(new Date(Date.UTC(2026, 11, 4)).getTimezoneOffset());
      results.push(scenario());
    }
    expect(offsets).toEqual([0, -825, 210]); // the host's zone really changed
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });
});
