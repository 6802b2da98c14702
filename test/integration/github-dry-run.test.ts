// R18: a dry run sends no mutating request (REST POST/PATCH/PUT/DELETE, GraphQL mutations: so no
// ledger commit either), pushes nothing, runs and dispatches nothing, and its printed plan lists
// every intent a real run performs. Each scenario is run on two fakes set up the same way: the
// steps before the last for real on both, then the last step as a dry run on A and for real on B.
// Every mutating request, executor call and agent run of B must be announced by a line of A's plan
// (see requestIntents / planIntents in test/support/github-scenarios.ts).
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReconcileResult } from "../../src/app/reconcile.ts";
import { reconcile } from "../../src/app/reconcile.ts";
import type { FakeGitHub } from "../fakes/fake-github/index.ts";
import { startFakeGitHub } from "../fakes/fake-github/index.ts";
import type { StepFn, World } from "../support/github-scenarios.ts";
import { after, claim, fakeSnapshot, labelled, LEDGER_REF, planIntents, requestIntents, result, say, tick, unannounced, withJob, work, worldFor } from "../support/github-scenarios.ts";

interface Scenario {
  name: string;
  config?: Record<string, unknown>;
  steps: StepFn[];
  /** Intents the real run must include (the scenario reaches what it is about). */
  shows?: (string | RegExp)[];
}

const closing = { github: { closeOnDone: true } };
const project = { github: { project: { owner: "acme", number: 3 } } };
const withProject = (w: World): void => void w.fake.state.addProject({ owner: "acme", number: 3, statuses: ["Todo", "In Progress", "Done"] });
const routedTo = (profile: string): StepFn[] => [labelled("d-1"), say(`/agent route claude ${profile}`)];
const done = { status: "done", summary: "Fixed." };
const helpAsked: StepFn[] = [labelled("d-1"), claim(), result(1, { status: "needs_help", summary: "Stuck.", question: "Which parser?" })];
const delegated: StepFn[] = [
  ...routedTo("planner"),
  claim(),
  result(1, { status: "delegate", summary: "Two parts.", delegations: [{ key: "parse", title: "Parse rows in chunks", profile: "feature" }, { key: "test", title: "Test 5000 rows", profile: "tests", after: ["parse"] }] }),
];

// `shows`: intents the real run must perform, so that each scenario is known to reach what it is about.
const added = (status: string, issue = 1): string => `label agent-router/${status} added to #${issue}`;
const PR = "pull request opened from agent-router/task-1 to main";
const THUMBS_UP = /^reaction \+1 on comment \d+$/;
const THUMBS_DOWN = /^reaction -1 on comment \d+$/;
const REPLY = /^reply to comment \d+ on #\d+$/;
/** A step of a world whose reconciles know a job due every minute (its first reconcile makes the job's task 1). */
const scheduled = (step: StepFn): StepFn => after(withJob, step);
const JOB_ISSUE = "issue of task 1 created, labelled agent-router/job";

const SCENARIOS: Scenario[] = [
  { name: "a labelled issue becomes a task (the first write creates the ledger branch)", steps: [labelled("d-1")], shows: ["branch refs/heads/agent-router/ledger created", "tracking comment of task 1 created on #1", added("routed")] },
  { name: "an issue labelled by someone without write access makes no task", steps: [labelled("d-1", "labeled", { login: "mallory", permission: "read" })] },
  { name: "the same delivery again", steps: [labelled("d-1"), labelled("d-1")] },
  { name: "another delivery for an issue that has a task", steps: [labelled("d-1"), labelled("d-2", "opened")] },
  { name: "the labelled issue is closed: its task is cancelled", steps: [labelled("d-1"), labelled("d-2", "closed")], shows: [added("cancelled"), "label agent-router/routed removed from #1"] },
  { name: "a tick with nothing to do", steps: [labelled("d-1"), tick()] },
  { name: "/agent cancel from a writer", steps: [labelled("d-1"), say("/agent cancel")], shows: [added("cancelled"), THUMBS_UP] },
  { name: "/agent cancel with closeOnDone closes the issue", config: closing, steps: [labelled("d-1"), say("/agent cancel")], shows: ["issue #1 state set"] },
  { name: "/agent retry of a cancelled task reopens its closed issue", config: closing, steps: [labelled("d-1"), say("/agent cancel"), say("/agent retry codex")], shows: ["issue #1 state set", added("routed")] },
  { name: "/agent route <agent>", steps: [labelled("d-1"), say("/agent route codex")], shows: [/^comment \d+ updated$/, THUMBS_UP] },
  { name: "/agent route to a profile that does not exist", steps: [labelled("d-1"), say("/agent route claude nosuch")], shows: [REPLY] },
  { name: "/agent route to an agent that is not enabled", config: { agents: { codex: { enabled: false } } }, steps: [labelled("d-1"), say("/agent route codex")], shows: [REPLY] },
  { name: "a gated task waits for approval when claimed", steps: [...routedTo("gated"), claim()], shows: [added("awaiting_approval")] },
  { name: "/agent approve of a gated task", steps: [...routedTo("gated"), claim(), say("/agent approve")], shows: [added("routed"), THUMBS_UP] },
  { name: "/agent approve by the requester (allowSelf false) is refused", steps: [...routedTo("gated"), claim(), say("/agent approve", "octocat", "write")], shows: [REPLY] },
  { name: "/agent reject of a gated task", steps: [...routedTo("gated"), claim(), say("/agent reject not now")], shows: [added("cancelled"), THUMBS_UP] },
  { name: "/agent approve that does not apply (a routed task)", steps: [labelled("d-1"), say("/agent approve")], shows: [REPLY] },
  { name: "/agent status", steps: [labelled("d-1"), say("/agent status")], shows: [REPLY] },
  { name: "/agent help", steps: [labelled("d-1"), say("/agent help")], shows: [REPLY] },
  { name: "a malformed command", steps: [labelled("d-1"), say("/agent frobnicate")], shows: [REPLY] },
  { name: "a command from a reader is refused with a reaction", steps: [labelled("d-1"), say("/agent cancel", "mallory", "read")], shows: [THUMBS_DOWN] },
  { name: "a command from a non-collaborator is refused with a reaction", steps: [labelled("d-1"), say("/agent retry", "stranger", "none")], shows: [THUMBS_DOWN] },
  { name: "a command on an issue without a task", steps: [labelled("d-1"), after((w) => void w.fake.state.addIssue("acme/widgets", { title: "Other" }), say("/agent status", "maintainer", "write", 2))], shows: [/^reply to comment \d+ on #2$/] },
  { name: "a plain comment is ignored", steps: [labelled("d-1"), say("Thanks, looks good.")] },
  { name: "an attempt is claimed: labels switch, eyes, the run is handed to the executor", steps: [labelled("d-1"), claim()], shows: [added("running"), "reaction eyes on #1", "attempt 1 of task 1 handed to the executor"] },
  { name: "/agent cancel of a running task stops its attempt", steps: [labelled("d-1"), claim(), say("/agent cancel")], shows: [added("cancelled"), "attempt key-1-1 of task 1 stopped"] },
  { name: "a lease runs out", steps: [labelled("d-1"), claim(), after((w) => w.clock.advance(10 * 60_000), tick())], shows: [added("retrying")] },
  { name: "the worker died (orphan)", steps: [labelled("d-1"), claim(), tick({ orphans: [{ taskId: 1, key: "key-1-1" }] })], shows: [added("retrying")] },
  { name: "a result: done, with work pushed, opens a pull request", steps: [labelled("d-1"), claim(), result(1, done, { push: true })], shows: [added("done"), PR] },
  { name: "a result: done with closeOnDone closes the issue", config: closing, steps: [labelled("d-1"), claim(), result(1, done, { push: true })], shows: ["issue #1 state set", PR] },
  { name: "a result: failed", steps: [labelled("d-1"), claim(), result(1, { status: "failed", summary: "Cannot reproduce." })], shows: [added("failed")] },
  { name: "/agent retry of a failed task", steps: [labelled("d-1"), claim(), result(1, { status: "failed", summary: "Cannot reproduce." }), say("/agent retry")], shows: [added("routed"), THUMBS_UP] },
  { name: "a done task's pull request is updated when its summary changes", steps: [labelled("d-1"), claim(), result(1, done, { push: true }), say("/agent retry"), claim(), result(1, { status: "done", summary: "Fixed better." }, { push: true })], shows: ["pull request #2 updated"] },
  { name: "a result: needs help, with a question", steps: [...helpAsked], shows: [added("needs_help")] },
  { name: "an answer to a needs_help task", steps: [...helpAsked, say("Use the streaming one.")], shows: [added("routed"), THUMBS_UP] },
  { name: "an answer from a reader is refused", steps: [...helpAsked, say("Use the streaming one.", "mallory", "read")], shows: [THUMBS_DOWN] },
  {
    name: "a stale result (the task was cancelled meanwhile)",
    steps: [labelled("d-1"), claim(), say("/agent cancel"), result(1, { status: "done", summary: "Late." })],
  },
  { name: "approval before the pull request holds it", steps: [...routedTo("maintenance"), claim(), result(1, done, { push: true })], shows: [added("done")] },
  { name: "/agent approve opens a held pull request", steps: [...routedTo("maintenance"), claim(), result(1, done, { push: true }), say("/agent approve")], shows: [PR, THUMBS_UP] },
  { name: "a task in review: its review is claimed and handed to the executor", steps: [...routedTo("reviewed"), claim(), result(1, done, { push: true }), tick({ reviews: { limit: 1 } })], shows: ["review of task 1 handed to the executor"] },
  { name: "/agent reject of a task in review", steps: [...routedTo("reviewed"), claim(), result(1, done, { push: true }), say("/agent reject wrong approach")], shows: ["label agent-router/in_review removed from #1", THUMBS_UP] },
  { name: "a delegation creates child issues (sub-issues of the parent's)", steps: delegated, shows: [added("waiting"), "child issue created", "sub-issue linked to #1"] },
  { name: "the children are routed: their issues get tracking comments and labels", steps: [...delegated, tick()], shows: ["tracking comment of task 2 created on #2", added("routed", 3)] },
  { name: "the children settle (one cancelled, so its dependant too) and the parent resumes", steps: [...delegated, tick(), say("/agent cancel", "maintainer", "write", 2)], shows: [added("cancelled", 2), added("cancelled", 3), added("routed")] },
  { name: "a sync that failed is repaired by the next tick", steps: [after((w) => w.fake.faults.failNext({ method: "POST", path: /\/labels$/, status: 500, times: 20 }), labelled("d-1")), after((w) => w.fake.faults.clear(), tick())], shows: [added("routed")] },
  { name: "Projects v2: a new task gets its project status", config: project, steps: [after(withProject, labelled("d-1"))], shows: ["project item added", "project status set"] },
  { name: "Projects v2: the status follows the task", config: project, steps: [after(withProject, labelled("d-1")), say("/agent cancel")], shows: ["project status set"] },
  { name: "Projects v2 the token cannot reach: a warning in the tracking comment", config: project, steps: [after(withProject, labelled("d-1")), after((w) => (w.fake.state.projectsForbidden = true), say("/agent cancel"))], shows: [/^comment \d+ updated$/] },
  {
    name: "a due job slot makes a task, which gets its own issue (claimed, labelled agent-router/job) with its tracking comment and status label",
    steps: [scheduled(claim())],
    shows: [JOB_ISSUE, "ledger commit: issue claim", "tracking comment of task 1 created on #1", added("running"), "reaction eyes on #1", "attempt 1 of task 1 handed to the executor"],
  },
  { name: "a job's task done with work pushed: a pull request, and closeOnDone closes the job's issue", config: closing, steps: [scheduled(claim()), result(1, done, { push: true })], shows: [added("done"), PR, "issue #1 state set"] },
  { name: "a CLI verb on an issue's task (cancel)", steps: [labelled("d-1"), tick(), () => ({ trigger: { kind: "cli", command: { verb: "cancel", taskId: 1, reason: "not needed" } } })], shows: [added("cancelled")] },
];

/**
 * A Work trigger performs an attempt. What recording its result does (the ledger commit, the label
 * switch, the tracking comment, a pull request) follows from a result a dry run does not have: its
 * plan says it would perform the attempt, and the test checks it performs nothing.
 */
const WORK: Scenario = { name: "a Work trigger", steps: [labelled("d-1"), claim(), work(1)] };

interface Run {
  fake: FakeGitHub;
  world: World;
  r: ReconcileResult;
  /** The requests of the last step only. */
  requests: FakeGitHub["requests"];
  ledgerHeadBefore: string | undefined;
  snapshotBefore: unknown;
}

/** A fresh fake and world; the steps before the last for real, then the last one (a dry run or not). */
async function run(s: Scenario, dryRun: boolean): Promise<Run> {
  const fake = await startFakeGitHub();
  try {
    const world = await worldFor(fake, s.config);
    for (const step of s.steps.slice(0, -1)) {
      const { trigger, opts } = await step(world);
      await reconcile(trigger, world.deps, { ...opts, executor: world.executor });
    }
    const { trigger, opts } = await s.steps.at(-1)!(world);
    const ledgerHeadBefore = world.repo.refs.get(LEDGER_REF);
    const snapshotBefore = fakeSnapshot(fake);
    // Only what the last step hands over counts.
    world.executor.attempts.length = 0;
    world.executor.reviews.length = 0;
    world.executor.cancels.length = 0;
    world.runner.requests.length = 0;
    const from = fake.requests.length;
    const r = await reconcile(trigger, world.deps, { ...opts, executor: world.executor, dryRun });
    return { fake, world, r, requests: fake.requests.slice(from), ledgerHeadBefore, snapshotBefore };
  } finally {
    await fake.close();
  }
}

/** A: the last step as a dry run; B: the same world, the last step for real. */
async function both(s: Scenario): Promise<{ a: Run; b: Run }> {
  const [a, b] = await Promise.all([run(s, true), run(s, false)]);
  return { a, b };
}

/** What the real run did in its last step, as intent keys (requests GitHub failed with a 5xx were not done). */
function realIntents(b: Run): string[] {
  const keys = b.requests.filter((q) => q.mutating && q.fault === undefined && q.status < 500).flatMap(requestIntents);
  keys.push(...b.world.executor.attempts.map((c) => `attempt ${c.attempt} of task ${c.taskId} handed to the executor`));
  keys.push(...b.world.executor.reviews.map((v) => `review of task ${v.taskId} handed to the executor`));
  keys.push(...b.world.executor.cancels.map((c) => `attempt ${c.key} of task ${c.taskId} stopped`));
  const runs = b.world.runner.requests.filter((q) => q.repair === undefined);
  keys.push(...runs.map((q) => `attempt ${q.key.split("-").at(-1)} of task ${q.taskId} performed`));
  return keys;
}

/** The dry run on A: no mutating request, no ledger commit, nothing changed on the fake, nothing run, dispatched or pushed. */
function expectNothingDone(a: Run): void {
  expect(a.requests.filter((q) => q.mutating).map((q) => `${q.method} ${q.path} ${q.graphqlFields?.join(",") ?? ""}`)).toEqual([]);
  expect(a.r.written).toBe(false);
  expect(a.world.repo.refs.get(LEDGER_REF)).toBe(a.ledgerHeadBefore);
  expect(fakeSnapshot(a.fake)).toEqual(a.snapshotBefore);
  expect(a.world.executor.idle).toBe(true);
  expect(a.world.runner.requests).toEqual([]);
  expect(a.world.workspaces.prepared).toEqual([]);
  expect(a.world.workspaces.commits).toEqual([]);
  expect(a.world.workspaces.pushes).toEqual([]);
  expect(a.world.repo.dispatches).toEqual([]);
}

/** Every check but the last; returns the real run's intents that A's plan does not announce. */
async function unannouncedIntents(s: Scenario): Promise<{ missing: string[]; plan: string[]; real: string[] }> {
  const { a, b } = await both(s);
  expect(a.fake.state.schemaProblems).toEqual([]);
  expect(b.fake.state.schemaProblems).toEqual([]);
  // Both worlds were at the same state before the last step.
  expect(a.snapshotBefore).toEqual(b.snapshotBefore);
  expectNothingDone(a);
  const planned = planIntents(a.r.plan, a.r.ledger, a.ledgerHeadBefore !== undefined, a.world.repo.nextNumber);
  expect(planned.filter((k) => k.startsWith("unparsed"))).toEqual([]);
  const real = realIntents(b);
  expect(real.filter((k) => /^(unmapped|unmarked|GraphQL)/.test(k))).toEqual([]);
  for (const want of s.shows ?? []) expect(real, `the real run should show ${String(want)}`).toContainEqual(typeof want === "string" ? want : expect.stringMatching(want));
  return { missing: unannounced(real, planned), plan: a.r.plan, real };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
afterAll(() => nock.enableNetConnect());

// Concurrent: each scenario has its own two fakes, and much of a reconcile is waiting on them.
describe.concurrent("dry run against GitHub (R18)", () => {
  for (const s of SCENARIOS) {
    it(s.name, async () => {
      const { missing, plan, real } = await unannouncedIntents(s);
      expect(missing, `plan:\n${plan.join("\n")}\n\nreal run:\n${real.join("\n")}`).toEqual([]);
    });
  }
});

describe("dry run of a Work trigger", () => {
  it("a Work trigger as a dry run performs nothing and says so", async () => {
    const a = await run(WORK, true);
    expectNothingDone(a);
    expect(a.r.plan).toContain("would perform attempt 1 (key key-1-1) of task 1");
  });
});
